"""A GitLab job's ID token is not bound to one record (`id_tokens:` have a fixed audience), and every token
is in the ledger for anyone who can read it. A developer with write access copies tokens from records the
gate does not read — another RFC's approvals, a test job's evidence — onto records of their own. Whether a
record is the one its token vouches for is decided over every record carrying that token
(`adapters.oidc.Attestor._replay`), so a reader of a few records (the gate) judges it as a reader of the
whole ledger (`ledger verify --attestations`) does.
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

from gatekeeper.adapters.localissuer import LocalIssuer
from gatekeeper.domain.attestation import digest_of
from gatekeeper.ledger import Draft
from tests import acceptance as cases
from tests.acceptance import junit
from tests.adversarial.conftest import Recorder
from tests.adversarial.test_attested_approvals import CHAIN, NOW, World
from tests.adversarial.test_reviews import OWING
from tests.adversarial.test_signed_records import _append
from tests.helpers import GitRepo, run_cli
from tests.platform.oidc import Jobs, gitlab_job

OTHER = "RFC-2026-0043"
SYSTEM = "minwon-portal"


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(clock=lambda: NOW) as running:
        yield running


def _copied_onto(record: dict[str, Any], kind: str, rfcs: tuple[str, ...], data: dict[str, Any]) -> Draft:
    """A record of the developer's own carrying `record`'s GitLab token, with its own digest written in."""
    draft = Draft(
        kind,
        record["system"],
        record["actor"],
        record["actor_source"],
        datetime.fromisoformat(record["at"]),
        data,
        rfcs,
    )
    signature = {**record["data"]["attestation"], "digest": digest_of(draft)}
    return dataclasses.replace(draft, data={**data, "attestation": signature})


def _digest(repo: GitRepo, rfc: str) -> str:
    shown = run_cli(["--format", "json", "rfc", "show", rfc], cwd=repo.path)
    assert shown.code == 0, shown.stderr
    return str(json.loads(shown.stdout)["digest"])


def _push_pipeline(world: World, base: str) -> dict[str, str]:
    """The gate's environment in a GitLab push pipeline of the commits after `base` only."""
    env = world.jobs.gitlab("han")
    env.pop("GATEKEEPER_ID_TOKEN")
    env.update(CI_COMMIT_SHA=world.repo.head(), CI_COMMIT_BEFORE_SHA=base, CI_PIPELINE_SOURCE="push")
    return env


