"""Records nobody can forge. The gate counts a `test.evidence` record from the ledger only when the token
of a CI job of this repository, one that ran on the commit the record names, signed exactly that record
(kr-ap-sop `tests.attestation`: required for grades 1–2); and a PIR, or the incident an emergency change
answers for, only when the platform's signature shows who wrote it (`approvals.attestation`), before the
role checks read that name; a deployment whose start a deploying job signed is closed only by a result a
job of this repository on the deployed commit signed (the lock, the gate and the audit read it so).
Through the real CLI, against a real OIDC issuer on 127.0.0.1 (adapters.localissuer) or the pinned key of
the acceptance world.

The attacker is a developer with write access: they can push records to the ledger, run jobs of their
own branch (whose tokens the platform signs, naming that branch's commit), set any variable in such a job,
copy a genuine record's token and mint tokens with keys of their own.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.adapters.localissuer import LocalIssuer, SigningKey, github_claims
from gatekeeper.domain.attestation import audience, digest_of
from gatekeeper.ledger import Draft
from tests import acceptance as cases
from tests.acceptance import junit
from tests.adversarial.conftest import Recorder
from tests.adversarial.test_attested_approvals import NOW, RFC, World
from tests.adversarial.test_reviews import OWING, TUESDAY_10
from tests.helpers import GitRepo, git, pipeline_job, run_cli
from tests.platform.oidc import REPOSITORY, Jobs, gitlab_job

SYSTEM = "minwon-portal"


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(clock=lambda: NOW) as running:
        yield running


PASSING = {"tests": 10, "passed": 10, "failed": 0, "errors": 0, "skipped": 0}


def _record(
    world: World, kind: str, commit: str, job: dict[str, str], *, tests: int = 10, failed: int = 0
) -> Any:
    """`evidence add` of a `kind` report (`tests` run, `failed` of them failing) in the CI job `job`."""
    report = world.repo.path / "reports" / f"{kind}.xml"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(junit(tests=tests, failed=failed), encoding="utf-8")
    result = run_cli(
        ["evidence", "add", "--kind", kind, str(report.relative_to(world.repo.path))],
        cwd=world.repo.path,
        env=job,
        now=NOW,
    )
    report.unlink()  # the gate's own workspace holds no reports: what counts is the ledger's
    assert result.code == 0, result.stdout + result.stderr
    return result


def _test_findings(world: World) -> dict[str, list[str]]:
    code, body = world.gate(world.jobs.github("han"))
    assert code in (0, 1)
    found: dict[str, list[str]] = {}
    for finding in body["findings"]:
        if finding["rule"].startswith("tests."):
            found.setdefault(finding["rule"], []).append(finding["message"])
    return found


def _evidence_records(world: World) -> list[dict[str, Any]]:
    return [r for r in world.records() if r["kind"] == "test.evidence"]


def _job_on(world: World, commit: str, who: str = "ci") -> dict[str, str]:
    return Jobs(world.issuer, world.jobs.workdir, commit).github(who)


def test_evidence_signed_by_the_test_job_of_the_deployed_commit_counts(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    head = world.repo.head()
    for kind in ("unit", "integration"):
        _record(world, kind, head, _job_on(world, head))
    assert all(r["data"]["attestation"]["provider"] == "github" for r in _evidence_records(world))
    assert _test_findings(world) == {}
    reliability.row(
        "the test job of the deployed commit records unit and integration reports with `evidence add`, its "
        "token signing each record",
        "none (the honest path)",
        "counted: no tests.* finding at the gate of that commit",
    )


def test_evidence_appended_to_the_ledger_without_a_signature_does_not_count(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    head = world.repo.head()
    for kind in ("unit", "integration"):
        data = {"kind": kind, "commit": head, "totals": PASSING, "source": "workspace"}
        world.append(Draft("test.evidence", SYSTEM, "ci", "github-actions", NOW, data, (RFC,)))
    found = _test_findings(world)
    assert set(found) == {"tests.stale"}, found
    assert all(
        "no CI job of this repository that ran on this commit signed it" in m for m in found["tests.stale"]
    )
    reliability.row(
        "a developer who can push the ledger appends well-formed passing unit and integration records for "
        "the deployed commit (claiming to be from the deploy job's workspace)",
        "forged ledger record (test evidence)",
        "not counted: tests.stale (no CI job on the commit signed it), the gate blocks",
    )


def test_evidence_written_by_a_job_of_another_commit_does_not_count(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    head = world.repo.head()
    branch = world.repo.commit(f"{RFC} experiment", allow_empty=True)
    git(world.repo.path, "reset", "-q", "--hard", head)
    for kind in ("unit", "integration"):
        # A job of the developer's branch: the platform's token names the branch's commit; a shell step
        # sets GITHUB_SHA so that the record names the commit to be deployed.
        job = {**_job_on(world, branch, "dev"), "GITHUB_SHA": head}
        _record(world, kind, head, job)
    records = _evidence_records(world)
    assert [r["data"]["commit"] for r in records] == [head, head] and all(
        "attestation" in r["data"] for r in records
    )
    found = _test_findings(world)
    assert set(found) == {"tests.stale"}, found
    verify = run_cli(["--format", "json", "ledger", "verify", "--attestations"], cwd=world.repo.path, now=NOW)
    results = [r["result"] for r in json.loads(verify.stdout)["records"]]
    assert verify.code == 1 and all("sha" in r for r in results), results
    reliability.row(
        "a job of the developer's own branch, with GITHUB_SHA set to the deployed commit, records passing "
        "reports naming that commit; the platform signs its token with the branch's commit",
        "evidence for a commit the job did not run on",
        "not counted (the token's sha is another commit): tests.stale; ledger verify --attestations exit 1",
    )


def test_a_genuine_records_token_copied_onto_better_counts_does_not_count(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    head = world.repo.head()
    _record(world, "unit", head, _job_on(world, head))
    _record(world, "integration", head, _job_on(world, head), tests=10, failed=4)
    genuine = _evidence_records(world)[-1]
    assert genuine["data"]["totals"]["failed"] == 4
    # The same record with the failures removed, carrying the genuine record's signature.
    forged = dict(genuine["data"], totals=PASSING)
    world.append(Draft("test.evidence", SYSTEM, "ci", "github-actions", NOW, forged, (RFC,)))
    found = _test_findings(world)
    assert "tests.failed" in found, found  # the genuine failing report still speaks
    verify = run_cli(["--format", "json", "ledger", "verify", "--attestations"], cwd=world.repo.path, now=NOW)
    results = [r["result"] for r in json.loads(verify.stdout)["records"]]
    assert results[:2] == ["signed", "signed"] and "digest differs" in results[2], results
    reliability.row(
        "a developer copies the signature of the test job's failing integration record onto a record "
        "saying all passed",
        "replayed token on altered counts",
        "not counted (the token's audience is another record's digest); the genuine failure blocks "
        "(tests.failed)",
    )


def test_evidence_signed_with_the_developers_own_key_does_not_count(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    head = world.repo.head()
    own = SigningKey.generate("local-1")  # the issuer's key id, a key of the developer's own
    for kind in ("unit", "integration"):
        data = {"kind": kind, "commit": head, "totals": PASSING}
        draft = Draft("test.evidence", SYSTEM, "ci", "github-actions", NOW, data, (RFC,))
        digest = digest_of(draft)
        claims = github_claims(REPOSITORY, "ci", sha=head)
        token = issuer.mint(claims, audience(digest), key=own)
        signed = {"provider": "github", "token": token, "jwk": own.jwk, "digest": digest}
        world.append(dataclasses.replace(draft, data={**data, "attestation": signed}))
    found = _test_findings(world)
    assert set(found) == {"tests.stale"}, found
    verify = run_cli(["--format", "json", "ledger", "verify", "--attestations"], cwd=world.repo.path, now=NOW)
    results = [r["result"] for r in json.loads(verify.stdout)["records"]]
    assert verify.code == 1 and all("is not one" in r for r in results), results  # the key, not the digest
    reliability.row(
        "a developer signs passing evidence records with a key of their own under the issuer's key id",
        "self-minted token",
        "not counted (the key is not one the issuer publishes): tests.stale",
    )


def test_a_gitlab_jobs_token_vouches_for_one_report_of_each_kind(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    head = world.repo.head()
    job = Jobs(issuer, world.jobs.workdir, head).gitlab("ci")
    _record(world, "unit", head, job)
    _record(world, "integration", head, job, tests=10, failed=4)
    genuine = _evidence_records(world)[-1]
    # GitLab's token is not bound to one record: the developer copies it onto a passing record, with the
    # digest of that record written in.
    forged = dict(genuine["data"], totals=PASSING)
    draft = Draft("test.evidence", SYSTEM, "ci", "gitlab-ci", NOW, forged, (RFC,))
    token = {**genuine["data"]["attestation"], "digest": digest_of(draft)}
    world.append(dataclasses.replace(draft, data={**forged, "attestation": token}))
    found = _test_findings(world)
    assert "tests.failed" in found, found
    verify = run_cli(["--format", "json", "ledger", "verify", "--attestations"], cwd=world.repo.path, now=NOW)
    results = [r["result"] for r in json.loads(verify.stdout)["records"]]
    assert results[:2] == ["signed", "signed"] and "already vouched" in results[2], results
    reliability.row(
        "a developer copies a GitLab job's ID token (not bound to one record) from its failing integration "
        "record onto a passing one, with that record's digest",
        "replayed GitLab token",
        "not counted (a job's token vouches for one report of each kind per commit); the genuine failure "
        "blocks; ledger verify --attestations names the copy",
    )


# ------------------------------------------------------------------ PIRs and incidents (a person's word)


def _rules_at(repo: GitRepo, at: datetime) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for finding in cases.gate(repo, at)[1]["findings"]:
        found.setdefault(finding["rule"], []).append(finding["message"])
    return found


def test_a_pir_in_a_cab_members_name_settles_nothing_unless_the_platform_signed_it(
    repo: GitRepo, reliability: Recorder
) -> None:
    forged = {"kind": "pir", "actor": "kim", "signed": False, "rfcs": ["RFC-2026-0041"]}
    at, _ = cases.build(
        repo, {**OWING, "records": [*OWING["records"], {**forged, "data": {"result": "achieved"}}]}
    )
    overdue = _rules_at(repo, at).get("deploy.pir-overdue", [])
    assert overdue and "no verified signature of the CI platform" in overdue[0], overdue
    # The developer's pipeline job without a token: `pir` refuses to write what would count for nothing.
    plain = run_cli(
        ["pir", "RFC-2026-0041", "--result", "achieved"], cwd=repo.path, env=pipeline_job(repo, "kim"), now=at
    )
    assert plain.code == 2 and "cannot sign it" in plain.stderr and "Traceback" not in plain.stderr
    # kim's own pipeline job, whose token signs the record: the debt is settled.
    signed = run_cli(
        ["pir", "RFC-2026-0041", "--result", "achieved"],
        cwd=repo.path,
        env=gitlab_job(repo.head(), "kim", at),
        now=at,
    )
    assert signed.code == 0, signed.stderr
    assert "deploy.pir-overdue" not in _rules_at(repo, at)
    reliability.row(
        "a PIR naming a CAB member appended to the ledger unsigned; `pir` run as the CAB member in a job "
        "without an ID token",
        "forged record (a person's decision)",
        "block: deploy.pir-overdue (no verified signature); the job without a token is refused, exit 2, "
        "nothing written; the CAB member's signed PIR settles the debt",
    )


def test_an_emergency_cannot_rest_on_an_incident_nobody_signed(tmp_path: Path, reliability: Recorder) -> None:
    incident = {
        "kind": "incident.opened",
        "actor": "han",
        "rfcs": [],
        "data": {
            "incident_id": "INC-2026-0007",
            "type": "service-outage",
            "title": "신청 화면 오류",
            "grade": 1,
        },
    }
    emergency = {"at": TUESDAY_10, "rfc": {"type": "emergency", "incident": "INC-2026-0007"}, "approvals": []}
    repo = GitRepo.create(tmp_path / "unsigned")
    at, _ = cases.build(repo, {**emergency, "records": [{**incident, "signed": False}]})
    unknown = _rules_at(repo, at).get("emergency.incident-unknown", [])
    assert unknown and "no verified signature" in unknown[0], unknown
    # The same incident naming a failed deployment it was opened for: `deploy finish` writes such records,
    # signed; a copy without the signature does not borrow that trust.
    failed = [
        {"kind": "deployment.started", "hours_ago": 2, "rfcs": ["RFC-2026-0040"]},
        {
            "kind": "deployment.finished",
            "hours_ago": 1.5,
            "closes": 0,
            "rfcs": ["RFC-2026-0040"],
            "data": {"result": "failure"},
        },
        {**incident, "deployment": 0, "signed": False},
    ]
    repo = GitRepo.create(tmp_path / "after-a-failure")
    at, _ = cases.build(repo, {**emergency, "records": failed})
    assert "emergency.incident-unknown" in _rules_at(repo, at)
    # Opened by the operator manager in their pipeline job: signed, it stands for the emergency.
    repo = GitRepo.create(tmp_path / "signed")
    at, _ = cases.build(repo, emergency)
    opened = run_cli(
        [
            "incident",
            "open",
            "--id",
            "INC-2026-0007",
            "--title",
            "신청 화면 오류",
            "--symptom",
            "500 오류",
            "--scope",
            "전국",
            "--impact",
            "신청 불가",
        ],
        cwd=repo.path,
        env=gitlab_job(repo.head(), "han", at - timedelta(minutes=20)),
        now=at - timedelta(minutes=20),
    )
    assert opened.code == 0 and "warning" not in opened.stderr, opened.stderr
    assert "emergency.incident-unknown" not in _rules_at(repo, at)
    unsigned = run_cli(
        [
            "incident",
            "open",
            "--id",
            "INC-2026-0009",
            "--title",
            "로그인 오류",
            "--symptom",
            "500 오류",
            "--scope",
            "전국",
            "--impact",
            "로그인 불가",
        ],
        cwd=repo.path,
        env=pipeline_job(repo, "han"),
        now=at,
    )
    assert unsigned.code == 0 and "no emergency change can answer for it" in unsigned.stderr
    reliability.row(
        "an incident in the operator manager's name appended unsigned (also naming a failed deployment), for "
        "an emergency fix at Tuesday 10:00",
        "forged record (the incident an emergency answers for)",
        "block: emergency.incident-unknown (no verified signature); an incident opened without a token is "
        "recorded all the same, with a warning that no emergency can answer for it",
    )


def test_only_the_agency_officer_tells_the_related_agencies(repo: GitRepo, reliability: Recorder) -> None:
    rfc = {"impact": {"agencies": ["행정안전부"], "integrations": ["gov24-api"]}}
    forged = {
        "kind": "notice",
        "actor": "kim",
        "signed": False,
        "hours_ago": 30,
        "data": {"to": ["행정안전부"]},
    }
    at, _ = cases.build(repo, {"rfc": rfc, "records": [forged]})
    missing = _rules_at(repo, at).get("integration.notice-missing", [])
    assert missing and "no verified signature" in missing[0], missing

    def notice(env: dict[str, str], lang: str = "en") -> Any:
        return run_cli(
            ["--lang", lang, "notice", cases.RFC_ID, "--to", "행정안전부"], cwd=repo.path, env=env, now=at
        )

    by_developer = notice(gitlab_job(repo.head(), "dev", at))
    assert by_developer.code == 2 and "roles that notify" in by_developer.stderr
    assert "공지 역할" in notice(gitlab_job(repo.head(), "dev", at), "ko").stderr
    unsigned = notice(pipeline_job(repo, "kim"))
    assert (
        unsigned.code == 2
        and "no verified signature" in unsigned.stderr
        and "Traceback" not in unsigned.stderr
    )
    assert "integration.notice-missing" in _rules_at(repo, at)  # nothing was written by either
    assert notice(gitlab_job(repo.head(), "kim", at)).code == 0
    assert "integration.notice-missing" not in _rules_at(repo, at)
    reliability.row(
        "a notice in the agency officer's name appended unsigned; `notice` run by the developer, and by the "
        "officer in a job without an ID token",
        "forged record (the prior notice)",
        "block: integration.notice-missing says why the notice does not count; both commands exit 2 and "
        "write nothing; the officer's signed notice tells the agency",
    )


def test_an_unsigned_copy_of_a_signed_pir_does_not_undo_it(repo: GitRepo, reliability: Recorder) -> None:
    pir = {"kind": "pir", "actor": "kim", "rfcs": ["RFC-2026-0041"], "data": {"result": "achieved"}}
    records = [*OWING["records"], {**pir, "hours_ago": 200}, {**pir, "hours_ago": 100, "signed": False}]
    at, _ = cases.build(repo, {**OWING, "records": records})
    assert "deploy.pir-overdue" not in _rules_at(repo, at)
    reliability.row(
        "after the CAB member's signed PIR, an unsigned copy of it (same author, same result) appended later",
        "forged record (to undo a settled debt)",
        "the signed PIR still settles the debt: the history keeps the latest PIR of each kind, its signature "
        "part of the kind",
    )


# ------------------------------------------------------------------------------ deployments


def _ledger_records(repo: GitRepo) -> list[dict[str, Any]]:
    result = run_cli(["--format", "json", "ledger", "log"], cwd=repo.path)
    assert result.code == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def _append(repo: GitRepo, draft: Draft) -> None:
    from gatekeeper.config import load_config
    from gatekeeper.ledger.backends import open_ledger

    ledger = open_ledger(load_config(repo.path / ".gatekeeper.yml"), repo.path, {})
    try:
        ledger.append(draft)
    finally:
        ledger.close()


def _deployed(repo: GitRepo, at: datetime, head: str) -> str:
    """`deploy start` in the GitLab deploy job of `head`, run by `ci`: the id of its signed start."""
    started = run_cli(
        ["--format", "json", "deploy", "start", "--rfc", cases.RFC_ID],
        cwd=repo.path,
        env=gitlab_job(head, "ci", at),
        now=at,
    )
    assert started.code == 0, started.stdout + started.stderr
    ident: str = json.loads(started.stdout)["deployment_id"]
    record = next(r for r in _ledger_records(repo) if r["id"] == ident)
    assert record["data"]["attestation"]["provider"] == "gitlab"
    return ident


def _job_finish(repo: GitRepo, ident: str, head: str, result: str, moment: datetime) -> None:
    """`deploy finish` of `ident` with `result` in the GitLab deploy job of `head`, at `moment`."""
    done = run_cli(
        ["deploy", "finish", ident, "--result", result],
        cwd=repo.path,
        env=gitlab_job(head, "ci", moment),
        now=moment,
    )
    assert done.code == 0, done.stdout + done.stderr


def _finish(ident: str, result: str = "success") -> dict[str, Any]:
    return {"started": ident, "result": result, "environment": "production", "change_type": "normal"}


def _second_start(repo: GitRepo, at: datetime, head: str) -> Any:
    return run_cli(
        ["deploy", "start", "--rfc", cases.RFC_ID],
        cwd=repo.path,
        env=gitlab_job(head, "ci", at),
        now=at,
    )


def test_a_forged_result_does_not_release_anothers_deployment_lock(
    tmp_path: Path, reliability: Recorder
) -> None:
    other = "e" * 40
    forgeries = {
        "appended unsigned": lambda ident, head, at: Draft(
            "deployment.finished", SYSTEM, "ci", "gitlab-ci", at, _finish(ident), (cases.RFC_ID,)
        ),
        "signed by a job of the developer's own branch (another commit)": lambda ident, head, at: (
            _gitlab_signed(
                Draft("deployment.finished", SYSTEM, "dev", "gitlab-ci", at, _finish(ident), (cases.RFC_ID,)),
                gitlab_job(other, "dev", at),
            )
        ),
        "signed by a job of another repository (a fork, on the deployed commit)": lambda ident, head, at: (
            _gitlab_signed(
                Draft("deployment.finished", SYSTEM, "dev", "gitlab-ci", at, _finish(ident), (cases.RFC_ID,)),
                gitlab_job(head, "dev", at, project_path="dev/minwon-portal"),
            )
        ),
    }
    for name, forge in forgeries.items():
        repo = GitRepo.create(tmp_path / str(len(list(tmp_path.iterdir()))))
        at, head = cases.build(repo, {})
        ident = _deployed(repo, at, head)
        later = at + timedelta(minutes=10)
        _append(repo, forge(ident, head, later))
        again = _second_start(repo, later + timedelta(minutes=1), head)
        assert again.code == 1 and "deploy.concurrent" in again.stdout, (name, again.stdout, again.stderr)
        assert _locked(repo, later), name  # the lock's own precondition, inside the ledger's critical section
        rules = _rules_at(repo, later + timedelta(minutes=1))
        assert "deploy.concurrent" in rules and "deploy.unattested" in rules, (name, rules)
        # The deploying job's own result, on the deployed commit, releases it.
        _job_finish(repo, ident, head, "success", later + timedelta(minutes=2))
        assert "deploy.concurrent" not in _rules_at(repo, later + timedelta(minutes=3)), name
    reliability.row(
        "while a signed deployment of the system is open, a `success` result naming it is appended: "
        + "; ".join(forgeries),
        "forged ledger record (deployment.finished)",
        "not counted: `deploy start` is refused by the lock (exit 1), the gate blocks with deploy.concurrent "
        "and deploy.unattested (the result was ignored); the deploying job's own signed result releases it",
    )


def _locked(repo: GitRepo, at: datetime) -> bool:
    """Whether production's lock is held, as `deploy start`'s precondition reads it (grade 1: signatures
    required)."""
    from gatekeeper.adapters.oidc import Attestor
    from gatekeeper.config import load_config
    from gatekeeper.ledger.backends import open_ledger
    from gatekeeper.ledger.lock import open_deployments

    config = load_config(repo.path / ".gatekeeper.yml")
    ledger = open_ledger(config, repo.path, {})
    try:
        attest = Attestor(config, repo.path, {}, at, ledger=ledger)
        return bool(open_deployments(ledger, SYSTEM, "production", attest=attest))
    finally:
        ledger.close()


def _gitlab_signed(draft: Draft, job: dict[str, str]) -> Draft:
    """`draft` carrying the GitLab job's token as `adapters.oidc.sign_record` stores it."""
    import jwt

    from tests.platform.oidc import pinned_key

    token = job["GATEKEEPER_ID_TOKEN"]
    claims = jwt.decode(token, options={"verify_signature": False})
    signature = {
        "provider": "gitlab",
        "token": token,
        "jwk": pinned_key().jwk,
        "digest": digest_of(draft),
        "jti": claims["jti"],
        "job_id": claims["job_id"],
    }
    return dataclasses.replace(draft, data={**draft.data, "attestation": signature})


