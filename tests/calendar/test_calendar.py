"""The business calendar and the `window` command: KST boundaries, holidays, zones, freezes, fail-closed."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path

import pytest

from gatekeeper.config import load_policy
from gatekeeper.config.models import FreezePeriod
from gatekeeper.domain import ChangeType, Grade
from gatekeeper.domain.calendar import BusinessCalendar, CalendarUnavailable, holiday_years
from tests.helpers import GitRepo, run_cli

KST = timezone(timedelta(hours=9))
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def calendar() -> BusinessCalendar:
    return BusinessCalendar(policy=load_policy("kr-ap-sop", relative_to=ROOT))


@pytest.mark.parametrize(
    ("hh", "mm", "inside"), [(8, 59, False), (9, 0, True), (17, 59, True), (18, 0, False)]
)
def test_business_hour_boundaries_on_a_weekday(
    calendar: BusinessCalendar, hh: int, mm: int, inside: bool
) -> None:
    at = datetime(2026, 11, 24, hh, mm, tzinfo=KST)
    assert calendar.in_business_hours(at) is inside
    assert calendar.in_business_hours(at.astimezone(UTC)) is inside
    assert calendar.blocked(at, ChangeType.NORMAL, Grade.ONE) is inside


def test_chuseok_and_its_substitute_holiday(calendar: BusinessCalendar) -> None:
    chuseok = calendar.day(date(2025, 10, 6))
    substitute = calendar.day(date(2025, 10, 8))
    assert not chuseok.business and chuseok.reason_en == "Chuseok" and chuseok.reason_ko == "추석"
    assert not substitute.business and "Alternative holiday" in substitute.reason_en
    assert "대체" in substitute.reason_ko
    # From the eve of Chuseok, the next allowed start of a normal change is the same moment (holidays are
    # not business days), and Friday 10 October is the next business day.
    assert calendar.day(date(2025, 10, 10)).business


def test_next_allowed_skips_to_end_of_business_hours(calendar: BusinessCalendar) -> None:
    at = datetime(2026, 11, 24, 0, 30, tzinfo=UTC)  # 09:30 KST
    assert calendar.next_allowed(at, ChangeType.NORMAL, Grade.ONE) == datetime(
        2026, 11, 24, 18, 0, tzinfo=KST
    )
    assert calendar.next_allowed(at, ChangeType.NORMAL, Grade.THREE) == at  # a warning does not block
    assert calendar.next_allowed(at, ChangeType.EMERGENCY, Grade.ONE) == at


def test_year_without_holiday_data_is_an_error(calendar: BusinessCalendar) -> None:
    first, last = holiday_years()
    with pytest.raises(CalendarUnavailable, match=str(last + 1)):
        calendar.in_business_hours(datetime(last + 1, 3, 3, 10, tzinfo=KST))
    with pytest.raises(CalendarUnavailable):
        calendar.day(date(first - 1, 6, 1))


def test_extra_days_override_the_holiday_table() -> None:
    cal = BusinessCalendar(
        extra_closed_days=frozenset({date(2026, 11, 24)}), extra_business_days=frozenset({date(2025, 10, 8)})
    )
    assert not cal.day(date(2026, 11, 24)).business
    assert cal.day(date(2025, 10, 8)).business


def test_recurring_freeze_with_its_own_zone(calendar: BusinessCalendar) -> None:
    period = FreezePeriod(name="batch", cron="0 12 * * *", duration_hours=2, timezone="UTC")
    cal = BusinessCalendar(freezes=(period,), policy=calendar.policy)
    hits = cal.freezes_at(datetime(2026, 11, 24, 21, 0, tzinfo=KST), ChangeType.NORMAL)
    assert [(h.name, h.start, h.end) for h in hits] == [
        ("batch", datetime(2026, 11, 24, 12, tzinfo=UTC), datetime(2026, 11, 24, 14, tzinfo=UTC))
    ]
    assert cal.freezes_at(datetime(2026, 11, 24, 23, 0, tzinfo=KST), ChangeType.NORMAL) == ()
    assert cal.freezes_at(datetime(2026, 11, 24, 21, 0, tzinfo=KST), ChangeType.EMERGENCY) == ()


def test_permanent_freeze_gives_up_within_the_horizon(calendar: BusinessCalendar) -> None:
    period = FreezePeriod(name="always", cron="0 * * * *", duration_hours=2)
    cal = BusinessCalendar(freezes=(period,), policy=calendar.policy)
    with pytest.raises(CalendarUnavailable, match="no allowed deployment time"):
        cal.next_allowed(datetime(2026, 11, 24, 20, tzinfo=KST), ChangeType.NORMAL, Grade.ONE)


# ------------------------------------------------------------------------------------ the window command


def test_window_json_and_exit_codes(repo: GitRepo) -> None:
    blocked = run_cli(["--format", "json", "window", "--at", "2026-11-24T09:00:00+09:00"], cwd=repo.path)
    assert blocked.code == 1, blocked.stderr
    body = json.loads(blocked.stdout)
    assert body["allowed"] is False and body["decision"] == "block"
    assert body["next_allowed"] == "2026-11-24T18:00:00+09:00"
    assert body["findings"][0]["rule"] == "window.business-hours"
    assert "next allowed 2026-11-24T18:00+09:00" in body["findings"][0]["remediation"]

    asked = run_cli(["window", "--at", "2026-11-24T09:00:00+09:00", "--next"], cwd=repo.path)
    assert asked.code == 0 and "next allowed: 2026-11-24T18:00:00+09:00" in asked.stdout

    allowed = run_cli(["window", "--at", "2026-11-24T18:00:00+09:00"], cwd=repo.path)
    assert allowed.code == 0, allowed.stdout


def test_window_uses_the_injected_clock(repo: GitRepo) -> None:
    result = run_cli(
        ["--format", "json", "window"], cwd=repo.path, now=datetime(2026, 11, 24, 1, 0, tzinfo=UTC)
    )
    assert result.code == 1
    assert json.loads(result.stdout)["at"] == "2026-11-24T01:00:00+00:00"


def test_emergency_change_in_business_hours_is_allowed_and_reported(repo: GitRepo) -> None:
    result = run_cli(
        ["--format", "json", "window", "--type", "emergency", "--at", "2026-11-24T10:00:00+09:00"],
        cwd=repo.path,
    )
    body = json.loads(result.stdout)
    assert result.code == 0 and body["allowed"] is True
    assert body["in_business_hours"] is True and body["change_type"] == "emergency"
    assert all(f["severity"] != "error" for f in body["findings"])


@pytest.mark.parametrize("at", ["2026-11-24T09:00", "2026-11-24 nine", "tomorrow", "2026-13-01T00:00:00Z"])
def test_naive_or_malformed_at_is_an_input_error(repo: GitRepo, at: str) -> None:
    result = run_cli(["window", "--at", at], cwd=repo.path)
    assert result.code == 2
    assert "fix:" in result.stderr and "+09:00" in result.stderr


def test_year_without_data_fails_closed_on_the_command_line(repo: GitRepo) -> None:
    result = run_cli(["window", "--at", "2101-03-03T10:00:00+09:00"], cwd=repo.path)
    assert result.code == 2
    assert "no Korean holiday data for 2101" in result.stderr


def test_window_markdown_and_korean(repo: GitRepo) -> None:
    result = run_cli(
        ["--format", "markdown", "--lang", "ko", "window", "--at", "2025-10-10T10:00:00+09:00"], cwd=repo.path
    )
    assert result.code == 1
    assert "`window.business-hours`" in result.stdout and "업무시간" in result.stdout


@pytest.mark.parametrize("at", ["2026-11-24T09:00:00+09:00", "2026-11-24T00:00:00Z", "2025-10-08T01:30:00Z"])
def test_runner_time_zone_never_matters(repo: GitRepo, at: str) -> None:
    """The real CLI in a subprocess, with the runner's TZ set to UTC and to America/New_York."""
    outputs = []
    for tz in ("UTC", "America/New_York", "Asia/Seoul"):
        env = {**os.environ, "TZ": tz, "PYTHONPATH": str(ROOT)}
        done = subprocess.run(
            [sys.executable, "-m", "gatekeeper", "--format", "json", "window", "--at", at],
            cwd=repo.path,
            env=env,
            capture_output=True,
            text=True,
            check=False,
        )
        assert done.returncode in (0, 1), done.stderr
        outputs.append((done.returncode, done.stdout))
    assert outputs[0] == outputs[1] == outputs[2]
