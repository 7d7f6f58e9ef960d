"""One golden test per KPI: the seed's formula on a small hand-built ledger, worked out by hand in each
test's docstring (seed 002: 변경관리 391, 배포관리 552–556, 테스트관리 742–743, 형상관리 1022–1024, 장애관리
1235; DORA for the four keys). The README's KPI table cites the same lines (`KPI_FORMULAS`)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gatekeeper.checks.kpi import report, tallies_from_records
from gatekeeper.config import load_policy
from gatekeeper.config.models import AuditPlan
from gatekeeper.domain.catalogue import KPI_CATALOGUE, KPI_FORMULAS
from gatekeeper.ledger import Draft
from gatekeeper.resources import policies_dir
from tests.audit.history import KST, placed

ZONE = ZoneInfo("Asia/Seoul")
SYSTEM = "minwon-portal"
R1, R2, R3, R4 = (f"RFC-2026-010{n}" for n in range(1, 5))


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=KST)


class Ledger:
    """A few records in order, with fixed ids."""

    def __init__(self) -> None:
        self.drafts: list[Draft] = []

    def add(self, kind: str, when: datetime, rfcs: tuple[str, ...], data: Mapping[str, object]) -> str:
        ident = f"k{len(self.drafts) + 1:03d}"
        self.drafts.append(Draft(kind, SYSTEM, "ci", "github-actions", when, dict(data), rfcs, id=ident))
        return ident

    def deploy(self, rfc: str, when: datetime, result: str = "success", minutes: int = 20) -> str:
        started = self.add(
            "deployment.started", when, (rfc,), {"environment": "production", "commit": "c" * 40}
        )
        finished = when + timedelta(minutes=minutes)
        self.add("deployment.finished", finished, (rfc,), {"started": started, "result": result})
        if result in ("failure", "rolled-back"):  # what `deploy finish` writes
            data: dict[str, object] = {"type": "deployment-failure", "deployment_id": started}
            data["occurred_at"] = when.isoformat()
            if result == "rolled-back":
                data["resolved_at"] = finished.isoformat()
            self.add("incident.opened", finished, (rfc,), data)
        return started

    def incident(self, when: datetime, rfcs: tuple[str, ...] = (), **data: object) -> str:
        return self.add("incident.opened", when, rfcs, {"type": "defect", "title": "장애", **data})

    def evidence(self, rfc: str, when: datetime, kind: str, passed: int, failed: int = 0) -> None:
        totals = {"tests": passed + failed, "passed": passed, "failed": failed}
        self.add("test.evidence", when, (rfc,), {"kind": kind, "commit": "c" * 40, "totals": totals})

    def audit(self, when: datetime, **configuration: int) -> None:
        self.add("audit.run", when, (), {"ok": True, "configuration": configuration})

    def kpi(self, kpi_id: str, **kw: object) -> tuple[object, object, object]:
        policy = load_policy("kr-ap-sop", relative_to=policies_dir())
        tallies = tallies_from_records(placed(self.drafts), ZONE, **kw)  # type: ignore[arg-type]
        values = {k.id: k for k in report(tallies, policy, system=SYSTEM, since=None, until=None).kpis}
        found = values[kpi_id]
        assert found.sop == KPI_CATALOGUE[kpi_id][1]
        return found.value, found.numerator, found.denominator


def test_every_kpi_cites_its_seed_line_and_has_a_golden_test() -> None:
    assert list(KPI_FORMULAS) == list(KPI_CATALOGUE)
    tested = {name.removeprefix("test_").replace("_", "-") for name in globals() if name.startswith("test_")}
    for kpi_id, (where, formula) in KPI_FORMULAS.items():
        assert where and formula.en and formula.ko
        assert kpi_id in tested, f"no golden test for {kpi_id}"


def test_deployment_success_rate() -> None:
    """REL-KPI, seed 002:552: (성공한 배포 수 / 전체 배포 수) × 100. Three deployments count (success,
    failure, success); the aborted one changed nothing: 2/3."""
    led = Ledger()
    led.deploy(R1, at(2, 20))
    led.deploy(R2, at(3, 20), "failure")
    led.deploy(R2, at(4, 20))
    led.deploy(R3, at(5, 20), "aborted")
    assert led.kpi("deployment-success-rate") == (66.67, 2, 3)


def test_deployment_failure_rate() -> None:
    """REL-KPI, seed 002:553: (장애 발생 배포 수 / 전체 배포 수) × 100. Of four deployments, one failed, one
    succeeded and then had two incidents naming its RFC (counted once), one succeeded and an incident named
    it by id, one had none: 3/4."""
    led = Ledger()
    led.deploy(R1, at(2, 20))
    led.incident(at(3, 9), (R1,))
    led.incident(at(3, 11), (R1,))
    led.deploy(R2, at(4, 20), "failure")
    third = led.deploy(R3, at(5, 20))
    led.incident(at(6, 9), deployment_id=third)
    led.deploy(R4, at(7, 20))
    assert led.kpi("deployment-failure-rate") == (75.0, 3, 4)


def test_rollback_rate() -> None:
    """REL-KPI, seed 002:554: (롤백 배포 수 / 전체 배포 수) × 100: one rolled back of four: 1/4."""
    led = Ledger()
    for day, result in ((2, "success"), (3, "rolled-back"), (4, "success"), (5, "failure")):
        led.deploy(R1, at(day, 20), result)
    assert led.kpi("rollback-rate") == (25.0, 1, 4)


def test_post_deployment_defect_rate() -> None:
    """REL-KPI, seed 002:555: (배포 후 발견된 결함 수 / 전체 배포 수) × 100 — over every deployment, not only
    the successful ones. One defect after two deployments (one failed; its own incident is no defect): 1/2."""
    led = Ledger()
    led.deploy(R1, at(2, 20))
    led.deploy(R2, at(3, 20), "failure")
    led.incident(at(4, 9), (R1,))
    assert led.kpi("post-deployment-defect-rate") == (50.0, 1, 2)


def _two_incidents() -> Ledger:
    """A rollback of 15 minutes and an incident from 10:00 to 11:15 closed by hand: (15 + 75) / 2 = 45."""
    led = Ledger()
    led.deploy(R1, at(2, 20), "rolled-back", minutes=15)
    led.incident(at(3, 10, 10), (R2,), incident_id="INC-9", occurred_at=at(3, 10).isoformat())
    led.add(
        "incident.closed",
        at(3, 11, 20),
        (R2,),
        {"incident": "INC-9", "resolved_at": at(3, 11, 15).isoformat(), "action": "재기동"},
    )
    return led


def test_mttr_minutes() -> None:
    """REL-KPI, seed 002:556 (장애 발생 시간 ~ 정상화 시간) and 1235 (장애 시간): the mean, from each
    incident's occurrence to its resolution. See `_two_incidents`: 90 minutes over 2."""
    assert _two_incidents().kpi("mttr-minutes") == (45.0, 90.0, 2)