def _forged_then_real(tmp_path: Path, forged: str, real: str, days: int) -> tuple[GitRepo, dict[str, Any]]:
    """A signed deployment whose result `forged` is appended unsigned before the deploying job records
    `real`; the audit's items `days` later."""
    repo = GitRepo.create(tmp_path / "repo")
    at, head = cases.build(repo, {})
    ident = _deployed(repo, at, head)
    moment = at + timedelta(minutes=5)
    _append(
        repo,
        Draft(
            "deployment.finished", SYSTEM, "ci", "gitlab-ci", moment, _finish(ident, forged), (cases.RFC_ID,)
        ),
    )
    _job_finish(repo, ident, head, real, at + timedelta(minutes=10))
    audit = run_cli(["--format", "json", "audit"], cwd=repo.path, now=at + timedelta(days=days))
    assert audit.code in (0, 1), audit.stderr
    return repo, {item["id"]: item for item in json.loads(audit.stdout)["items"]}


def test_a_forged_success_does_not_hide_a_failed_deployment(tmp_path: Path, reliability: Recorder) -> None:
    repo, items = _forged_then_real(tmp_path, "success", "failure", 1)
    integrity = items["configuration.ledger-integrity"]
    assert integrity["result"] == "nonconform", integrity
    forged_seq = next(r["seq"] for r in _ledger_records(repo) if r["kind"] == "deployment.finished")
    assert f"seq:{forged_seq}" in integrity["evidence"], integrity
    # The failure counts: it opened its incident, and the release owes no closure (it never succeeded).
    assert items["release.failure-incident"]["result"] == "conform", items["release.failure-incident"]
    assert items["release.closure"]["result"] == "not-applicable", items["release.closure"]
    reliability.row(
        "a signed deployment fails; before the deploy job records `failure`, a `success` result naming it "
        "is appended unsigned",
        "forged ledger record (deployment.finished hiding a failure)",
        "not counted: the job's `failure` closes the deployment (incident opened, no closure owed); the "
        "audit files the forged result as a nonconformity of the ledger's integrity",
    )


