"""The SOP checklist: hand-checked results on the small history (a failure, a rollback, an emergency
change, a missing PIR, a drifted file), the JSON contract, Korean text, and the recorded `audit.run`."""

from __future__ import annotations

import dataclasses
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from gatekeeper.checks.audit import ITEMS, AuditBuilder, checklist
from gatekeeper.config import load_policy
from gatekeeper.domain import Grade
from gatekeeper.domain.calendar import BusinessCalendar
from gatekeeper.facts.commits import JudgedCommit
from gatekeeper.ledger import Draft, Record
from gatekeeper.ledger.sqlite import SqliteLedger
from gatekeeper.resources import policies_dir
from tests.audit.conftest import AUDIT_AT, AuditRepo, rfc_models
from tests.audit.history import KST, SYSTEM, drafts, placed
from tests.helpers import run_cli

NOW = datetime(2026, 11, 24, 20, 0, tzinfo=KST)
NOV = (datetime(2026, 11, 1, tzinfo=KST), datetime(2026, 12, 1, tzinfo=KST))
# Hand-checked against tests/audit/history.py. Record numbers: D6 started = 35, finished = 36.
EXPECTED_NOVEMBER = {
    "change.rfc-registered": ("conform", ["seq:18", "seq:21", "seq:24", "seq:27", "seq:35"]),
    "change.plan-complete": ("conform", ["rfc:RFC-2026-0002", "rfc:RFC-2026-0003", "rfc:RFC-2026-0004"]),
    "change.approvals": ("nonconform", ["seq:35"]),  # release-first before change-review
    # change-approval never given; D6 started while it was overdue, which the gate blocks
    "change.emergency-review": ("nonconform", ["seq:35", "rfc:RFC-2026-0003"]),
    # CAB-reviewed, due 11-17 (D2) and 11-18 (D3), none; D6 started while it was overdue
    "change.pir": ("nonconform", ["seq:35", "rfc:RFC-2026-0002"]),
    "change.history-recorded": ("conform", ["seq:19", "seq:22", "seq:25", "seq:28", "seq:36"]),
    "release.tested": ("nonconform", ["seq:35"]),  # integration 10 of 12
    "release.rollback-plan": ("conform", ["rfc:RFC-2026-0002", "rfc:RFC-2026-0003", "rfc:RFC-2026-0004"]),
    "release.failure-incident": ("nonconform", ["seq:36"]),  # D6 failed, no incident
    "test.success-rate": ("conform", ["tests:92/94"]),
    "test.recorded": ("conform", ["seq:11", "seq:12", "seq:23", "seq:33", "seq:34"]),
    # D2 and D3 (normal) started at 20:00; emergency (D4, D5) and standard (D6) changes are not restricted.
    "change.business-hours": ("conform", ["seq:18", "seq:21"]),
    "release.notice": ("not-applicable", []),  # no RFC names a linked system or agency
    # RFC-2026-0003 names INC-2026-0007, which no incident record holds: D4 and D5 fixed no recorded incident
    "change.emergency-incident": ("nonconform", ["seq:24", "seq:27"]),
    # D2's grade-1 incident (r020) lasted 1459 minutes without an intermediate report; D3 and D6 started
    # while it was owed, which the gate blocks
    "incident.reported": ("nonconform", ["seq:21", "seq:35", "incident:r020"]),
    "incident.problem": ("not-applicable", []),  # no incident was closed with its cause unknown
}


def _policy():  # type: ignore[no-untyped-def]
    return load_policy("kr-ap-sop", relative_to=policies_dir())


def _calendar() -> BusinessCalendar:
    return BusinessCalendar(policy=_policy())


def _run(records: list[Record], commits: list[JudgedCommit] | None = None, lang: str = "en"):  # type: ignore[no-untyped-def]
    builder = AuditBuilder(
        _policy(), Grade(1), NOW, rfc_models(), NOV[0], NOV[1], lang, calendar=_calendar(), system=SYSTEM
    )
    builder.feed(records)
    return checklist(builder, system="minwon-portal", commits=commits or [])