def test_time_to_restore_minutes() -> None:
    """DORA time to restore service: the SOP's 장애 시간, one figure with MTTR (45 minutes)."""
    assert _two_incidents().kpi("time-to-restore-minutes") == (45.0, 90.0, 2)


def test_change_on_time_rate() -> None:
    """CHG-KPI, seed 002:391: (목표시간내 변경 건수 ÷ 변경 요청 건수) × 100. Requests due 11-05 (deployed
    that evening), 11-06 (deployed 11-09: late) and 11-07 (never deployed: late) count; one due 11-30 is
    not yet due on 11-20 (now): 1/3."""
    led = Ledger()
    led.deploy(R1, at(5, 20))
    led.deploy(R2, at(9, 20))
    due = {R1: at(5, 10), R2: at(6, 10), R3: at(7, 10), R4: at(30, 10)}
    assert led.kpi("change-on-time-rate", due=due, now=at(20, 0)) == (33.33, 1, 3)


def test_test_success_rate() -> None:
    """TST-KPI, seed 002:742: (성공 테스트 수 / 전체 테스트 수) × 100: 9 + 18 passed of 10 + 20: 27/30."""
    led = Ledger()
    led.evidence(R1, at(2, 9), "unit", 9, 1)
    led.evidence(R1, at(2, 10), "integration", 18, 2)
    assert led.kpi("test-success-rate") == (90.0, 27, 30)


