"""Closing the release and the change (seed 002 배포관리 3.1–4.3, 변경관리 4.2, 테스트관리 4.4; SOP REL-P3,
TST-P5, REL-CONSISTENCY): after a successful deployment to production the requester runs the acceptance
test, the maintainer and the operator manager run the production unit and integration (연계) tests, the
operator manager checks that the change plan, the release plan and the result agree, and the agency officer
closes the release and the change. A release left unclosed past the pack's deadline holds back later normal
changes of the system (`release.closure-overdue`), as an overdue PIR does; an emergency change still goes.

A developer with write access would like to close their own release, or to accept it before it finished,
or to close one that failed, or to name a deployment that never happened: every such record is refused by
the command (exit 2, nothing written) and, when written into the ledger by hand, settles nothing for the
gate and the audit alike.
"""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from gatekeeper.config import load_config
from gatekeeper.ledger import Draft
from gatekeeper.ledger.backends import open_ledger
from tests import acceptance as cases
from tests.adversarial.conftest import Recorder
from tests.helpers import GitRepo, git, pipeline_job, run_cli
from tests.platform.oidc import gitlab_job, sign

CLOSURE_RULES = {
    "release.acceptance-overdue",
    "release.production-tests-overdue",
    "release.closure-overdue",
}
EARLIER = "RFC-2026-0041"
# An earlier grade-1 normal change deployed successfully to production 40 days before (the kr-ap-sop
# deadline for closing it is 30 days) and never accepted, reviewed or closed.
UNCLOSED: dict[str, Any] = {
    "rfcs": {EARLIER: "active"},
    "records": [
        {"kind": "deployment.started", "hours_ago": 960, "rfcs": [EARLIER]},
        {
            "kind": "deployment.finished",
            "hours_ago": 959,
            "closes": 0,
            "rfcs": [EARLIER],
            "data": {"result": "success"},
        },
    ],
}


def _ledger(repo: GitRepo) -> Any:
    return open_ledger(load_config(repo.path / ".gatekeeper.yml"), repo.path, {})


def _records(repo: GitRepo, kind: str) -> list[Any]:
    ledger = _ledger(repo)
    try:
        return list(ledger.find(kind=kind))
    finally:
        ledger.close()


def _deployment(repo: GitRepo) -> str:
    return str(_records(repo, "deployment.started")[0].id)


def _job(repo: GitRepo, login: str, at: datetime) -> dict[str, str]:
    """A pipeline job run by `login` whose token signs what it records (grade 1 counts only such records)."""
    return gitlab_job(git(repo.path, "rev-parse", "HEAD").strip(), login, at)


def _release(repo: GitRepo, at: datetime, login: str, *args: str, lang: str = "en") -> Any:
    return run_cli(["--lang", lang, "release", *args], cwd=repo.path, env=_job(repo, login, at), now=at)


def _production_tests(repo: GitRepo, at: datetime, deployment: str) -> None:
    """The production unit and integration tests of the deployment, recorded by a signing pipeline job
    (TST-P5: `evidence add --deployment`)."""
    (repo.path / "prod").mkdir(exist_ok=True)
    (repo.path / "prod" / "result.xml").write_text(cases.junit(), encoding="utf-8")
    for kind in ("unit", "integration"):
        args = ["evidence", "add", "--kind", kind, "--deployment", deployment, "prod/result.xml"]
        done = run_cli(args, cwd=repo.path, env=_job(repo, "han", at), now=at)
        assert done.code == 0, done.stderr


def _closure_findings(repo: GitRepo, at: datetime, *extra: str) -> tuple[int, list[dict[str, Any]]]:
    code, body = cases.gate(repo, at, *extra)
    return code, [f for f in body["findings"] if f["rule"] in CLOSURE_RULES]


def test_the_developer_cannot_close_the_release_that_blocks_them(
    repo: GitRepo, reliability: Recorder
) -> None:
    at, _ = cases.build(repo, UNCLOSED)
    code, found = _closure_findings(repo, at)
    assert code == 1 and {f["rule"] for f in found} == CLOSURE_RULES, found
    deployment = _deployment(repo)
    for args in (("accept", deployment, "--result", "accepted"), ("review", deployment, "--consistent")):
        refused = _release(repo, at, "dev", *args)
        assert refused.code == 2 and "Traceback" not in refused.stderr, refused.stderr
    closed = _release(repo, at, "dev", "close", deployment)
    assert closed.code == 2 and "nothing was recorded" in closed.stderr
    korean = _release(repo, at, "dev", "close", deployment, lang="ko")
    assert korean.code == 2 and "기록하지 않았습니다" in korean.stderr
    assert _records(repo, "change.closed") == [] and _records(repo, "release.accepted") == []
    assert _closure_findings(repo, at)[0] == 1
    reliability.row(
        "`release accept|review|close` by the change's developer in a pipeline job, to clear an overdue "
        "closure",
        "forgery",
        "exit 2, nothing written; the gate still blocks with release.closure-overdue",
    )