def test_a_forged_success_counts_in_no_kpi(tmp_path: Path, reliability: Recorder) -> None:
    """The KPIs pair deployments as the gate does (`History.deployment_counts`): the forged success of a
    signed deployment that failed counts neither as a deployment nor as a success."""
    repo, _ = _forged_then_real(tmp_path, "success", "failure", 1)
    at = datetime.fromisoformat(_ledger_records(repo)[-1]["at"]) + timedelta(days=1)
    for system in ([], ["--system", "all"]):
        found = run_cli(["--format", "json", "kpi", *system], cwd=repo.path, now=at)
        assert found.code in (0, 1), found.stderr  # 1: a KPI is not met
        body = json.loads(found.stdout)
        kpis = body["kpis"] if "kpis" in body else body["systems"][0]["kpis"]
        success = next(k for k in kpis if k["id"] == "deployment-success-rate")
        assert (success["numerator"], success["denominator"]) == (0, 1), success
    reliability.row(
        "a signed deployment fails; a `success` result naming it is appended unsigned first",
        "forged ledger record (deployment.finished inflating the KPIs)",
        "not counted in `kpi` nor `kpi --system all`: one deployment, no success (success rate 0/1)",
    )


def test_a_gitlab_deploy_jobs_token_vouches_for_its_own_deployment_only(
    tmp_path: Path, reliability: Recorder
) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    at, head = cases.build(repo, {})
    first = _deployed(repo, at, head)
    started = next(r for r in _ledger_records(repo) if r["id"] == first)
    token = started["data"]["attestation"]["token"]
    job = {"GATEKEEPER_ID_TOKEN": token}
    # The job's own result, then the same token copied onto a second start and onto a PIR in its name.
    _job_finish(repo, first, head, "success", at + timedelta(minutes=1))
    moment = at + timedelta(minutes=2)
    second = Draft(
        "deployment.started",
        SYSTEM,
        "ci",
        "gitlab-ci",
        moment,
        {"environment": "production", "change_type": "normal", "commit": head},
        (cases.RFC_ID,),
    )
    _append(repo, _gitlab_signed(second, job))
    pir = Draft("pir", SYSTEM, "ci", "gitlab-ci", moment, {"result": "achieved"}, (cases.RFC_ID,))
    _append(repo, _gitlab_signed(pir, job))
    verified = run_cli(
        ["--format", "json", "ledger", "verify", "--attestations"], cwd=repo.path, now=moment, env={}
    )
    rows = {row["seq"]: row["result"] for row in json.loads(verified.stdout)["records"]}
    records = _ledger_records(repo)
    copies = [r["seq"] for r in records[-2:]]
    assert all("already vouched" in rows[seq] or "deploying job's" in rows[seq] for seq in copies), rows
    assert rows[started["seq"]] == "signed", rows
    # A start only binds: the copy holds the lock like any start (it can block, never allow).
    assert "deploy.concurrent" in _rules_at(repo, moment + timedelta(minutes=1))
    reliability.row(
        "a GitLab deploy job's token (it signs the job's start, result and incident) copied from the ledger "
        "onto a second deployment's start and onto a PIR in the job user's name",
        "replayed token (GitLab: one record per token)",
        "not counted: `ledger verify --attestations` names both copies; the copied start only binds (it "
        "holds the lock), the PIR settles nothing",
    )


