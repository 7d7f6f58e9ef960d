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
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.adapters.localissuer import LocalIssuer
from gatekeeper.domain.attestation import digest_of
from gatekeeper.ledger import Draft
from tests import acceptance as cases
from tests.acceptance import junit
from tests.adversarial.conftest import Recorder
from tests.adversarial.test_attested_approvals import CHAIN, NOW, World
from tests.adversarial.test_reviews import OWING
from tests.helpers import GitRepo, run_cli
from tests.platform.oidc import gitlab_job

OTHER = "RFC-2026-0043"
SYSTEM = "minwon-portal"


@pytest.fixture
def issuer() -> Iterator[LocalIssuer]:
    with LocalIssuer(clock=lambda: NOW) as running:
        yield running


def _copied_onto(record: dict[str, Any], kind: str, rfc: str, data: dict[str, Any]) -> Draft:
    """A record of the developer's own carrying `record`'s GitLab token, with its own digest written in."""
    draft = Draft(
        kind,
        record["system"],
        record["actor"],
        record["actor_source"],
        datetime.fromisoformat(record["at"]),
        data,
        (rfc,),
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
        world.append(_copied_onto(record, "approval", OTHER, data))
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
    forged = _copied_onto(evidence, "pir", "RFC-2026-0041", pir)
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


def _append(repo: GitRepo, draft: Draft) -> None:
    from gatekeeper.config import load_config
    from gatekeeper.ledger.backends import open_ledger

    ledger = open_ledger(load_config(repo.path / ".gatekeeper.yml"), repo.path, {})
    try:
        ledger.append(draft)
    finally:
        ledger.close()