def test_closure_by_someone_not_holding_the_role_is_refused(repo: GitRepo, reliability: Recorder) -> None:
    at, _ = cases.build(repo, UNCLOSED)
    deployment = _deployment(repo)
    _production_tests(repo, at, deployment)
    # han is the operator manager: he reviews the consistency, but neither accepts nor closes.
    accepted_by_han = _release(repo, at, "han", "accept", deployment, "--result", "accepted")
    assert accepted_by_han.code == 2 and "requester" in accepted_by_han.stderr
    assert _release(repo, at, "lee", "accept", deployment, "--result", "accepted").code == 0
    reviewed_by_kim = _release(repo, at, "kim", "review", deployment, "--consistent")
    assert reviewed_by_kim.code == 2
    assert _release(repo, at, "han", "review", deployment, "--consistent").code == 0
    closed_by_han = _release(repo, at, "han", "close", deployment)
    assert closed_by_han.code == 2 and "agency-officer" in closed_by_han.stderr
    assert _records(repo, "change.closed") == []
    # Records of the same kinds written into the ledger by hand, by people without the role, count nothing.
    ledger = _ledger(repo)
    try:
        ledger.append(
            Draft("change.closed", "minwon-portal", "han", "github-actions", at, {"deployment": deployment})
        )
    finally:
        ledger.close()
    assert "release.closure-overdue" in {f["rule"] for f in _closure_findings(repo, at)[1]}
    assert _release(repo, at, "kim", "close", deployment).code == 0
    code, found = _closure_findings(repo, at)
    assert found == [] and code == 0
    reliability.row(
        "acceptance by the operator manager, consistency review by an officer, closure by the operator "
        "manager (command, and a `change.closed` record appended by hand)",
        "forgery",
        "exit 2, nothing written; a hand-written closure counts nothing; the role holders close it",
    )


def test_acceptance_before_the_deployment_finished_is_refused(repo: GitRepo, reliability: Recorder) -> None:
    open_deployment = {
        "rfcs": {EARLIER: "active"},
        "records": [
            {"kind": "deployment.started", "hours_ago": 2, "rfcs": [EARLIER]},
        ],
    }
    at, _ = cases.build(repo, open_deployment)
    deployment = _deployment(repo)
    early = {"deployment": deployment, "result": "accepted"}
    ledger = _ledger(repo)
    try:
        ledger.append(
            Draft("release.accepted", "minwon-portal", "lee", "github-actions", at, early, (EARLIER,))
        )
    finally:
        ledger.close()
    refused = _release(repo, at, "lee", "accept", deployment, "--result", "accepted")
    assert refused.code == 2 and "not finished" in refused.stderr, refused.stderr
    # It finishes; the acceptance written by hand before that does not count.
    ledger = _ledger(repo)
    try:
        finish = {"started": deployment, "result": "success", "environment": "production"}
        ledger.append(  # by the deploying job, signed as the start it closes
            sign(
                Draft("deployment.finished", "minwon-portal", "ci", "github-actions", at, finish, (EARLIER,))
            )
        )
    finally:
        ledger.close()
    later = datetime.fromisoformat("2027-01-10T20:00:00+09:00")
    rules = {f["rule"] for f in _closure_findings(repo, later)[1]}
    assert "release.acceptance-overdue" in rules
    reliability.row(
        "`release accept` while the deployment is still open; an acceptance record written before its finish",
        "ordering",
        "exit 2, nothing written; the early record does not count (release.acceptance-overdue later)",
    )


def test_a_failed_deployment_is_not_closed_and_owes_no_closure(repo: GitRepo, reliability: Recorder) -> None:
    failed = {
        "rfcs": {EARLIER: "active"},
        "records": [
            UNCLOSED["records"][0],
            {**UNCLOSED["records"][1], "data": {"result": "failure"}},
            {
                "kind": "incident.opened",
                "hours_ago": 958,
                "deployment": 0,
                "actor": "han",
                "rfcs": [EARLIER],
                "data": {
                    "incident_id": "INC-2026-0030",
                    "type": "service-outage",
                    "title": "배포 실패",
                    "grade": 1,
                },
            },
        ],
    }
    at, _ = cases.build(repo, failed)
    deployment = _deployment(repo)
    refused = _release(repo, at, "kim", "close", deployment)
    assert refused.code == 2 and "failure" in refused.stderr, refused.stderr
    assert _release(repo, at, "lee", "accept", deployment, "--result", "accepted").code == 2
    assert _records(repo, "change.closed") == []
    assert _closure_findings(repo, at)[1] == []
    reliability.row(
        "`release accept|close` of a deployment that failed (it goes to incident management instead)",
        "bad input",
        "exit 2, nothing written; a failed deployment owes no closure",
    )