def test_hand_checked_november_checklist() -> None:
    result = _run(placed())
    got = {item.id: (item.result, list(item.evidence)) for item in result.items}
    for item_id, expected in EXPECTED_NOVEMBER.items():
        assert got[item_id] == expected, item_id
    # Facts from outside the ledger were not given: those items are not applicable, never conform.
    assert got["configuration.commit-rfc"][0] == "not-applicable"
    assert got["configuration.baseline"][0] == "not-applicable"
    assert result.ok is False
    notes = {item.id: item.notes for item in result.items}
    assert notes["change.emergency-review"][0].startswith("deployment 35: emergency change RFC-2026-0003")
    assert notes["change.emergency-review"][1] == (
        "emergency change RFC-2026-0003 deployed at 2026-11-10T14:00+09:00 still lacks its after-the-fact "
        "change-approval (due by 2026-11-13T14:00+09:00); emergency change RFC-2026-0003 deployed at "
        "2026-11-10T15:00+09:00 still lacks its after-the-fact change-approval "
        "(due by 2026-11-13T15:00+09:00)"
    )
    assert "due by 2026-11-18T20:40+09:00" in notes["change.pir"][1]


def test_pir_not_yet_due_is_not_a_nonconformity() -> None:
    builder = AuditBuilder(
        _policy(), Grade(1), datetime(2026, 11, 10, tzinfo=KST), rfc_models(), NOV[0], None
    )
    records = [r for r in placed() if r.moment < datetime(2026, 11, 9, tzinfo=KST)]
    result = checklist(builder.feed(records), system="minwon-portal")
    assert {i.id: i.result for i in result.items}["change.pir"] == "not-applicable"


def test_pir_recorded_later_makes_it_conform() -> None:
    from gatekeeper.ledger import Draft

    extra = Draft(
        "pir",
        "minwon-portal",
        "kim",
        "github-actions",
        datetime(2026, 11, 12, tzinfo=KST),
        {"result": "achieved"},
        ("RFC-2026-0002",),
        id="pir-2",
    )
    # Recorded on 11-12, in its place in the ledger: before D6 started, so D6 owed nothing either.
    drafts_ = sorted([*[_draft(r) for r in placed()], extra], key=lambda d: d.at)
    result = _run(placed(drafts_))
    assert {i.id: i.result for i in result.items}["change.pir"] == "conform"
    # Recorded after D6 (a record is written when it happens): D6 started while the PIR was overdue.
    late = dataclasses.replace(extra, at=datetime(2026, 11, 21, tzinfo=KST))
    result = _run(placed([*[_draft(r) for r in placed()], late]))
    pir = {i.id: i for i in result.items}["change.pir"]
    assert (pir.result, pir.evidence) == ("nonconform", ("seq:35",))
    october = AuditBuilder(_policy(), Grade(1), NOW, rfc_models(), datetime(2026, 10, 1, tzinfo=KST), NOV[0])
    result = checklist(october.feed(placed()), system="minwon-portal")
    assert {i.id: i.result for i in result.items}["change.pir"] == "conform"


def _draft(record: Record):  # type: ignore[no-untyped-def]
    from gatekeeper.ledger import Draft

    return Draft(
        record.kind,
        record.system,
        record.actor,
        record.actor_source,
        record.moment,
        record.data,
        record.rfcs,
        id=record.id,
    )


def _deployment(rfc: str, change_type: str, when: datetime, ident: str) -> list[Draft]:
    started = Draft(
        "deployment.started",
        SYSTEM,
        "ci",
        "github-actions",
        when,
        {"change_type": change_type},
        (rfc,),
        id=ident,
    )
    finished = Draft(
        "deployment.finished",
        SYSTEM,
        "ci",
        "github-actions",
        when + timedelta(minutes=10),
        {"deployment_id": ident, "result": "success", "change_type": change_type},
        (rfc,),
        id=f"{ident}-end",
    )
    return [started, finished]


def _items(records: list[Record], grade: int = 1, calendar: BusinessCalendar | None = None) -> dict[str, Any]:
    builder = AuditBuilder(
        _policy(),
        Grade(grade),
        NOW,
        rfc_models(),
        None,
        None,
        calendar=calendar or _calendar(),
        system=SYSTEM,
    )
    return {i.id: i for i in checklist(builder.feed(records), system=SYSTEM).items}