def test_deployments_recorded_before_signing_release_their_lock_but_count_as_no_result(
    tmp_path: Path, reliability: Recorder
) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    at, head = cases.build(
        repo,
        {
            "records": [
                {"kind": "deployment.started", "hours_ago": 30, "signed": False, "rfcs": ["RFC-2026-0041"]},
                {
                    "kind": "deployment.finished",
                    "hours_ago": 29,
                    "closes": 0,
                    "signed": False,
                    "rfcs": ["RFC-2026-0041"],
                    "data": {"result": "success"},
                },
            ]
        },
    )
    _deployed(repo, at, head)  # the lock of the earlier, unsigned deployment was released by its result
    earlier = next(r["seq"] for r in _ledger_records(repo) if r["kind"] == "deployment.finished")
    audit = run_cli(["--format", "json", "audit"], cwd=repo.path, now=at + timedelta(hours=1))
    items = {item["id"]: item for item in json.loads(audit.stdout)["items"]}
    remarks = " ".join(items["change.history-recorded"].get("remarks", []))
    assert "carry no CI signature" in remarks, items["change.history-recorded"]  # the start binds
    integrity = items["configuration.ledger-integrity"]
    assert integrity["result"] == "nonconform" and f"seq:{earlier}" in integrity["evidence"], integrity
    text = run_cli(["audit"], cwd=repo.path, now=at + timedelta(hours=1)).stdout
    assert "result unverified" in text, text
    reliability.row(
        "grade 1: a ledger whose earlier deployment was recorded unsigned (an earlier version, a job without "
        "an ID token), then a signed one",
        "legacy records",
        "the unsigned start bound and its result released the lock, but the result counts as no success, "
        "failure or abort: the audit files it as a nonconformity of the ledger's integrity",
    )


