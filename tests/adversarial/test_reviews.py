"""After the change: the post-implementation review (seed 002 변경관리 4.3) and the prior notice (REL-NOTICE)
are debts a developer with write access would like to settle themselves. A PIR counts only from a holder of
the pack's `deploy.pir_reviewers` roles (the CAB, the agency officer), from the pipeline on grades 1–2, and,
when the purpose was not achieved, with its follow-up; a notice covers only the agencies it names. The gate
and the audit judge the records alike (tests/cases/deploy.pir-overdue, integration.notice-missing); here
the `pir` command refuses, writing nothing, what would count for nothing.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gatekeeper.config import load_config
from gatekeeper.ledger.backends import open_ledger
from tests import acceptance as cases
from tests.adversarial.conftest import Recorder
from tests.helpers import GitRepo, pipeline_job, run_cli
from tests.platform.oidc import gitlab_job

TUESDAY_10 = "2026-11-24T10:00:00+09:00"
# A CAB-reviewed grade-1 normal change deployed 20 days before: its PIR is overdue.
OWING = {
    "at": TUESDAY_10,
    "approvals": [*cases.FULL_CHAIN, {"step": "cab", "actor": "choi", "rfc": "RFC-2026-0041"}],
    "rfcs": {"RFC-2026-0041": "active"},
    "records": [
        {"kind": "deployment.started", "hours_ago": 480, "rfcs": ["RFC-2026-0041"]},
        {
            "kind": "deployment.finished",
            "hours_ago": 479,
            "closes": 0,
            "rfcs": ["RFC-2026-0041"],
            "data": {"result": "success"},
        },
    ],
}


def _pirs(repo: GitRepo) -> list[Any]:
    ledger = open_ledger(load_config(repo.path / ".gatekeeper.yml"), repo.path, {})
    try:
        return list(ledger.find(kind="pir"))
    finally:
        ledger.close()


def _pir(repo: GitRepo, at: datetime, env: dict[str, str], *args: str, lang: str = "en") -> Any:
    return run_cli(["--lang", lang, "pir", "RFC-2026-0041", *args], cwd=repo.path, env=env, now=at)


def test_the_developer_cannot_record_the_pir_that_unblocks_them(repo: GitRepo, reliability: Recorder) -> None:
    at, _ = cases.build(repo, OWING)
    before, body = cases.gate(repo, at)
    assert before == 1 and "deploy.pir-overdue" in {f["rule"] for f in body["findings"]}
    refused = _pir(repo, at, pipeline_job(repo, "dev"), "--result", "achieved")
    assert refused.code == 2 and "none of the roles that review" in refused.stderr
    assert "Traceback" not in refused.stderr and _pirs(repo) == []
    korean = _pir(repo, at, pipeline_job(repo, "dev"), "--result", "achieved", lang="ko")
    assert korean.code == 2 and "검토 역할" in korean.stderr
    assert "deploy.pir-overdue" in {f["rule"] for f in cases.gate(repo, at)[1]["findings"]}
    reliability.row(
        "`pir --result achieved` by the change's developer in a pipeline job, to clear an overdue PIR",
        "forgery",
        "exit 2, nothing written; the gate still blocks with deploy.pir-overdue",
    )


def test_a_pir_record_the_developer_writes_into_the_ledger_settles_nothing(
    repo: GitRepo, reliability: Recorder
) -> None:
    forged = {"kind": "pir", "actor": "dev", "rfcs": ["RFC-2026-0041"], "data": {"result": "achieved"}}
    as_kim = {**forged, "actor": "kim", "source": "local"}
    for record in (forged, as_kim):
        at, _ = cases.build(repo, {**OWING, "records": [*OWING["records"], record]})
        code, body = cases.gate(repo, at)
        overdue = [f for f in body["findings"] if f["rule"] == "deploy.pir-overdue"]
        assert code == 1 and overdue, body["findings"]
        assert "does not count" in overdue[0]["message"]
    reliability.row(
        "a `pir` record appended by the developer, as themself or as a CAB member from a workstation",
        "forgery",
        "block: deploy.pir-overdue, saying why the PIR does not count",
    )


def test_a_purpose_not_achieved_needs_its_follow_up(repo: GitRepo, reliability: Recorder) -> None:
    at, _ = cases.build(repo, OWING)
    kim = gitlab_job(repo.head(), "kim", at)  # a pipeline job whose token signs what it records
    bare = _pir(repo, at, kim, "--result", "not-achieved", "--note", "느림")
    assert bare.code == 2 and "--follow-up" in bare.stderr and _pirs(repo) == []
    blank = _pir(repo, at, kim, "--result", "not-achieved", "--follow-up", "   ")
    assert blank.code == 2 and _pirs(repo) == []
    followed = _pir(
        repo,
        at,
        kim,
        "--result",
        "not-achieved",
        "--follow-up",
        "RFC-2026-0050 색인 추가",
    )
    assert followed.code == 0, followed.stderr
    [record] = _pirs(repo)
    assert record.data["follow_up"] == "RFC-2026-0050 색인 추가" and record.actor == "kim"
    assert "deploy.pir-overdue" not in {f["rule"] for f in cases.gate(repo, at)[1]["findings"]}
    reliability.row(
        "`pir --result not-achieved` without a follow-up (or a blank one)",
        "bad input",
        "exit 2, nothing written; with the follow-up the CAB member's PIR settles the debt",
    )


def test_a_notice_to_one_agency_does_not_cover_the_others(repo: GitRepo, reliability: Recorder) -> None:
    rfc = {"impact": {"agencies": ["행정안전부", "서울특별시"]}}
    at, _ = cases.build(repo, {"rfc": rfc})
    env = gitlab_job(repo.head(), "kim", at)  # the agency officer's pipeline job, whose token signs it
    told = run_cli(["notice", cases.RFC_ID, "--to", "행정안전부"], cwd=repo.path, env=env, now=at)
    assert told.code == 0, told.stderr
    findings = [f for f in cases.gate(repo, at)[1]["findings"] if f["rule"] == "integration.notice-missing"]
    assert findings and "서울특별시" in findings[0]["message"] and "행정안전부" not in findings[0]["message"]
    # Told later, from another job (a GitLab job's token vouches for one notice: `adapters.oidc.Attestor`).
    env = gitlab_job(repo.head(), "kim", at)
    again = run_cli(["notice", cases.RFC_ID, "--to", "서울특별시"], cwd=repo.path, env=env, now=at)
    assert again.code == 0
    rules = {f["rule"] for f in cases.gate(repo, at)[1]["findings"]}
    assert "integration.notice-missing" not in rules
    reliability.row(
        "an RFC naming two related agencies, a notice recorded to one of them",
        "forgery",
        "block: integration.notice-missing names the agency not told",
    )