def test_a_restricted_change_deployed_in_business_hours_is_nonconform() -> None:
    """CHG-P3: a normal change of a grade 1–2 system starts outside weekdays 09–18 on business days. A
    public holiday is no business day, and standard and emergency changes are not restricted (kr-ap-sop)."""
    extra = [
        *_deployment("RFC-2026-0002", "normal", datetime(2026, 11, 25, 10, 0, tzinfo=KST), "in-hours"),
        *_deployment("RFC-2026-0002", "normal", datetime(2026, 12, 25, 10, 0, tzinfo=KST), "christmas"),
        *_deployment("RFC-2026-0004", "standard", datetime(2026, 11, 26, 11, 0, tzinfo=KST), "standard"),
        # 09:00 UTC is 18:00 in Seoul: business hours have ended.
        *_deployment("RFC-2026-0002", "normal", datetime(2026, 11, 26, 9, 0, tzinfo=UTC), "at-six"),
    ]
    records = placed([*drafts(), *extra])
    item = _items(records)["change.business-hours"]
    assert item.result == "nonconform"
    assert item.evidence == ("seq:37",)
    # The gate's own finding (`window.business-hours`), as the gate would have blocked the deployment.
    assert item.notes == (
        "deployment 37: normal change in business hours: Wed 2026-11-25 10:00 Asia/Seoul is inside "
        "09:00–18:00 on a business day",
    )
    # Recommended for grade 3–4: the gate warns and allows, so the item conforms and says why.
    graded = _items(records, grade=3)["change.business-hours"]
    assert graded.result == "conform" and "seq:37" in graded.evidence
    assert graded.remarks == item.notes
    # Off-hours (and Christmas) only: conform, each restricted deployment its evidence.
    clean = placed([*drafts(), *extra[2:]])
    item = _items(clean)["change.business-hours"]
    assert (item.result, item.evidence) == ("conform", ("seq:8", "seq:18", "seq:21", "seq:37", "seq:41"))
    # Korean wording.
    builder = AuditBuilder(_policy(), Grade(1), NOW, rfc_models(), None, None, "ko", calendar=_calendar())
    ko = {i.id: i for i in checklist(builder.feed(records), system=SYSTEM).items}["change.business-hours"]
    assert ko.notes == ("배포 37: 업무시간(09:00–18:00) 중 배포입니다: 2026-11-25(수) 10:00 Asia/Seoul",)


def test_business_hours_without_a_calendar_or_holiday_data() -> None:
    records = placed(
        [*drafts(), *_deployment("RFC-2026-0002", "normal", datetime(2026, 11, 25, 10, tzinfo=KST), "d")]
    )
    builder = AuditBuilder(_policy(), Grade(1), NOW, rfc_models(), None, None)
    item = {i.id: i for i in checklist(builder.feed(records), system=SYSTEM).items}["change.business-hours"]
    assert item.result == "not-applicable"
    # A year the holidays package has no data for cannot be judged, and cannot-tell is not conform.
    far = placed(
        [*drafts(), *_deployment("RFC-2026-0002", "normal", datetime(2999, 1, 4, 3, tzinfo=KST), "d")]
    )
    item = _items(far)["change.business-hours"]
    assert item.result == "nonconform" and item.evidence == ("seq:37",)
    assert "no Korean holiday data for 2999" in item.notes[0]


