"""KPIs and DORA keys: hand-computed values on the small history, the same tallies from the record stream,
from SQLite and from PostgreSQL, and the `kpi` command's contract (DESIGN §3)."""

from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gatekeeper.checks.kpi import KPI_CATALOGUE, Tally, report, sql_tallies, tallies_from_records
from gatekeeper.config import load_policy
from gatekeeper.ledger.sqlite import SqliteLedger
from gatekeeper.resources import policies_dir
from tests.audit.conftest import AUDIT_AT, AuditRepo
from tests.audit.history import COMMIT_TIMES, KST, NOVEMBER_TESTS, drafts, placed
from tests.helpers import run_cli

ZONE = ZoneInfo("Asia/Seoul")
NOV = (datetime(2026, 11, 1, tzinfo=KST), datetime(2026, 12, 1, tzinfo=KST))
DUE = {f"RFC-2026-000{i}": datetime(2026, 11, 20, 10, 0, tzinfo=KST) for i in range(1, 5)}
DESIGN_IDS = {
    "deployment-success-rate",
    "deployment-failure-rate",
    "rollback-rate",
    "post-deployment-defect-rate",
    "mttr-minutes",
    "change-on-time-rate",
    "test-success-rate",
    "deployment-frequency",
    "lead-time-hours",
    "change-failure-rate",
    "time-to-restore-minutes",
}
# Hand-computed in tests/audit/history.py: id -> (value, numerator, denominator)
NOVEMBER = {
    "deployment-success-rate": (40.0, 2, 5),
    "deployment-failure-rate": (60.0, 3, 5),
    "rollback-rate": (20.0, 1, 5),
    "post-deployment-defect-rate": (0.0, 0, 5),  # ÷ all deployments (seed 002:555)
    "mttr-minutes": (729.5, 1459.0, 2),
    # every request due (11-20), deployed or not: RFC-2026-0004 only failed (seed 002:391)
    "change-on-time-rate": (75.0, 3, 4),
    "test-success-rate": (97.87, 92, 94),
    "deployment-frequency": (2.0, 2, None),
    "lead-time-hours": (18.25, 36.5, 2),
    "change-failure-rate": (60.0, 3, 5),
    "time-to-restore-minutes": (729.5, 1459.0, 2),  # one recovery time: the SOP's 장애 시간 (MTTR)
    "audit-execution-rate": (0.0, 0, 1),
}


def _policy():  # type: ignore[no-untyped-def]
    return load_policy("kr-ap-sop", relative_to=policies_dir())


def _november() -> dict[tuple[str, str], Tally]:
    return tallies_from_records(
        placed(), ZONE, since=NOV[0], until=NOV[1], due=DUE, commit_time=COMMIT_TIMES.get
    )


def test_hand_computed_november_kpis() -> None:
    result = report(_november(), _policy(), system="minwon-portal", since=NOV[0], until=NOV[1])
    values = {k.id: k for k in result.kpis}
    assert set(values) == set(KPI_CATALOGUE) and set(values) >= DESIGN_IDS
    for kpi_id, (value, numerator, denominator) in NOVEMBER.items():
        got = values[kpi_id]
        assert (got.value, got.numerator, got.denominator) == (value, numerator, denominator), kpi_id
    assert NOVEMBER_TESTS == (94, 92)
    assert (
        values["deployment-success-rate"].met is False and values["deployment-success-rate"].target == ">= 98"
    )
    assert values["test-success-rate"].met is True
    # The SOP gives no target for the change on-time rate: measured, neither met nor unmet.
    assert values["change-on-time-rate"].target is None and values["change-on-time-rate"].met is None
    # No RFC plans test cases: a target exists but nothing was measured.
    assert values["test-coverage"].value is None and values["test-coverage"].met is None
    assert result.ok is False


def test_months_are_local_and_separate() -> None:
    tallies = tallies_from_records(placed(), ZONE, due=DUE, commit_time=COMMIT_TIMES.get)
    assert sorted(tallies) == [("minwon-portal", "2026-10"), ("minwon-portal", "2026-11")]
    october = tallies[("minwon-portal", "2026-10")]
    assert (october.deployments, october.successes, october.tests_run, october.tests_passed) == (1, 1, 52, 52)
    assert october.lead_hours == pytest.approx(34.5)  # 10-19 10:00 -> 10-20 20:30