def test_a_forged_result_explains_no_deployed_artefact(tmp_path: Path, reliability: Recorder) -> None:
    from gatekeeper.adapters.oidc import Attestor
    from gatekeeper.config import load_config
    from gatekeeper.facts.baseline import deployment_results
    from gatekeeper.ledger.backends import open_ledger

    digest = "sha256:" + "b" * 64
    forged = {"result": "success", "artifacts": {"app.whl": digest}}
    records = [
        {"kind": "deployment.started", "hours_ago": 3, "rfcs": ["RFC-2026-0041"]},
        {"kind": "deployment.finished", "hours_ago": 2, "closes": 0, "signed": False, "data": forged},
        {"kind": "deployment.started", "hours_ago": 1.5, "rfcs": ["RFC-2026-0041"]},
        {"kind": "deployment.finished", "hours_ago": 1, "closes": 2, "data": {"result": "success"}},
    ]
    repo = GitRepo.create(tmp_path / "repo")
    at, _ = cases.build(repo, {"records": records})
    config = load_config(repo.path / ".gatekeeper.yml")
    ledger = open_ledger(config, repo.path, {})
    try:
        attest = Attestor(config, repo.path, {}, at, ledger=ledger)
        counted = deployment_results(ledger, SYSTEM, attest, "required")
        everything = deployment_results(ledger, SYSTEM, None, "off")
    finally:
        ledger.close()
    assert [r.data.get("artifacts") for r in counted] == [None], counted  # the signed result only
    assert len(everything) == 2
    reliability.row(
        "a result naming a new artefact digest appended unsigned for a signed deployment (to explain an "
        "artefact changed outside the process in `baseline verify`, the gate and the audit)",
        "forged ledger record (deployment.finished with artifacts)",
        "not counted: only results the deploying job signed explain a deployed artefact",
    )