def test_a_change_affecting_linked_systems_needs_its_notice_first() -> None:
    """REL-NOTICE: RFC-2026-0002 affects a linked integration; D2 went out before the notice, D3 after."""
    rfcs = rfc_models()
    linked = rfcs["RFC-2026-0002"]
    assert linked is not None
    impact = linked.impact.model_copy(update={"integrations": ("행정정보공동이용",), "systems": (SYSTEM,)})
    rfcs["RFC-2026-0002"] = linked.model_copy(update={"impact": impact})
    history = drafts()
    after_d2 = next(i for i, d in enumerate(history) if d.kind == "incident.opened") + 1
    notice = Draft(
        "notice",
        SYSTEM,
        "lee",
        "github-actions",
        datetime(2026, 11, 4, 10, 0, tzinfo=KST),
        {"to": ["행정정보공동이용센터"]},
        ("RFC-2026-0002",),
        id="notice-1",
    )
    records = placed([*history[:after_d2], notice, *history[after_d2:]])
    builder = AuditBuilder(_policy(), Grade(1), NOW, rfcs, NOV[0], NOV[1], system=SYSTEM)
    item = {i.id: i for i in checklist(builder.feed(records), system=SYSTEM).items}["release.notice"]
    assert (item.result, item.evidence) == ("nonconform", ("seq:18",))
    assert item.notes == (
        "deployment 18: RFC RFC-2026-0002 affects linked systems or agencies (행정정보공동이용) and no prior "
        "notice that counts is recorded",
    )
    # The audited system itself is no linked system.
    rfcs["RFC-2026-0002"] = linked.model_copy(
        update={"impact": linked.impact.model_copy(update={"systems": (SYSTEM,)})}
    )
    builder = AuditBuilder(_policy(), Grade(1), NOW, rfcs, NOV[0], NOV[1], system=SYSTEM)
    item = {i.id: i for i in checklist(builder.feed(records), system=SYSTEM).items}["release.notice"]
    assert item.result == "not-applicable"
    # With the notice before D2 as well, both deployments conform.
    before_d2 = next(
        i for i, d in enumerate(history) if d.kind == "deployment.started" and "RFC-2026-0002" in d.rfcs
    )
    records = placed([*history[:before_d2], notice, *history[before_d2:]])
    rfcs["RFC-2026-0002"] = linked.model_copy(update={"impact": impact})
    builder = AuditBuilder(_policy(), Grade(1), NOW, rfcs, NOV[0], NOV[1], system=SYSTEM)
    item = {i.id: i for i in checklist(builder.feed(records), system=SYSTEM).items}["release.notice"]
    assert (item.result, item.evidence) == ("conform", ("seq:19", "seq:22"))


def _with_approval(rfc: str, step: str, **changes: str) -> list[Record]:
    """The hand-checked history with one approval record changed (its actor or where it was recorded)."""
    history = [
        dataclasses.replace(d, **changes)
        if d.kind == "approval" and d.rfcs == (rfc,) and d.data["step"] == step
        else d
        for d in drafts()
    ]
    return placed(history)


def test_one_person_giving_two_steps_of_a_change_is_nonconform() -> None:
    """CHG-P3 two-step approval by distinct people; TST-P3 the verifier is not the reviewer."""
    records = _with_approval("RFC-2026-0002", "release-second", actor="@Kim")
    item = {i.id: i for i in _run(records).items}["change.approvals"]
    assert item.result == "nonconform"
    assert item.evidence == ("seq:18", "seq:21", "seq:35")  # D2, D3, and D6 as before
    assert item.notes[0] == (
        "deployment 18: @Kim gave both change-review and release-second of RFC RFC-2026-0002"
    )
    ko = {i.id: i for i in _run(records, lang="ko").items}["change.approvals"]
    assert ko.notes[0] == (
        "배포 18: @Kim님이 변경요청 RFC-2026-0002의 change-review 단계와 "
        "release-second 단계를 모두 승인했습니다"
    )


def test_a_workstation_approval_does_not_count_for_grade_1() -> None:
    """kr-ap-sop counts `local` approvals for grades 3–4 only, as the gate does."""
    records = _with_approval("RFC-2026-0002", "change-approval", actor_source="local")
    item = {i.id: i for i in _run(records).items}["change.approvals"]
    assert item.evidence == ("seq:18", "seq:21", "seq:35")
    assert item.notes[0] == (
        "deployment 18: RFC RFC-2026-0002 has no change-approval approval (an approval recorded on a "
        "workstation does not count for this grade)"
    )