def test_failure_restored_across_the_period_boundary_counts_in_its_month() -> None:
    """An incident of a failure at 10-31 23:50 KST, restored by the next successful deployment on 11-01,
    belongs to October (local months, not UTC), with its 장애 시간 of 60 minutes."""
    from gatekeeper.ledger import Draft

    def d(kind: str, when: datetime, data: dict[str, object]) -> Draft:
        return Draft(kind, "minwon-portal", "ci", "github-actions", when, data, ("RFC-2026-0001",))

    failed_at = datetime(2026, 10, 31, 23, 50, tzinfo=KST)
    first = d("deployment.started", datetime(2026, 10, 31, 23, 40, tzinfo=KST), {"environment": "production"})
    second = d("deployment.started", datetime(2026, 11, 1, 0, 40, tzinfo=KST), {"environment": "production"})
    items = [
        first,
        d("deployment.finished", failed_at, {"result": "failure", "started": first.id}),
        d(
            "incident.opened",
            failed_at,
            {"type": "deployment-failure", "deployment_id": first.id, "occurred_at": failed_at.isoformat()},
        ),
        second,
        d(
            "deployment.finished",
            datetime(2026, 11, 1, 0, 50, tzinfo=KST),
            {"result": "success", "started": second.id},
        ),
    ]
    tallies = tallies_from_records(placed(items), ZONE)
    october = tallies[("minwon-portal", "2026-10")]
    assert (october.recover_minutes, october.recovered) == (60.0, 1)
    assert tallies[("minwon-portal", "2026-11")].successes == 1


def _assert_same(expected: dict[tuple[str, str], Tally], got: dict[tuple[str, str], Tally] | None) -> None:
    assert got is not None
    assert sorted(got) == sorted(expected)
    for key, tally in expected.items():
        for name, value in vars(tally).items():
            assert getattr(got[key], name) == pytest.approx(value, abs=1e-6), (key, name)


@pytest.mark.parametrize("period", [(None, None), NOV, (datetime(2026, 11, 4, tzinfo=KST), None)])
def test_sqlite_aggregation_equals_the_stream(tmp_path, period) -> None:  # type: ignore[no-untyped-def]
    ledger = SqliteLedger(tmp_path / "ledger.db")
    try:
        for draft in drafts():
            ledger.append(draft)
        since, until = period
        expected = tallies_from_records(
            placed(), ZONE, since=since, until=until, due=DUE, commit_time=COMMIT_TIMES.get
        )
        _assert_same(
            expected,
            sql_tallies(
                ledger,
                ZONE,
                system="minwon-portal",
                since=since,
                until=until,
                due=DUE,
                commit_time=COMMIT_TIMES.get,
            ),
        )
    finally:
        ledger.close()


@pytest.mark.postgres
def test_postgres_aggregation_equals_the_stream(pg_dsn: str) -> None:
    from gatekeeper.ledger.postgres import PostgresLedger

    ledger = PostgresLedger(pg_dsn, "kpi_" + uuid.uuid4().hex[:10])
    try:
        for draft in drafts():
            ledger.append(draft)
        for since, until in [(None, None), NOV]:
            expected = tallies_from_records(
                placed(), ZONE, since=since, until=until, due=DUE, commit_time=COMMIT_TIMES.get
            )
            got = sql_tallies(
                ledger,
                ZONE,
                system="minwon-portal",
                since=since,
                until=until,
                due=DUE,
                commit_time=COMMIT_TIMES.get,
            )
            _assert_same(expected, got)
        # The ledger still appends after the KPI transaction (no transaction left open).
        ledger.append(drafts()[0].__class__("audit.run", "minwon-portal", "ci", "local", NOV[0], {}))
    finally:
        ledger.close()