def test_a_forged_deployment_id_is_refused_and_counts_nothing(repo: GitRepo, reliability: Recorder) -> None:
    at, _ = cases.build(repo, UNCLOSED)
    forged = "00000000-0000-4000-8000-000000000000"
    for login, args in (
        ("lee", ("accept", forged, "--result", "accepted")),
        ("han", ("review", forged, "--consistent")),
        ("kim", ("close", forged)),
    ):
        refused = _release(repo, at, login, *args)
        assert refused.code == 2 and forged in refused.stderr and "Traceback" not in refused.stderr
    prod = repo.path / "prod"
    prod.mkdir()
    (prod / "r.xml").write_text(cases.junit(), encoding="utf-8")
    args = ["evidence", "add", "--kind", "unit", "--deployment", forged, "prod/r.xml"]
    made_up = run_cli(args, cwd=repo.path, env=pipeline_job(repo, "han"), now=at)
    assert made_up.code == 2 and forged in made_up.stderr
    # The real deployment, from a job that cannot sign what it records: grade 1 counts only signed tests.
    args[5] = _deployment(repo)
    unsigned = run_cli(args, cwd=repo.path, env=pipeline_job(repo, "han"), now=at)
    assert unsigned.code == 2 and "sign" in unsigned.stderr
    assert not [r for r in _records(repo, "test.evidence") if r.data.get("deployment")]
    # A closure record naming the real deployment's RFC but a made-up deployment closes nothing.
    ledger = _ledger(repo)
    try:
        for kind in ("release.accepted", "release.reviewed", "change.closed"):
            data: dict[str, Any] = {"deployment": forged}
            ledger.append(Draft(kind, "minwon-portal", "kim", "github-actions", at, data, (EARLIER,)))
    finally:
        ledger.close()
    assert {f["rule"] for f in _closure_findings(repo, at)[1]} == CLOSURE_RULES
    reliability.row(
        "`release accept|review|close` and `evidence add --deployment` naming a deployment id never started; "
        "the same records appended by hand",
        "forgery",
        "exit 2, nothing written; the hand-written records close nothing",
    )


def test_an_unclosed_release_blocks_a_normal_change_not_an_emergency(
    repo: GitRepo, tmp_path: Path, reliability: Recorder
) -> None:
    at, _ = cases.build(repo, UNCLOSED)
    code, found = _closure_findings(repo, at)
    assert code == 1 and all(f["severity"] == "error" for f in found)
    assert any(EARLIER in f["message"] for f in found)
    korean = run_cli(
        ["--lang", "ko", "--format", "json", "gate", "--rfc", cases.RFC_ID], cwd=repo.path, now=at
    )
    assert "인수테스트" in korean.stdout
    emergency = {
        **UNCLOSED,
        "rfc": {"type": "emergency", "incident": "INC-2026-0001"},
        "approvals": [],
        "records": [
            *UNCLOSED["records"],
            {
                "kind": "incident.opened",
                "hours_ago": 3,
                "actor": "han",
                "rfcs": [],
                "data": {
                    "incident_id": "INC-2026-0001",
                    "type": "service-outage",
                    "title": "접속 불가",
                    "grade": 1,
                },
            },
            {
                "kind": "incident.updated",
                "hours_ago": 2,
                "actor": "han",
                "rfcs": [],
                "data": {"incident": "INC-2026-0001", "note": "중간보고", "report": True},
            },
        ],
    }
    repo = GitRepo.create(tmp_path / "emergency")
    at, _ = cases.build(repo, emergency)
    code, body = cases.gate(repo, at)
    found = [f for f in body["findings"] if f["rule"] in CLOSURE_RULES]
    assert found and all(f["severity"] == "warning" for f in found), found
    assert not [f for f in body["findings"] if f["severity"] == "error"], json.dumps(body, ensure_ascii=False)
    reliability.row(
        "a release unclosed 40 days after its deployment, then a normal change; then an emergency change",
        "debt",
        "normal: block (release.*-overdue, Korean and English); emergency: allow with warnings",
    )


def test_the_whole_closure_settles_the_debt_and_the_audit_agrees(
    repo: GitRepo, reliability: Recorder
) -> None:
    at, _ = cases.build(repo, UNCLOSED)
    deployment = _deployment(repo)
    _production_tests(repo, at, deployment)
    assert _release(repo, at, "lee", "accept", deployment, "--result", "accepted").code == 0
    assert _release(repo, at, "han", "review", deployment, "--consistent", "--note", "일치").code == 0
    assert _release(repo, at, "kim", "close", deployment).code == 0
    code, found = _closure_findings(repo, at)
    assert code == 0 and found == []
    audit = run_cli(["--format", "json", "audit"], cwd=repo.path, now=at)
    items = {i["id"]: i for i in json.loads(audit.stdout)["items"]}
    for item in ("release.acceptance", "release.production-tests", "release.closure"):
        assert items[item]["result"] == "conform", items[item]
    # The 배포결과서 shows the acceptance, the review and the closure, in Korean by default of the pack.
    form = run_cli(["--lang", "ko", "report", "form", "deployment-result", deployment], cwd=repo.path, now=at)
    assert form.code == 0, form.stderr
    for text in ("인수테스트 및 종료", "승인 — lee", "계획·결과 일치 — han", "종료 — kim", "unit 10/10"):
        assert text in form.stdout, form.stdout
    reliability.row(
        "production tests bound to the deployment, acceptance by the requester, review by the operator "
        "manager, closure by the officer",
        "happy path",
        "allow; the audit's acceptance, production-test and closure items conform",
    )