def test_a_forged_abort_does_not_hide_a_successful_deployments_debts(
    tmp_path: Path, reliability: Recorder
) -> None:
    _, items = _forged_then_real(tmp_path, "aborted", "success", 40)
    acceptance = items["release.acceptance"]
    assert acceptance["result"] == "nonconform", acceptance  # the success owes its acceptance, overdue
    reliability.row(
        "a signed deployment succeeds; before the deploy job records `success`, an `aborted` result naming "
        "it is appended unsigned (an aborted deployment owes no acceptance, closure or PIR)",
        "forged ledger record (deployment.finished hiding debts)",
        "not counted: the job's `success` closes the deployment, whose acceptance is overdue in the audit",
    )


# A deployment nobody is shown to have started: its start carries no signature that verifies (appended by
# hand, a job without an ID token, another repository's job, a key the issuer no longer publishes).
_SIGNED_PAIR = [
    {"kind": "deployment.started", "hours_ago": 30},
    {"kind": "deployment.finished", "hours_ago": 29, "closes": 0, "data": {"result": "success"}},
]
_UNVERIFIED_STARTS = {
    "appended unsigned": {"signed": False},
    "signed by a job of another repository": {"claims": {"repository": "dev/minwon-portal"}},
}


def _unsigned_pair(start: dict[str, Any], hours_ago: float = 5, **data: Any) -> list[dict[str, Any]]:
    """An unverified start (`start`: how it is signed, if at all) and its success appended unsigned, after
    the two records of `_SIGNED_PAIR`."""
    return [
        {"kind": "deployment.started", "hours_ago": hours_ago, **start},
        {
            "kind": "deployment.finished",
            "hours_ago": hours_ago - 1,
            "closes": 2,
            "signed": False,
            "data": {"result": "success", **data},
        },
    ]


def _kpi(repo: GitRepo, at: datetime, *extra: str) -> dict[str, Any]:
    found = run_cli(["--format", "json", "kpi", *extra], cwd=repo.path, now=at)
    assert found.code in (0, 1), found.stderr  # 1: a KPI is not met
    body: dict[str, Any] = json.loads(found.stdout)
    return body


def _rate(body: dict[str, Any], kpi: str) -> tuple[int, int]:
    kpis = body["kpis"] if "kpis" in body else body["systems"][0]["kpis"]
    found = next(k for k in kpis if k["id"] == kpi)
    return found["numerator"], found["denominator"]


def test_a_deployment_nobody_is_shown_to_have_started_counts_as_no_success(
    tmp_path: Path, reliability: Recorder
) -> None:
    for name, start in _UNVERIFIED_STARTS.items():
        repo = GitRepo.create(tmp_path / str(len(list(tmp_path.iterdir()))))
        at, _ = cases.build(repo, {"records": [*_SIGNED_PAIR, *_unsigned_pair(start)]})
        forged = [r for r in _ledger_records(repo) if r["kind"] == "deployment.finished"][-1]["seq"]
        # The genuine signed deployment counts; the forged one neither as a deployment nor as a success.
        body = _kpi(repo, at)
        assert _rate(body, "deployment-success-rate") == (1, 1), (name, body["kpis"])
        assert _rate(_kpi(repo, at, "--system", "all"), "deployment-success-rate") == (1, 1), name
        unverified = {u["seq"]: u for u in body["unverified"]}
        assert forged in unverified and unverified[forged]["reason_ko"], (name, body["unverified"])
        text = run_cli(["kpi"], cwd=repo.path, now=at)
        assert f"seq {forged}" in text.stdout, (name, text.stdout)
        # The audit files the result as a nonconformity of the ledger's integrity.
        audit = run_cli(["--format", "json", "audit"], cwd=repo.path, now=at)
        items = {item["id"]: item for item in json.loads(audit.stdout)["items"]}
        integrity = items["configuration.ledger-integrity"]
        assert integrity["result"] == "nonconform" and f"seq:{forged}" in integrity["evidence"], (name, items)
    reliability.row(
        "grade 1: a `deployment.started` and its `success` appended to the ledger without a signature that "
        "verifies (" + "; ".join(_UNVERIFIED_STARTS) + "), next to a genuine signed deployment",
        "forged ledger records (deployment.started + deployment.finished inflating the KPIs)",
        "not counted: `kpi` and `kpi --system all` count the signed deployment only (success rate 1/1) and "
        "list the forged result as unverified with its reason; the audit files it as a nonconformity of "
        "the ledger's integrity",
    )