def test_kpi_command_json_contract(audit_repo: AuditRepo) -> None:
    result = run_cli(
        ["--format", "json", "kpi", "--since", "2026-11-01", "--until", "2026-11-30"],
        cwd=audit_repo.path,
        now=AUDIT_AT,
    )
    assert result.code == 1, result.stderr  # targets are missed
    body = json.loads(result.stdout)
    assert body["ok"] is False and body["system"] == "minwon-portal"
    assert body["period"] == {"since": "2026-11-01T00:00:00+09:00", "until": "2026-12-01T00:00:00+09:00"}
    kpis = {k["id"]: k for k in body["kpis"]}
    assert set(kpis) >= DESIGN_IDS
    for entry in body["kpis"]:
        assert list(entry) == ["id", "value", "unit", "target", "met", "sop", "numerator", "denominator"]
    assert kpis["deployment-success-rate"] == {
        "id": "deployment-success-rate",
        "value": 40.0,
        "unit": "%",
        "target": ">= 98",
        "met": False,
        "sop": "REL-KPI",
        "numerator": 2,
        "denominator": 5,
    }
    # The RFC files' requested date (11-20) gives the on-time rate (RFC-2026-0004 was never deployed
    # successfully: late); commit times come from git, and the history's commits are not in this
    # repository, so no lead time is measured.
    assert (kpis["change-on-time-rate"]["numerator"], kpis["change-on-time-rate"]["denominator"]) == (3, 4)
    assert kpis["lead-time-hours"]["value"] is None
    assert [m["month"] for m in body["months"]] == ["2026-11"]


def test_kpi_csv_and_markdown(audit_repo: AuditRepo) -> None:
    result = run_cli(["kpi", "--csv"], cwd=audit_repo.path, now=AUDIT_AT)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    months = {r["month"] for r in rows}
    assert months == {"2026-10", "2026-11", "total"}
    total = {r["kpi"]: r for r in rows if r["month"] == "total"}
    assert (
        total["deployment-success-rate"]["numerator"] == "3"
        and total["deployment-success-rate"]["denominator"] == "6"
    )
    md = run_cli(["--lang", "ko", "--format", "markdown", "kpi"], cwd=audit_repo.path, now=AUDIT_AT)
    assert "| 배포 성공률 | 50 % | >= 98 | ⛔ 미달 | REL-KPI | 3/6 |" in md.stdout


def test_audit_run_feeds_the_audit_execution_rate(audit_repo: AuditRepo) -> None:
    before = json.loads(
        run_cli(
            ["--format", "json", "kpi", "--since", "2026-11-01"], cwd=audit_repo.path, now=AUDIT_AT
        ).stdout
    )
    run_cli(["audit", "--since", "2026-11-01"], cwd=audit_repo.path, now=AUDIT_AT)
    after = json.loads(
        run_cli(
            ["--format", "json", "kpi", "--since", "2026-11-01"], cwd=audit_repo.path, now=AUDIT_AT
        ).stdout
    )
    rate = {k["id"]: k for k in before["kpis"]}["audit-execution-rate"]
    assert (rate["value"], rate["met"]) == (0.0, False)
    after_kpis = {k["id"]: k for k in after["kpis"]}
    assert (after_kpis["audit-execution-rate"]["value"], after_kpis["audit-execution-rate"]["met"]) == (
        100.0,
        True,
    )
    # The audit found one of three configuration items drifted: one error among the two items changed.
    assert after_kpis["configuration-integrity"]["numerator"] == 2
    assert after_kpis["configuration-integrity"]["denominator"] == 3
    detection = after_kpis["configuration-error-detection-rate"]
    assert (detection["value"], detection["numerator"], detection["denominator"]) == (50.0, 1, 2)


@pytest.mark.parametrize(
    "args",
    [
        ["--since", "yesterday"],
        ["--since", "2026-11-05", "--until", "2026-11-01"],
        ["--since", "2026-11-05T10:00:00"],
    ],
)
def test_bad_periods_are_usage_errors(audit_repo: AuditRepo, args: list[str]) -> None:
    result = run_cli(["kpi", *args], cwd=audit_repo.path, now=AUDIT_AT)
    assert result.code == 2 and "fix:" in result.stderr and "Traceback" not in result.stderr


def test_commit_times_by_full_or_abbreviated_sha(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """Lead time reads committer times from git: a full or abbreviated sha finds its commit, an unknown
    one finds none, each asked as often as deployments name it."""
    from gatekeeper.commands._kpi import commit_times
    from tests.helpers import GitRepo

    repo = GitRepo.create(tmp_path / "repo")
    sha = repo.commit("RFC-2026-0001 first")
    lookup = commit_times(repo.path)
    found = lookup(sha)
    assert found is not None and found.tzinfo is not None
    for _ in range(3):
        assert lookup(sha[:9].upper()) == found
        assert lookup("0" * 40) is None and lookup("abcdef0") is None