def test_commits_are_judged_by_the_commit_rules() -> None:
    """The checklist files each commit's findings from `check-commits`' own rules: errors are
    nonconformities, warnings remarks; an RFC closed since the commit is only a remark."""
    from gatekeeper.domain import Finding, Severity

    def finding(rule: str, severity: Severity = Severity.ERROR) -> Finding:
        return Finding(rule, severity, "CFG-P3", f"{rule} said so", "fix it")

    inactive, missing = finding("commit.rfc-inactive"), finding("commit.rfc-missing")
    short, short_warning = (
        finding("commit.reason-missing"),
        finding("commit.reason-missing", Severity.WARNING),
    )
    commits = [
        JudgedCommit("a" * 40, "RFC-2026-0002 change", ("RFC-2026-0002",), ()),
        JudgedCommit("b" * 40, "RFC-2026-0003 old change", ("RFC-2026-0003",), (inactive,)),
        JudgedCommit("c" * 40, "hotfix", (), (missing, short)),
        JudgedCommit("d" * 40, "RFC-2026-0002 x", ("RFC-2026-0002",), (short_warning,)),
    ]
    item = {i.id: i for i in _run(placed(), commits).items}["configuration.commit-rfc"]
    assert (item.result, item.evidence) == ("nonconform", ("commit:" + "c" * 40,))
    assert item.notes == (
        "commit.rfc-missing: commit.rfc-missing said so; "
        "commit.reason-missing: commit.reason-missing said so",
    )
    assert [r.split(" ")[1] for r in item.remarks] == ["commit.rfc-inactive:", "commit.reason-missing:"]


def test_json_contract_and_exit_code(audit_repo: AuditRepo) -> None:
    result = run_cli(
        ["--format", "json", "audit", "--since", "2026-11-01", "--until", "2026-11-30"],
        cwd=audit_repo.path,
        now=AUDIT_AT,
    )
    assert result.code == 1, result.stderr
    body = json.loads(result.stdout)
    assert body["ok"] is False
    assert [i["id"] for i in body["items"]] == list(ITEMS)
    for item in body["items"]:
        # The contract's members, in order; `remarks` (warnings, how it was judged) is additive.
        assert list(item)[:5] == ["id", "area", "question", "result", "evidence"]
        assert set(item) <= {"id", "area", "question", "result", "evidence", "remarks"}
        assert item["area"] in {"change", "release", "test", "configuration"}
        assert item["result"] in {"conform", "nonconform", "not-applicable"}
    items = {i["id"]: i for i in body["items"]}
    for item_id, (expected, evidence) in EXPECTED_NOVEMBER.items():
        assert (items[item_id]["result"], items[item_id]["evidence"]) == (expected, evidence), item_id
    assert items["configuration.commit-rfc"] == {
        **items["configuration.commit-rfc"],
        "result": "nonconform",
        "evidence": [f"commit:{audit_repo.drifted_commit}"],
    }
    assert items["configuration.baseline"]["result"] == "nonconform"
    assert items["configuration.baseline"]["evidence"] == ["item:db-schema"]
    assert items["configuration.ledger-integrity"]["result"] == "conform"


def test_the_run_is_recorded(audit_repo: AuditRepo) -> None:
    result = run_cli(["--format", "json", "audit"], cwd=audit_repo.path, now=AUDIT_AT)
    seq = json.loads(result.stdout)["audit_run_seq"]
    ledger = SqliteLedger(audit_repo.path / ".gatekeeper" / "ledger.db")
    try:
        record = next(ledger.find(kind="audit.run"))
    finally:
        ledger.close()
    assert record.seq == seq and record.at == AUDIT_AT.isoformat()
    assert record.data["ok"] is False and "change.pir" in record.data["nonconform"]
    # Two items changed since the baseline, one of them with a change no RFC explains (seed 002:1024).
    assert record.data["configuration"] == {"items": 3, "intact": 2, "changed": 2, "errors": 1}
    dry = run_cli(["--format", "json", "audit", "--no-record"], cwd=audit_repo.path, now=AUDIT_AT)
    assert "audit_run_seq" not in json.loads(dry.stdout)


def test_korean_text(audit_repo: AuditRepo) -> None:
    result = run_cli(["--lang", "ko", "audit", "--since", "2026-11-01"], cwd=audit_repo.path, now=AUDIT_AT)
    assert result.code == 1
    assert "✗ 부적합" in result.stdout and "✓ 적합" in result.stdout
    assert "실패한 배포 r036" not in result.stdout  # the deployment is named by its started record's id
    assert "실패한 배포 r035(기록 36)에 장애 기록이 없습니다" in result.stdout
    # Three of the nonconformities: the world's releases were never accepted, tested in production or closed.
    assert result.stdout.rstrip().endswith("적합 13건, 부적합 12건, 해당없음 3건")


