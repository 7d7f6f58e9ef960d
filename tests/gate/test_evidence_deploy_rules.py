"""Test-evidence, deployment and incident rules on facts built in memory."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gatekeeper.config import load_policy
from gatekeeper.domain import ChangeType, DeploymentResult, EvidenceKind, Grade, Severity
from gatekeeper.domain.incident import Incidents, incident_grade
from gatekeeper.domain.records import PayloadError, read
from gatekeeper.facts.history import History
from gatekeeper.ledger import Draft
from gatekeeper.rules import RuleContext
from gatekeeper.rules.deploy import DeployFacts, PastDeployment, check_deploy
from gatekeeper.rules.tests import Evidence, EvidenceFacts, check_evidence

NOW = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)  # Tuesday 20:00 KST
HEAD = "1" * 40
OTHER = "2" * 40
SEOUL = ZoneInfo("Asia/Seoul")
POLICY = load_policy("kr-ap-sop")


def ctx(grade: int = 1, change_type: str = "normal", now: datetime = NOW) -> RuleContext:
    return RuleContext(POLICY, Grade(grade), ChangeType(change_type), now)


def ev(
    kind: str,
    *,
    commit: str = HEAD,
    tests: int = 10,
    passed: int = 10,
    failed: int = 0,
    errors: int = 0,
    skipped: int = 0,
) -> Evidence:
    return Evidence(EvidenceKind(kind), f"reports/{kind}.xml", commit, tests, passed, failed, errors, skipped)


def found(findings: list) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return sorted((f.rule, f.subject, str(f.severity)) for f in findings)


# ---------------------------------------------------------------------------------------------- tests.*


def test_unit_and_integration_for_head_pass() -> None:
    assert check_evidence(EvidenceFacts(HEAD, (ev("unit"), ev("integration"))), ctx()) == []


def test_missing_kinds_follow_the_requirement_severity() -> None:
    assert found(check_evidence(EvidenceFacts(HEAD, (ev("unit"),)), ctx())) == [
        ("tests.missing", "integration", "error")
    ]
    assert found(check_evidence(EvidenceFacts(HEAD, ()), ctx(1, "emergency"))) == [
        ("tests.missing", "unit", "warning")
    ]


def test_evidence_from_another_commit_is_stale_not_missing() -> None:
    facts = EvidenceFacts(HEAD, (ev("unit"), ev("integration", commit=OTHER)))
    assert found(check_evidence(facts, ctx())) == [("tests.stale", "integration", "error")]


def test_abbreviated_commit_names_match() -> None:
    assert check_evidence(EvidenceFacts(HEAD, (ev("unit", commit=HEAD[:9]), ev("integration"))), ctx()) == []


def test_failures_and_rate_below_threshold() -> None:
    facts = EvidenceFacts(HEAD, (ev("unit", tests=100, passed=90, failed=8, errors=2), ev("integration")))
    assert found(check_evidence(facts, ctx())) == [
        ("tests.below-threshold", "unit", "error"),
        ("tests.failed", "reports/unit.xml", "error"),
    ]


def test_rate_counts_executed_tests_and_a_report_without_tests_is_missing() -> None:
    ok = EvidenceFacts(HEAD, (ev("unit", tests=100, passed=96, skipped=4), ev("integration")))
    assert check_evidence(ok, ctx()) == []
    empty = EvidenceFacts(HEAD, (ev("unit", tests=3, passed=0, skipped=3), ev("integration")))
    (finding,) = check_evidence(empty, ctx())
    assert finding.rule == "tests.missing" and "ran no tests" in finding.message


def test_performance_impact_needs_performance_evidence() -> None:
    facts = EvidenceFacts(HEAD, (ev("unit"), ev("integration")), performance_rfcs=("RFC-2026-0042",))
    assert found(check_evidence(facts, ctx())) == [("tests.performance-missing", "RFC-2026-0042", "error")]
    with_perf = EvidenceFacts(HEAD, (*facts.items, ev("performance")), performance_rfcs=("RFC-2026-0042",))
    assert check_evidence(with_perf, ctx()) == []


# ---------------------------------------------------------------------------------------------- deploy.*


def started(seq: int, at: datetime, change_type: str = "normal", rfcs: tuple[str, ...] = ("RFC-2026-0001",)):  # type: ignore[no-untyped-def]
    return Draft(
        "deployment.started", "minwon-portal", "ci", "github-actions", at, {"change_type": change_type}, rfcs
    ).place(seq, "0" * 64)


def finished(seq: int, at: datetime, deployment_id: str, result: str = "success"):  # type: ignore[no-untyped-def]
    return Draft(
        "deployment.finished",
        "minwon-portal",
        "ci",
        "github-actions",
        at,
        {"started": deployment_id, "result": result},
    ).place(seq, "0" * 64)


def deployments_from_records(started_: list, finished_: list) -> list[PastDeployment]:  # type: ignore[type-arg]
    """The deployments the history pairs from these records, as the rules see them at NOW."""
    history = History(POLICY, Grade(1), "minwon-portal")
    for record in sorted([*started_, *finished_], key=lambda r: r.seq):
        history.add(read(record))
    return [d.past(NOW) for d in history.deployments()]


def test_open_deployment_blocks_even_when_stale() -> None:
    open_one = started(1, NOW - timedelta(hours=1))
    deployments = tuple(deployments_from_records([open_one], []))
    assert found(check_deploy(DeployFacts("minwon-portal", (), deployments), ctx())) == [
        ("deploy.concurrent", open_one.id, "error")
    ]
    old = tuple(deployments_from_records([started(1, NOW - timedelta(hours=13))], []))
    (stale,) = check_deploy(DeployFacts("minwon-portal", (), old), ctx())
    assert stale.severity is Severity.ERROR and "STALE" in stale.message
    done = started(1, NOW - timedelta(hours=1))
    closed = tuple(deployments_from_records([done], [finished(2, NOW, done.id)]))
    assert check_deploy(DeployFacts("minwon-portal", (), closed), ctx()) == []


def test_pir_is_due_14_days_after_a_cab_reviewed_grade1_normal_change() -> None:
    start = started(1, NOW - timedelta(days=20))
    deployments = tuple(deployments_from_records([start], [finished(2, NOW - timedelta(days=15), start.id)]))
    facts = DeployFacts("minwon-portal", (), deployments, cab_reviewed=frozenset({"RFC-2026-0001"}))
    assert found(check_deploy(facts, ctx())) == [("deploy.pir-overdue", "RFC-2026-0001", "error")]
    assert (
        check_deploy(
            DeployFacts(
                "minwon-portal",
                (),
                deployments,
                cab_reviewed=facts.cab_reviewed,
                pir_done=frozenset({"RFC-2026-0001"}),
            ),
            ctx(),
        )
        == []
    )
    # Not CAB-reviewed or not yet due: no debt; a grade-2 system is reminded (warning).
    assert check_deploy(DeployFacts("minwon-portal", (), deployments), ctx()) == []
    assert check_deploy(facts, ctx(now=NOW - timedelta(days=2))) == []
    assert [f.severity for f in check_deploy(facts, ctx(2))] == [Severity.WARNING]


def test_emergency_without_retro_approval_blocks_later_changes_but_fixes_of_its_incident() -> None:
    emergency = started(1, NOW - timedelta(hours=80), "emergency", ("RFC-2026-0009",))
    deployments = tuple(
        deployments_from_records([emergency], [finished(2, NOW - timedelta(hours=79), emergency.id)])
    )
    facts = DeployFacts(
        "minwon-portal", (), deployments, retro_approved={"RFC-2026-0009": frozenset({"change-review"})}
    )
    (finding,) = check_deploy(facts, ctx())
    assert (finding.rule, finding.subject, finding.severity) == (
        "deploy.retro-review-overdue",
        "RFC-2026-0009",
        Severity.ERROR,
    )
    assert "change-approval" in finding.message and "change-review," not in finding.message
    # Another emergency is held back too (CHG-P1), unless it fixes the same incident.
    fixes = {"RFC-2026-0010": "INC-2026-0001"}
    later = replace(facts, incidents=Incidents(), emergency_incidents=fixes)
    debt = "deploy.retro-review-overdue"
    assert debt in {f.rule for f in check_deploy(later, ctx(1, "emergency"))}
    same = replace(later, deployments=tuple(replace(d, incident="INC-2026-0001") for d in deployments))
    assert debt not in {f.rule for f in check_deploy(same, ctx(1, "emergency"))}
    assert check_deploy(facts, ctx(now=NOW - timedelta(hours=9))) == []  # within 72 h
    approved = DeployFacts(
        "minwon-portal",
        (),
        deployments,
        retro_approved={"RFC-2026-0009": frozenset({"change-review", "change-approval"})},
    )
    assert check_deploy(approved, ctx()) == []


def test_linked_systems_need_a_notice() -> None:
    facts = DeployFacts("minwon-portal", ("RFC-2026-0042",), linked={"RFC-2026-0042": ("gov24",)})
    assert found(check_deploy(facts, ctx())) == [("integration.notice-missing", "RFC-2026-0042", "error")]
    noticed = DeployFacts(
        "minwon-portal",
        ("RFC-2026-0042",),
        linked={"RFC-2026-0042": ("gov24",)},
        noticed=frozenset({"RFC-2026-0042"}),
    )
    assert check_deploy(noticed, ctx()) == []


def test_malformed_deployment_records_are_refused() -> None:
    bad = Draft("deployment.finished", "s", "ci", "local", NOW, {"result": "success"}).place(1, "0" * 64)
    with pytest.raises(PayloadError, match="does not name"):
        read(bad)


# ---------------------------------------------------------------------------------------------- incident


def kst(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=SEOUL)


@pytest.mark.parametrize(
    ("grade", "audience", "occurred", "resolved", "expected"),
    [
        (1, "internal", kst(24, 10), kst(24, 10, 30), 1),  # Tuesday business hours: system grade
        (1, "internal", kst(24, 19), kst(24, 23), 2),  # Tuesday evening, fixed overnight: one lower
        (1, "internal", kst(24, 19), kst(25, 9, 0), 1),  # fixed only at the next opening: no downgrade
        (1, "internal", kst(24, 19), kst(25, 8, 59), 2),
        (1, "public", kst(24, 19), kst(24, 20), 1),  # citizen-facing: 09-21 counts as service hours
        (1, "public", kst(24, 21), kst(24, 22), 2),
        (2, "internal", kst(28, 10), kst(30, 8), 3),  # Saturday, fixed before Monday 09:00
        (4, "internal", kst(28, 10), kst(28, 11), 4),  # never below grade 4
        (1, "internal", kst(24, 19), None, 1),  # unresolved: the system's grade
    ],
)
def test_incident_grade(
    grade: int, audience: str, occurred: datetime, resolved: datetime | None, expected: int
) -> None:
    assert incident_grade(
        Grade(grade),
        occurred_at=occurred,
        resolved_at=resolved,
        audience=audience,
        policy=POLICY.incidents,
        zone=SEOUL,
    ) is Grade(expected)


def test_incident_grade_uses_the_business_calendar_and_any_offset() -> None:
    # 08:00 UTC is 17:00 KST: service hours on a weekday, not on a day the calendar closes.
    holiday = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)
    closed = incident_grade(
        Grade.ONE,
        occurred_at=holiday,
        resolved_at=holiday + timedelta(hours=1),
        audience="internal",
        policy=POLICY.incidents,
        zone=SEOUL,
        business_day=lambda d: d.isoformat() != "2026-11-24",
    )
    assert closed is Grade.TWO
    assert (
        incident_grade(
            Grade.ONE,
            occurred_at=holiday,
            resolved_at=holiday + timedelta(hours=1),
            audience="internal",
            policy=POLICY.incidents,
            zone=SEOUL,
        )
        is Grade.ONE
    )
    assert DeploymentResult.ROLLED_BACK.value == "rolled-back"