def test_test_coverage() -> None:
    """TST-KPI, seed 002:743: (테스트 수행 가능 수 / 전체 기능 수) × 100, functional: RFC-2026-0101 plans 4
    integration and 2 acceptance cases; its integration reports ran 3 and 2 (the most one ran: 3), its
    acceptance test in production 5 (at most the 2 planned); unit tests are not in its plan: 5/6. An RFC
    planned but never deployed is not counted."""
    led = Ledger()
    led.evidence(R1, at(2, 9), "integration", 3)
    led.evidence(R1, at(2, 10), "integration", 2)
    led.evidence(R1, at(2, 11), "unit", 40)
    led.deploy(R1, at(3, 20))
    led.evidence(R1, at(4, 10), "acceptance", 5)
    planned = {R1: {"integration": 4, "acceptance": 2}, R2: {"integration": 10}}
    assert led.kpi("test-coverage", planned=planned) == (83.33, 5, 6)


def test_audit_execution_rate() -> None:
    """CFG-KPI, seed 002:1022: (실제 수행된 검사 횟수 / 계획된 검사 횟수) × 100. Two audits planned a month;
    October had one, November three (two count), December has not ended on 12-10 (now) and had none: 3/4."""
    led = Ledger()
    led.deploy(R1, at(2, 20, month=10))
    led.audit(at(30, 10, month=10))
    for day in (10, 20, 28):
        led.audit(at(day, 10))
    plan = AuditPlan(per="month", count=2)
    assert led.kpi("audit-execution-rate", audit_plan=plan, now=at(10, 9, month=12)) == (75.0, 3, 4)


@pytest.mark.parametrize(
    ("per", "expected"),
    [("quarter", (50.0, 1, 2)), ("year", (100.0, 1, 1)), (None, (50.0, 1, 2))],
)
def test_audit_execution_rate_per_plan_period(per: str | None, expected: tuple[float, int, int]) -> None:
    """A plan per quarter: Q3 (deployments in September, no audit) and Q4 (an audit in November) are planned
    once each: 1/2. Per year: 2026 once, audited: 1/1. Without a plan: one audit in each month with
    deployments (September and November): 1/2."""
    led = Ledger()
    led.deploy(R1, at(2, 20, month=9))
    led.deploy(R1, at(2, 20, month=11))
    led.audit(at(20, 10))
    plan = AuditPlan(per=per, count=1) if per else None  # type: ignore[arg-type]
    assert led.kpi("audit-execution-rate", audit_plan=plan, now=at(31, 12, month=12)) == expected


def test_configuration_integrity() -> None:
    """CFG-KPI, seed 002:1023: (무결성이 확인된 형상 수 / 전체 변경 형상 수) × 100, of the month's last audit:
    3 of 4 items intact."""
    led = Ledger()
    led.audit(at(10, 10), items=4, intact=1)
    led.audit(at(20, 10), items=4, intact=3)
    assert led.kpi("configuration-integrity") == (75.0, 3, 4)


def test_configuration_error_detection_rate() -> None:
    """CFG-KPI, seed 002:1024: (탐지된 오류 수 / 전체 변경 항목 수) × 100, of the month's last audit: of 5
    items, 4 changed since the baseline and 1 of them with a change no RFC explains: 1/4."""
    led = Ledger()
    led.audit(at(20, 10), items=5, intact=4, changed=4, errors=1)
    assert led.kpi("configuration-error-detection-rate") == (25.0, 1, 4)


def test_deployment_frequency() -> None:
    """DORA deployment frequency: successful deployments (2 of 3)."""
    led = Ledger()
    led.deploy(R1, at(2, 20))
    led.deploy(R2, at(3, 20), "failure")
    led.deploy(R2, at(4, 20))
    assert led.kpi("deployment-frequency") == (2.0, 2, None)


def test_lead_time_hours() -> None:
    """DORA lead time for changes: from the commit (11-02 08:00) to the successful deployment's finish
    (11-02 20:20): 12.33 hours."""
    led = Ledger()
    led.deploy(R1, at(2, 20))
    commits = {"c" * 40: at(2, 8)}
    assert led.kpi("lead-time-hours", commit_time=commits.get) == (12.33, 12.33, 1)


def test_change_failure_rate() -> None:
    """DORA change failure rate: deployments causing a failure in production ÷ deployments, the count of
    the deployment failure rate (a failed deployment, and a successful one an incident named): 2/3."""
    led = Ledger()
    led.deploy(R1, at(2, 20), "failure")
    led.deploy(R2, at(3, 20))
    led.incident(at(4, 9), (R2,))
    led.deploy(R3, at(5, 20))
    assert led.kpi("change-failure-rate") == (66.67, 2, 3)