def test_a_deployment_nobody_is_shown_to_have_started_restores_no_service(
    tmp_path: Path, reliability: Recorder
) -> None:
    """A successful deployment resolves the incidents the environment's failed deployments opened (service
    restored): one appended by hand would end a grade-1 incident before its intermediate report is due."""
    failed = [
        {"kind": "deployment.started", "hours_ago": 2},
        {"kind": "deployment.finished", "hours_ago": 1.95, "closes": 0, "data": {"result": "failure"}},
        {
            "kind": "incident.opened",
            "hours_ago": 1.95,
            "deployment": 0,
            "actor": "han",
            "data": {
                "incident_id": "INC-2026-0031",
                "type": "service-outage",
                "title": "배포 실패",
                "grade": 1,
            },
        },
    ]
    for name, start in _UNVERIFIED_STARTS.items():
        repo = GitRepo.create(tmp_path / str(len(list(tmp_path.iterdir()))))
        forged = [
            {"kind": "deployment.started", "hours_ago": 1.93, **start},
            {
                "kind": "deployment.finished",
                "hours_ago": 1.9,
                "closes": 3,
                "signed": False,
                "data": {"result": "success"},
            },
        ]
        at, _ = cases.build(repo, {"records": [*failed, *forged]})
        rules = _rules_at(repo, at)
        assert "incident.report-missing" in rules, (name, rules)
    reliability.row(
        "grade 1: a signed deployment fails and opens a grade-1 incident; three minutes later a "
        "`deployment.started` and its `success` are appended without a signature that verifies (to end the "
        "incident before its intermediate report is due)",
        "forged ledger records (deployment.finished restoring service)",
        "not counted: the incident stays unresolved and the gate reports incident.report-missing",
    )


def test_a_deployment_nobody_is_shown_to_have_started_explains_no_deployed_artefact(
    tmp_path: Path, reliability: Recorder
) -> None:
    from gatekeeper.adapters.oidc import Attestor
    from gatekeeper.config import load_config
    from gatekeeper.facts.baseline import deployment_results
    from gatekeeper.ledger.backends import open_ledger

    digest = "sha256:" + "c" * 64
    for name, start in _UNVERIFIED_STARTS.items():
        repo = GitRepo.create(tmp_path / str(len(list(tmp_path.iterdir()))))
        records = [*_SIGNED_PAIR, *_unsigned_pair(start, artifacts={"app.whl": digest})]
        at, _ = cases.build(repo, {"records": records})
        config = load_config(repo.path / ".gatekeeper.yml")
        ledger = open_ledger(config, repo.path, {})
        try:
            attest = Attestor(config, repo.path, {}, at, ledger=ledger)
            counted = deployment_results(ledger, SYSTEM, attest, "required")
            recommended = deployment_results(
                ledger, SYSTEM, Attestor(config, repo.path, {}, at, ledger=ledger), "recommended"
            )
        finally:
            ledger.close()
        assert [r.data.get("artifacts") for r in counted] == [None], (name, counted)  # the signed result only
        assert len(recommended) == 2, name  # where the pack only recommends signatures: read as before
    reliability.row(
        "grade 1: a `deployment.started` and its `success` naming a new artefact digest appended without a "
        "signature that verifies (to explain an artefact changed outside the process)",
        "forged ledger records (deployment.started + deployment.finished with artifacts)",
        "not counted: only a result the deploying job signed, of a deployment a job signed the start of, "
        "explains a deployed artefact (where the pack only recommends signatures: read as before)",
    )


def test_an_unsigned_abort_of_a_deployment_nobody_is_shown_to_have_started_hides_no_pir(
    tmp_path: Path, reliability: Recorder
) -> None:
    """An aborted deployment changed nothing and owes no PIR: an unverified `aborted` would let a deployment
    that went through without a signed start drop its debt."""
    start, finish = OWING["records"]
    for name, how in _UNVERIFIED_STARTS.items():
        repo = GitRepo.create(tmp_path / str(len(list(tmp_path.iterdir()))))
        records = [{**start, **how}, {**finish, "signed": False, "data": {"result": "aborted"}}]
        at, _ = cases.build(repo, {**OWING, "records": records})
        rules = _rules_at(repo, at)
        assert "deploy.pir-overdue" in rules, (name, rules)
        assert "deploy.concurrent" not in rules, (name, rules)  # its result ended it all the same
    reliability.row(
        "grade 1: a CAB-reviewed deployment whose start no CI job is shown to have signed ("
        + "; ".join(_UNVERIFIED_STARTS)
        + "), closed by an `aborted` result appended unsigned three weeks ago (an aborted deployment owes "
        "no PIR)",
        "forged ledger record (deployment.finished hiding a PIR)",
        "not counted as aborted: the deployment ended (its lock is free) but its result is unverified, so it "
        "owes its PIR and the gate reports deploy.pir-overdue",
    )


def test_where_signatures_are_only_recommended_an_unsigned_deployment_counts_as_before(
    tmp_path: Path, reliability: Recorder
) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    records = [*_SIGNED_PAIR, *_unsigned_pair({"signed": False})]
    at, _ = cases.build(repo, {"system": {"grade": 3}, "records": records})
    body = _kpi(repo, at)
    assert _rate(body, "deployment-success-rate") == (2, 2), body["kpis"]
    assert body["unverified"] == [], body["unverified"]
    audit = run_cli(["--format", "json", "audit"], cwd=repo.path, now=at)
    items = {item["id"]: item for item in json.loads(audit.stdout)["items"]}
    assert items["configuration.ledger-integrity"]["result"] != "nonconform", items
    remarks = " ".join(items["change.history-recorded"].get("remarks", []))
    assert "carry no CI signature" in remarks, items["change.history-recorded"]
    reliability.row(
        "grade 3 (the pack recommends deployment signatures): an unsigned `deployment.started` and its "
        "`success` next to a signed deployment",
        "legacy records",
        "counted by their content as before (success rate 2/2); the audit's remark names them",
    )


