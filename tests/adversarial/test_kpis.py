"""The KPIs a developer with write access would like to look better (SOP REL-KPI, TST-KPI, CHG-KPI, CFG-KPI).

The inputs new to the KPIs are the RFC's planned test cases (`tests.planned`, functional coverage, seed 002
테스트관리 line 743) and the configuration's audit plan (`audit_plan`, 형상 검사 수행율, line 1022). Each bad
value is exit 2 naming the file, the place and the fix; each way of padding a KPI with records of one's own
is counted as the SOP's formula says, never beyond it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gatekeeper.checks.kpi import report, tallies_from_records
from gatekeeper.config import load_policy
from gatekeeper.ledger import Draft
from gatekeeper.resources import policies_dir
from tests.adversarial.conftest import Recorder
from tests.audit.history import KST, placed
from tests.helpers import BASE_CONFIG, GitRepo, run_cli

ZONE = ZoneInfo("Asia/Seoul")
SYSTEM = "minwon-portal"
R1, R2 = "RFC-2026-0001", "RFC-2026-0002"


def _at(day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, day, hour, minute, tzinfo=KST)


def _kpis(records: list[Draft], **kw: object) -> dict[str, tuple[object, object, object]]:
    policy = load_policy("kr-ap-sop", relative_to=policies_dir())
    tallies = tallies_from_records(placed(records), ZONE, **kw)  # type: ignore[arg-type]
    result = report(tallies, policy, system=SYSTEM, since=None, until=None)
    return {k.id: (k.value, k.numerator, k.denominator) for k in result.kpis}


def _draft(kind: str, when: datetime, rfcs: tuple[str, ...], data: dict[str, object], ident: str) -> Draft:
    return Draft(kind, SYSTEM, "ci", "github-actions", when, data, rfcs, id=ident)


def _deploy(ident: str, rfc: str, when: datetime, result: str = "success") -> list[Draft]:
    return [
        _draft("deployment.started", when, (rfc,), {"environment": "production", "commit": "a" * 40}, ident),
        _draft(
            "deployment.finished",
            when + timedelta(minutes=20),
            (rfc,),
            {"started": ident, "result": result, "environment": "production"},
            ident + "-f",
        ),
    ]


def _evidence(ident: str, rfc: str, when: datetime, kind: str, executed: int) -> Draft:
    data = {"kind": kind, "commit": "a" * 40, "totals": {"tests": executed, "passed": executed}}
    return _draft("test.evidence", when, (rfc,), data, ident)


# ------------------------------------------------------------------------------------------ inputs


@pytest.mark.parametrize(
    ("planned", "needle"),
    [
        ("{integration: -1}", "tests.planned"),
        ("{integration: 2.5}", "tests.planned"),
        ("{integration: many}", "tests.planned"),
        ("{integration: 10000001}", "tests.planned"),
        ("{smoke: 3}", "tests.planned"),
        ("[TC-01, TC-02]", "tests.planned"),
    ],
)
def test_planned_tests_that_are_not_counts_are_input_errors(
    repo: GitRepo, reliability: Recorder, planned: str, needle: str
) -> None:
    path = repo.add_rfc(R1)
    path.write_text(path.read_text(encoding="utf-8") + f"tests: {{planned: {planned}}}\n", encoding="utf-8")
    result = run_cli(["rfc", "validate", R1], cwd=repo.path)
    assert result.code == 1, result.stdout + result.stderr  # `rfc.invalid`, as every RFC that does not read
    assert f"{R1}.yml:16: {needle}" in result.stdout and "fix:" in result.stdout
    assert "Traceback" not in result.stdout + result.stderr
    korean = run_cli(["--lang", "ko", "rfc", "validate", R1], cwd=repo.path)
    assert korean.code == 1 and "조치:" in korean.stdout and needle in korean.stdout
    reliability.row(
        f"RFC tests.planned = {planned}",
        "planned test cases that are not a count per test kind",
        "rfc.invalid naming the RFC file, its line, tests.planned and the fix (en/ko)",
    )


@pytest.mark.parametrize(
    "plan",
    [
        "{per: month, count: 0}",
        "{per: month, count: -1}",
        "{per: week, count: 1}",
        "monthly",
        "{count: 1e400}",
    ],
)
def test_an_audit_plan_that_is_not_a_plan_is_a_configuration_error(
    repo: GitRepo, reliability: Recorder, plan: str
) -> None:
    repo.write(".gatekeeper.yml", BASE_CONFIG + f"audit_plan: {plan}\n")
    result = run_cli(["kpi"], cwd=repo.path)
    assert result.code == 2, result.stdout + result.stderr
    assert "audit_plan" in result.stderr and ".gatekeeper.yml" in result.stderr
    assert "Traceback" not in result.stderr and "fix:" in result.stderr
    reliability.row(
        f"audit_plan: {plan}",
        "an audit plan that plans nothing, or not per month, quarter or year",
        "exit 2 naming .gatekeeper.yml, audit_plan and the fix",
    )


# ------------------------------------------------------------------------------------------ padding


def test_evidence_beyond_the_plan_or_for_another_rfc_does_not_raise_coverage(reliability: Recorder) -> None:
    """TST-KPI (seed 002:743): coverage = test cases executed ÷ the functions the plan lists. Reports of a
    thousand tests do not cover more than the 10 cases planned, nor does evidence of another RFC."""
    records = [
        _evidence("e1", R1, _at(2, 9), "integration", 1000),
        _evidence("e2", R2, _at(2, 9, 5), "acceptance", 50),
        _evidence("e3", R1, _at(2, 9, 10), "unit", 500),  # not a kind the plan lists
        *_deploy("d1", R1, _at(3, 20)),
    ]
    planned = {R1: {"integration": 10, "acceptance": 5}}
    coverage = _kpis(records, planned=planned)["test-coverage"]
    assert coverage == (66.67, 10, 15)
    reliability.row(
        "1,000 integration tests, 500 unit tests and another RFC's acceptance tests for an RFC planning "
        "10 integration and 5 acceptance cases",
        "evidence padding functional coverage",
        "coverage 10/15: each kind capped at its plan, other RFCs' and unplanned kinds' evidence ignored",
    )


def test_a_request_never_deployed_counts_against_the_on_time_rate(reliability: Recorder) -> None:
    """CHG-KPI (seed 002:391): on-time changes ÷ change requests. A change left undeployed past its day
    is a request not done in time, not one left out of the count."""
    due = {R1: _at(5, 10), R2: _at(6, 10)}
    records = _deploy("d1", R1, _at(5, 20))
    on_time = _kpis(records, due=due, now=_at(20, 0))["change-on-time-rate"]
    assert on_time == (50.0, 1, 2)
    reliability.row(
        "an RFC due on 11-06 never deployed",
        "a late change hidden by not deploying it",
        "counted in the on-time rate's denominator (1/2)",
    )


def test_an_incident_after_a_successful_deployment_makes_it_a_failed_one(reliability: Recorder) -> None:
    """REL-KPI (seed 002:553): deployments after which an incident occurred ÷ deployments. A deployment
    that finished `success` and broke the service a day later is a failed deployment, however it ended."""
    records = [
        *_deploy("d1", R1, _at(3, 20)),
        *_deploy("d2", R2, _at(4, 20)),
        _draft("incident.opened", _at(5, 9), (R1,), {"type": "defect", "title": "신청 오류"}, "i1"),
        _draft("incident.opened", _at(5, 10), (R1,), {"type": "defect", "title": "또 오류"}, "i2"),
    ]
    values = _kpis(records)
    assert values["deployment-failure-rate"] == (50.0, 1, 2)  # d1 once, though two incidents followed
    assert values["post-deployment-defect-rate"] == (100.0, 2, 2)
    reliability.row(
        "deploy finish --result success, then incidents naming the RFC",
        "a failed deployment recorded as a success",
        "the deployment counts as failed (once) in the deployment failure rate",
    )


def test_audit_runs_beyond_the_plan_do_not_make_up_a_missed_month(reliability: Recorder) -> None:
    """CFG-KPI (seed 002:1022): audits performed ÷ audits planned. Ten audit runs in one month fill that
    month's plan, not the month before, whose audit was missed."""
    from gatekeeper.config.models import AuditPlan

    records = [*_deploy("d0", R1, datetime(2026, 10, 3, 20, tzinfo=KST)), *_deploy("d1", R1, _at(3, 20))]
    records += [_draft("audit.run", _at(28, 10, i), (), {"ok": True}, f"a{i}") for i in range(10)]
    values = _kpis(records, audit_plan=AuditPlan(per="month", count=1), now=_at(30, 23))
    assert values["audit-execution-rate"] == (50.0, 1, 2)
    reliability.row(
        "ten audit.run records in November, none in October",
        "audit runs padding the audit execution rate",
        "performed 1 of 2 planned (each month capped at its plan)",
    )