def test_approval_tokens_of_another_rfc_replayed_onto_mine_count_nowhere(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    world = World(tmp_path, issuer)
    for step, holder in CHAIN:  # RFC-2026-0042 approved by its five role holders in GitLab approval jobs
        done = world.approve(step, world.jobs.gitlab(holder, environment=f"gatekeeper-approvals/{step}"))
        assert done.code == 0, done.stdout + done.stderr
    base = world.repo.head()
    world.repo.add_rfc(OTHER)
    world.repo.commit(f"{OTHER} change the fee table")
    head, digest = world.repo.head(), _digest(world.repo, OTHER)
    genuine = [r for r in world.records() if r["kind"] == "approval"]
    for record in genuine:  # the developer's own RFC, "approved" with each of those tokens
        data = {**{k: v for k, v in record["data"].items() if k != "attestation"}, "rfc_digest": digest}
        if "commit" in data:
            data["commit"] = head
        world.append(_copied_onto(record, "approval", (OTHER,), data))
    env = _push_pipeline(world, base)  # the gate reads OTHER's approvals, not RFC-2026-0042's
    gate = run_cli(["--format", "json", "gate"], cwd=world.repo.path, env=env, now=NOW)
    assert gate.code == 1, gate.stderr
    findings = json.loads(gate.stdout)["findings"]
    missing = [f["message"] for f in findings if f["rule"] in {"approval.missing", "cab.missing"}]
    assert len(missing) == 5, findings
    assert all("already used by ledger record" in message for message in missing), missing
    korean = run_cli(["--lang", "ko", "gate"], cwd=world.repo.path, env=env, now=NOW)
    assert korean.code == 1 and "이 토큰은 이미 원장" in korean.stdout, korean.stdout
    # A reader of the whole ledger judges the same records the same way.
    verify = run_cli(["--format", "json", "ledger", "verify", "--attestations"], cwd=world.repo.path, now=NOW)
    results = [a["result"] for a in json.loads(verify.stdout)["approvals"]]
    assert verify.code == 1 and results[:5] == ["attested"] * 5, results
    assert all("already used by ledger record" in result for result in results[5:]), results
    reliability.row(
        "the five GitLab approval tokens of an earlier RFC (whose records the gate does not read) copied "
        "onto approvals of the developer's own RFC, each with its own digest",
        "replayed GitLab token (another RFC's approval)",
        "block: approval.missing / cab.missing for every step, naming the record that used the token first "
        "(en/ko); ledger verify --attestations refuses the same five copies",
    )


def test_a_test_jobs_token_copied_onto_a_pir_settles_no_debt(repo: GitRepo, reliability: Recorder) -> None:
    at, _ = cases.build(repo, OWING)  # RFC-2026-0041 deployed 20 days ago owes its PIR
    report = repo.path / "reports" / "unit.xml"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(junit(tests=10), encoding="utf-8")
    test_job = gitlab_job(repo.head(), "kim", at)  # kim's pipeline ran the tests
    added = run_cli(
        ["evidence", "add", "--kind", "unit", "reports/unit.xml"], cwd=repo.path, env=test_job, now=at
    )
    assert added.code == 0, added.stdout + added.stderr
    log = json.loads(run_cli(["--format", "json", "ledger", "log"], cwd=repo.path).stdout)
    evidence = next(r for r in log if r["kind"] == "test.evidence" and r["actor_source"] == "gitlab-ci")
    pir = {"result": "achieved", "note": "", "rfc_digest": _digest(repo, "RFC-2026-0041")}
    forged = _copied_onto(evidence, "pir", ("RFC-2026-0041",), pir)
    _append(repo, dataclasses.replace(forged, kind="pir"))
    gate = run_cli(["--format", "json", "gate"], cwd=repo.path, now=at)
    overdue = [f["message"] for f in json.loads(gate.stdout)["findings"] if f["rule"] == "deploy.pir-overdue"]
    assert gate.code == 1 and overdue, gate.stdout
    # kim's own PIR job, with a token of its own, settles it.
    signed = run_cli(
        ["pir", "RFC-2026-0041", "--result", "achieved"],
        cwd=repo.path,
        env=gitlab_job(repo.head(), "kim", at),
        now=at,
    )
    assert signed.code == 0, signed.stderr
    gate = run_cli(["--format", "json", "gate"], cwd=repo.path, now=at)
    assert "deploy.pir-overdue" not in {f["rule"] for f in json.loads(gate.stdout)["findings"]}
    verify = run_cli(["--format", "json", "ledger", "verify", "--attestations"], cwd=repo.path, now=at)
    results = {r["seq"]: r["result"] for r in json.loads(verify.stdout)["records"]}
    copy = max(r["seq"] for r in log) + 1
    assert "test job's" in results[copy], results
    reliability.row(
        "a GitLab test job's token (its evidence record) copied onto a PIR in the name of the user who ran "
        "the pipeline",
        "replayed GitLab token (test evidence onto a person's word)",
        "not counted: deploy.pir-overdue stays (a test job's token vouches for its evidence only); the "
        "user's own signed PIR settles the debt",
    )


# ------------------------------------------------------------------ one deploying job, several records


def _deploy_job(head: str, at: datetime) -> dict[str, str]:
    """A GitLab deploy job of `head` started at `at`: one ID token (valid an hour) for every record it
    writes, and its CI_JOB_TOKEN (`adapters.oidc.chain_link`)."""
    job = gitlab_job(head, "ci", at, exp=int(at.timestamp()) + 3600)
    job["CI_JOB_TOKEN"] = "glcbt-64_" + "s3cr3t" * 6
    return job


def _log(repo: GitRepo) -> list[dict[str, Any]]:
    result = run_cli(["--format", "json", "ledger", "log"], cwd=repo.path)
    assert result.code == 0, result.stderr
    found: list[dict[str, Any]] = json.loads(result.stdout)
    return found


def test_a_deploying_jobs_token_copied_onto_a_success_does_not_hide_its_failure(
    repo: GitRepo, reliability: Recorder
) -> None:
    at, head = cases.build(repo, {})
    job = _deploy_job(head, at)
    started = run_cli(
        ["--format", "json", "deploy", "start", "--rfc", cases.RFC_ID], cwd=repo.path, env=job, now=at
    )
    assert started.code == 0, started.stdout + started.stderr
    ident = json.loads(started.stdout)["deployment_id"]
    start = next(r for r in _log(repo) if r["id"] == ident)
    assert start["data"]["attestation"]["seal"].startswith("sha256:")
    # While the deployment runs, the developer copies the start's token (and its seal) onto a success.
    result = {"started": ident, "result": "success", "environment": "production", "change_type": "normal"}
    forged = _copied_onto(
        {**start, "at": (at + timedelta(minutes=5)).isoformat()},
        "deployment.finished",
        (cases.RFC_ID,),
        result,
    )
    _append(repo, forged)
    # The deployment fails; the job records it with its own token, and opens the failure's incident.
    done = run_cli(
        ["deploy", "finish", ident, "--result", "failure"],
        cwd=repo.path,
        env=job,
        now=at + timedelta(minutes=10),
    )
    assert done.code == 0, done.stdout + done.stderr
    records = _log(repo)
    real = [r for r in records if r["kind"] == "deployment.finished" and r["actor_source"] == "gitlab-ci"][-1]
    assert real["data"]["result"] == "failure" and "key" in real["data"]["attestation"]
    audit = run_cli(["--format", "json", "audit"], cwd=repo.path, now=at + timedelta(days=1))
    items = {item["id"]: item for item in json.loads(audit.stdout)["items"]}
    assert items["release.failure-incident"]["result"] == "conform", items["release.failure-incident"]
    assert items["release.closure"]["result"] == "not-applicable", items["release.closure"]
    verify = run_cli(
        ["--format", "json", "ledger", "verify", "--attestations"], cwd=repo.path, now=at + timedelta(days=1)
    )
    results = {r["seq"]: r["result"] for r in json.loads(verify.stdout)["records"]}
    copy = next(r["seq"] for r in records if r["kind"] == "deployment.finished")
    assert "does not open the seal" in results[copy], results
    assert [results[r["seq"]] for r in records if r["seq"] > copy] == ["signed", "signed"], results
    reliability.row(
        "while a GitLab deploy job runs, its ID token (published by its deployment.started record) is copied "
        "onto a `success` result; the deployment then fails",
        "replayed GitLab token (a deploying job's, between two of its records)",
        "not counted: each record of a GitLab job opens the seal of the one before (keys from the job's "
        "CI_JOB_TOKEN, never stored); the job's `failure` closes the deployment and opens its incident",
    )


def test_a_test_jobs_token_copied_onto_a_report_it_has_not_written_yet_counts_nowhere(
    tmp_path: Path, issuer: LocalIssuer, reliability: Recorder
) -> None:
    from tests.adversarial.test_signed_records import PASSING, _record, _test_findings

    world = World(tmp_path, issuer)
    head = world.repo.head()
    job = Jobs(issuer, world.jobs.workdir, head).gitlab("ci")
    job["CI_JOB_TOKEN"] = "glcbt-64_" + "t3st" * 8
    _record(world, "unit", head, job)
    unit = [r for r in world.records() if r["kind"] == "test.evidence"][-1]
    # Before the job records its failing integration tests, a passing integration report with its token.
    forged = {**unit["data"], "kind": "integration", "totals": PASSING}
    forged.pop("attestation")
    world.append(_copied_onto(unit, "test.evidence", tuple(unit["rfcs"]), forged))
    _record(world, "integration", head, job, tests=10, failed=4)
    found = _test_findings(world)
    assert "tests.failed" in found and "integration" in " ".join(found["tests.failed"]), found
    verify = run_cli(["--format", "json", "ledger", "verify", "--attestations"], cwd=world.repo.path, now=NOW)
    results = [r["result"] for r in json.loads(verify.stdout)["records"]]
    assert results[0] == "signed" and "does not open the seal" in results[1] and results[2] == "signed", (
        results
    )
    reliability.row(
        "a GitLab test job records its unit tests; before it records its failing integration tests, its "
        "token is copied onto a passing integration report",
        "replayed GitLab token (between two reports of one job)",
        "not counted: the copy does not open the seal of the job's unit report (keys from CI_JOB_TOKEN); the "
        "job's own failing integration report counts: tests.failed",
    )


# ------------------------------------------------------------------ a few records judged as all of them

# One generated step: (job, kind, forged). A job writes its next record with its token and chain; a forged
# step copies the job's token (and the seal and key of its latest record) onto a record of the developer's.
_STEP = st.tuples(
    st.integers(0, 2),
    st.sampled_from(("unit", "integration", "pir", "started", "finished", "incident")),
    st.booleans(),
)


def _config_with_pinned_keys(root: Path, ledger: dict[str, str] | None = None) -> Any:
    from gatekeeper.config import load_config
    from tests.platform.oidc import pin

    repo = GitRepo.create(root)
    settings = pin(repo.path)
    text = (repo.path / ".gatekeeper.yml").read_text(encoding="utf-8")
    config: dict[str, Any] = {"platform": settings, **({"ledger": ledger} if ledger else {})}
    import yaml

    merged = {**yaml.safe_load(text), **config}
    (repo.path / ".gatekeeper.yml").write_text(yaml.safe_dump(merged, allow_unicode=True), encoding="utf-8")
    return repo.path, load_config(repo.path / ".gatekeeper.yml")


def _written(ledger: Any, steps: list[tuple[int, str, bool]], head: str) -> tuple[list[Any], set[int]]:
    """The records `steps` leave in `ledger` — three GitLab jobs (two chaining through CI_JOB_TOKEN, one
    without it, as an earlier version wrote) and the developer's copies of their tokens — and the seqs of
    the copies onto the records of the two chaining jobs."""
    import jwt

    from gatekeeper.adapters.oidc import chain_link
    from gatekeeper.domain.records import read

    jobs = [
        gitlab_job(head, "ci", NOW, exp=int(NOW.timestamp()) + 3600, job_id=str(7000 + i)) for i in range(3)
    ]
    for i in (0, 1):
        jobs[i]["CI_JOB_TOKEN"] = f"glcbt-64_job{i}-secret"
    claims = [jwt.decode(job["GATEKEEPER_ID_TOKEN"], options={"verify_signature": False}) for job in jobs]
    started: dict[int, str] = {}
    last: dict[int, dict[str, Any]] = {}
    copies: set[int] = set()
    for n, (i, kind, forged) in enumerate(steps):
        moment = NOW + timedelta(seconds=n)
        if kind in ("unit", "integration"):
            data: dict[str, Any] = {"kind": kind, "commit": head, "totals": {"tests": 3, "passed": 3}}
            record_kind = "test.evidence"
        elif kind == "pir":
            data, record_kind = {"result": "achieved"}, "pir"
        elif kind == "started":
            data, record_kind = {"environment": "production", "commit": head}, "deployment.started"
        elif kind == "finished":
            if i not in started:
                continue
            data = {"started": started[i], "result": "success", "environment": "production"}
            record_kind = "deployment.finished"
        else:
            data = {"incident_id": f"INC-2026-{n:04d}", "type": "defect", "title": "x", "grade": 3}
            data["deployment_id"] = started.get(i, "")
            record_kind = "incident.opened"
        if forged and i not in last:
            continue  # nothing of that job's is in the ledger to copy yet
        draft = Draft(record_kind, SYSTEM, "ci", "gitlab-ci", moment, data, ("RFC-2026-0042",))
        token = jobs[i]["GATEKEEPER_ID_TOKEN"]
        signature: dict[str, Any] = {
            "provider": "gitlab",
            "token": token,
            "digest": digest_of(draft),
            "jti": claims[i]["jti"],
            "job_id": claims[i]["job_id"],
        }
        from tests.platform.oidc import pinned_key

        signature["jwk"] = pinned_key().jwk
        if forged:
            signature.update({k: v for k, v in last[i].items() if k in ("seal", "key")})
        else:
            signature.update(chain_link(jobs[i], claims[i], token, ledger))
        record = ledger.append(dataclasses.replace(draft, data={**data, "attestation": signature}))
        if not forged:
            last[i] = signature
            if kind == "started":
                started[i] = record.id
        elif i in (0, 1):
            copies.add(record.seq)
    return [read(r) for r in ledger.records()], copies


@given(
    steps=st.lists(_STEP, min_size=1, max_size=14), picks=st.lists(st.booleans(), min_size=14, max_size=40)
)
def test_a_reader_of_some_records_judges_them_as_a_reader_of_all(
    tmp_path_factory: pytest.TempPathFactory,
    reliability: Recorder,
    steps: list[tuple[int, str, bool]],
    picks: list[bool],
) -> None:
    """Whatever records a reader reads, and in whatever order, a GitLab-signed record counts for it exactly
    when it counts for a reader of the whole ledger in ledger order (`ledger verify --attestations`)."""
    from gatekeeper.adapters.oidc import Attestor
    from gatekeeper.ledger.sqlite import SqliteLedger

    base = tmp_path_factory.mktemp("judged")
    root, config = _config_with_pinned_keys(base / "repo")
    ledger = SqliteLedger(base / "ledger.db")
    try:
        entries, copies = _written(ledger, steps, "a" * 40)
        whole = Attestor(config, root, {}, NOW + timedelta(minutes=1), whole=True)
        expected = {e.seq: whole(e) for e in entries}
        some = [e for e, pick in zip(entries, picks * 3, strict=False) if pick]
        for order in (some, list(reversed(some))):
            reader = Attestor(config, root, {}, NOW + timedelta(minutes=1), ledger=ledger)
            assert {e.seq: reader(e) for e in order} == {e.seq: expected[e.seq] for e in order}, steps
        firsts = {e.payload.attestation["jti"]: e.seq for e in reversed(entries)}
        assert all(expected[seq] for seq in firsts.values()), (steps, expected)  # the job's own first record
        assert not any(expected[seq] for seq in copies), (steps, expected)
    finally:
        ledger.close()
    if not reliability.rows:
        reliability.row(
            "generated ledgers of three GitLab jobs' records (two chaining through CI_JOB_TOKEN, one as an "
            "earlier version wrote) with copies of their tokens, read whole and as random subsets in either "
            "order",
            "replayed GitLab tokens; readers that read only some records",
            "every record counts for a subset reader exactly as for a reader of the whole ledger; each job's "
            "first record counts; no copy onto a chaining job's records counts",
        )


def test_a_chained_deploy_job_may_record_its_performance_tests_after_the_start(repo: GitRepo) -> None:
    """A deploying job's token vouches for its deployment's records; a report it writes after the start
    (performance tests run against what it deployed) counts when it opens the job's seal — only an
    unchained token's later report cannot be told from a copy."""
    at, head = cases.build(repo, {})
    job = _deploy_job(head, at)
    started = run_cli(["deploy", "start", "--rfc", cases.RFC_ID], cwd=repo.path, env=job, now=at)
    assert started.code == 0, started.stdout + started.stderr
    report = repo.path / "reports" / "performance.xml"
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(junit(tests=4), encoding="utf-8")
    later = at + timedelta(minutes=3)
    added = run_cli(
        ["evidence", "add", "--kind", "performance", "reports/performance.xml"],
        cwd=repo.path,
        env=job,
        now=later,
    )
    assert added.code == 0, added.stdout + added.stderr
    verify = run_cli(["--format", "json", "ledger", "verify", "--attestations"], cwd=repo.path, now=later)
    signed = [r for r in json.loads(verify.stdout)["records"] if r["actor_source"] == "gitlab-ci"]
    assert verify.code == 0 and [r["result"] for r in signed] == ["signed"] * len(signed), signed
    assert [r["kind"] for r in signed][-2:] == ["deployment.started", "test.evidence"], signed


@pytest.mark.parametrize("backend", ["sqlite", "git"])
def test_one_jobs_records_chain_through_every_backend(tmp_path: Path, backend: str) -> None:
    """A GitLab job's evidence, start and result, each signed as `deploy start` / `deploy finish` sign them
    (`adapters.oidc.sign_record` reading the ledger they go to): each opens the seal of the one before,
    whichever backend holds the ledger (the git backend reads the tip its own append moved to)."""
    import subprocess

    from gatekeeper.adapters.oidc import Attestor, sign_record
    from gatekeeper.domain.records import read
    from gatekeeper.ledger.backends import open_ledger

    spec = {"backend": "sqlite", "path": str(tmp_path / "ledger.db")}
    if backend == "git":
        remote = tmp_path / "ledger.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        spec = {"backend": "git", "repository": str(remote)}
    root, config = _config_with_pinned_keys(tmp_path / "repo", spec)
    head = "a" * 40
    job = gitlab_job(head, "ci", NOW, exp=int(NOW.timestamp()) + 3600)
    job["CI_JOB_TOKEN"] = "glcbt-64_" + "c4a1n" * 6
    ledger = open_ledger(config, root, {})
    try:
        totals = {"tests": 3, "passed": 3, "failed": 0, "errors": 0, "skipped": 0}
        evidence = Draft(
            "test.evidence",
            SYSTEM,
            "ci",
            "gitlab-ci",
            NOW,
            {"kind": "unit", "commit": head, "totals": totals},
            (),
        )
        start = Draft(
            "deployment.started",
            SYSTEM,
            "ci",
            "gitlab-ci",
            NOW + timedelta(minutes=1),
            {"environment": "production", "commit": head},
            (),
        )
        records = []
        for draft in (evidence, start):
            signature = sign_record(config, root, job, draft.at, draft, ledger)
            assert signature is not None
            records.append(
                ledger.append(dataclasses.replace(draft, data={**draft.data, "attestation": signature}))
            )
        result = Draft(
            "deployment.finished",
            SYSTEM,
            "ci",
            "gitlab-ci",
            NOW + timedelta(minutes=9),
            {"started": records[1].id, "result": "success", "environment": "production"},
            (),
        )
        signature = sign_record(config, root, job, result.at, result, ledger)
        assert signature is not None
        records.append(
            ledger.append(dataclasses.replace(result, data={**result.data, "attestation": signature}))
        )
        entries = [read(r) for r in ledger.records()]
    finally:
        ledger.close()
    links = [e.payload.attestation for e in entries]
    assert "key" not in links[0] and all("key" in link for link in links[1:]), links
    whole = Attestor(config, root, {}, NOW + timedelta(minutes=10), whole=True)
    assert [whole(e) for e in entries] == [True, True, True], whole.refused