def _kpi_entries(plan: list[tuple[str, int, str, str]]) -> list[Any]:
    """Ledger entries from `plan`: (kind, deployment number, result, how signed: "ok", "bad" or "none")."""
    from gatekeeper.domain.records import Entry, parse_payload

    base = datetime(2026, 11, 2, 1, 0, tzinfo=NOW.tzinfo)
    found = []
    for seq, (kind, number, result, how) in enumerate(plan, start=1):
        data: dict[str, Any] = {"environment": "production", "change_type": "normal"}
        if kind == "deployment.finished":
            data.update({"started": f"d{number}", "result": result})
        if how != "none":
            data["attestation"] = {"provider": "github", "token": how}
        payload = parse_payload(kind, data)
        ident = f"d{number}" if kind == "deployment.started" else f"f{seq}"
        moment = base + timedelta(minutes=10 * seq)
        found.append(Entry(seq, ident, kind, SYSTEM, (RFC,), "ci", "github-actions", moment, payload))
    return found


def _success_rate(entries: list[Any]) -> tuple[int, int]:
    from zoneinfo import ZoneInfo

    from gatekeeper.checks.kpi import TallyBuilder, kpi_history

    def attest(entry: Any) -> bool:
        return entry.payload.attestation is not None and entry.payload.attestation["token"] == "ok"

    builder = TallyBuilder(ZoneInfo("Asia/Seoul"))
    builder.history = kpi_history(SYSTEM, attest, "required")
    for entry in entries:
        builder.add(entry)
    tallies = builder.result().values()
    return sum(t.successes for t in tallies), sum(t.deployments for t in tallies)


_RESULTS = st.sampled_from(["success", "failure", "rolled-back", "aborted"])


@given(
    genuine=st.lists(_RESULTS, min_size=1, max_size=6),
    forged=st.lists(
        st.tuples(
            st.sampled_from(["deployment.started", "deployment.finished"]),
            st.integers(0, 11),
            _RESULTS,
            st.sampled_from(["bad", "none", "ok"]),
        ),
        max_size=12,
    ),
    order=st.randoms(use_true_random=False),
)
def test_records_no_job_is_shown_to_have_written_never_raise_the_success_rate(
    genuine: list[str], forged: list[tuple[str, int, str, str]], order: Any, reliability: Recorder
) -> None:
    """Where the pack requires signed deployment records, appending forged ones — unsigned, with a
    signature that does not verify, or a genuinely signed result of a forged start — anywhere in a ledger
    of signed deployments never raises the number of successes nor the success rate."""
    plan = [
        item
        for number, result in enumerate(genuine)
        for item in (("deployment.started", number, "", "ok"), ("deployment.finished", number, result, "ok"))
    ]
    # Forged starts take numbers of their own (6 and above); forged unsigned results name any deployment.
    # A result signed by a job of the repository ("ok") names a forged start only: on a genuine deployment's
    # commit, only its own deploying job signs.
    extra = [
        (kind, number % 6 + 6 if kind == "deployment.started" or how == "ok" else number, result, how)
        for kind, number, result, how in forged
        if kind == "deployment.finished" or how != "ok"
    ]
    mixed = list(plan)
    for item in extra:
        mixed.insert(order.randint(0, len(mixed)), item)
    honest, _ = _success_rate(_kpi_entries(plan))
    successes, deployments = _success_rate(_kpi_entries(mixed))
    assert successes <= honest
    expected = genuine.count("success") / max(1, sum(r != "aborted" for r in genuine))
    assert deployments == 0 or successes / deployments <= expected + 1e-9
    reliability.row(
        "grade 1: forged deployment records (unsigned, a signature that does not verify, a signed result of "
        "a forged start) inserted anywhere in a ledger of signed deployments (property, 30 examples)",
        "forged ledger records (deployment.started / deployment.finished)",
        "the KPIs never count more successes, nor a higher success rate, than the signed deployments give",
    )


def test_after_an_unpinned_key_rotation_a_result_appended_by_hand_counts_as_no_success(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    """A signed deployment's start no longer verifies once the issuer retired its key (no keys_file pins
    it): nothing then shows a job started it, and a result appended by hand must not count by its content."""
    world = World(tmp_path, issuer)
    world.tested(world.repo.head(), "unit")
    world.tested(world.repo.head())
    world.chain()
    started = run_cli(
        ["--format", "json", "deploy", "start", "--rfc", RFC],
        cwd=world.repo.path,
        env=world.jobs.github("han"),
        now=NOW,
    )
    assert started.code == 0, started.stdout + started.stderr
    ident = json.loads(started.stdout)["deployment_id"]
    issuer.keys[:] = [SigningKey.generate("local-2")]  # the issuer rotates: local-1 is no longer published
    later = NOW + timedelta(hours=1)
    _append(
        world.repo,
        Draft("deployment.finished", SYSTEM, "ci", "github-actions", later, _finish(ident), (RFC,)),
    )
    body = _kpi(world.repo, later + timedelta(minutes=1))
    assert _rate(body, "deployment-success-rate") == (0, 0), body["kpis"]
    reasons = [u["reason"] for u in body["unverified"] if u["deployment"] == ident]
    assert reasons and "its start" in reasons[0], body["unverified"]
    reliability.row(
        "grade 1, issuer keys not pinned: a signed deployment is started, the issuer rotates its key, and a "
        "`success` naming the deployment is appended unsigned",
        "key rotation + forged ledger record (deployment.finished)",
        "not counted: the start no longer verifies, so no result of it counts as a success (`kpi` counts no "
        "deployment and lists the result as unverified, saying why the start does not count)",
    )