def test_clean_period_conforms(clean_repo: AuditRepo) -> None:
    """October: one deployment with everything in order, a PIR, commits with RFC IDs, no drift."""
    result = run_cli(
        ["audit", "--since", "2026-10-01", "--until", "2026-10-31"], cwd=clean_repo.path, now=AUDIT_AT
    )
    assert result.code == 0, result.stdout
    assert "NONCONFORM" not in result.stdout
    assert "✓ conform    change.pir" in result.stdout
    assert "- n/a        release.failure-incident" in result.stdout


def test_tampered_ledger_is_nonconform(clean_repo: AuditRepo) -> None:
    import sqlite3

    db = sqlite3.connect(clean_repo.path / ".gatekeeper" / "ledger.db")
    body = db.execute("SELECT body FROM records WHERE seq = 5").fetchone()[0]
    db.execute("UPDATE records SET body = ? WHERE seq = 5", (body.replace('"approve"', '"APPROVE"', 1),))
    db.commit()
    db.close()
    result = run_cli(["--format", "json", "audit", "--no-record"], cwd=clean_repo.path, now=AUDIT_AT)
    items = {i["id"]: i for i in json.loads(result.stdout)["items"]}
    assert items["configuration.ledger-integrity"] == {
        **items["configuration.ledger-integrity"],
        "result": "nonconform",
        "evidence": ["seq:5"],
    }
    assert result.code == 1


class _BrokenPool:
    """A worker pool whose worker never reports (as when it cannot start or dies)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        pass

    def submit(self, *args: object) -> Any:
        from concurrent.futures import Future

        future: Future[object] = Future()
        future.set_exception(OSError("the worker process died"))
        return future

    def shutdown(self, **kwargs: object) -> None:
        pass


@pytest.mark.parametrize("tampered", [False, True])
@pytest.mark.parametrize("worker", ["runs", "fails"])
def test_the_chain_verified_in_a_worker_or_in_process_alike(
    clean_repo: AuditRepo, monkeypatch: pytest.MonkeyPatch, tampered: bool, worker: str
) -> None:
    import concurrent.futures
    import sqlite3
    from types import SimpleNamespace

    from gatekeeper.commands import audit
    from gatekeeper.commands.audit import _chain_verified_elsewhere
    from gatekeeper.config import load_config

    monkeypatch.setattr(audit, "VERIFY_IN_WORKER_FROM", 0)  # the history is small

    path = clean_repo.path / ".gatekeeper" / "ledger.db"
    if tampered:
        db = sqlite3.connect(path)
        body = db.execute("SELECT body FROM records WHERE seq = 5").fetchone()[0]
        db.execute("UPDATE records SET body = ? WHERE seq = 5", (body.replace('"approve"', '"APPROVE"', 1),))
        db.commit()
        db.close()
    if worker == "fails":
        monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", _BrokenPool)
    config = load_config(clean_repo.path / ".gatekeeper.yml")
    ctx = SimpleNamespace(config=config, repo_root=clean_repo.path, runtime=SimpleNamespace(env={}))
    ledger = SqliteLedger(path)
    try:
        with _chain_verified_elsewhere(ctx, ledger) as pending:  # type: ignore[arg-type]
            result = pending()
        assert result == ledger.verify()
    finally:
        ledger.close()
    assert (result.ok, result.first_bad_seq) == ((True, None) if not tampered else (False, 5))


def test_a_normal_change_plan_names_its_worker() -> None:
    """CHG-PLAN: the change plan names the worker; a normal change's RFC without one is not complete."""
    models = rfc_models()
    normal = models["RFC-2026-0002"]
    assert normal is not None and normal.worker == "choi"
    models["RFC-2026-0002"] = normal.model_copy(update={"worker": None})
    builder = AuditBuilder(
        _policy(), Grade(1), NOW, models, NOV[0], NOV[1], "ko", calendar=_calendar(), system=SYSTEM
    )
    result = checklist(builder.feed(placed()), system="minwon-portal")
    plan = {i.id: i for i in result.items}["change.plan-complete"]
    assert plan.result == "nonconform" and "rfc:RFC-2026-0002" in plan.evidence
    assert any("누락: 작업자" in note for note in plan.notes), plan.notes
