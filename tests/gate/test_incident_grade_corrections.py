"""SOP INC grade corrections (seed 002 불임1, lines ~1384–1412): by time, region and service priority,
summed, at most two grades, never below grade 4."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import pytest

from gatekeeper.config import load_policy
from gatekeeper.domain import Grade
from gatekeeper.domain.incident import corrections, incident_grade
from gatekeeper.resources import policies_dir

SEOUL = ZoneInfo("Asia/Seoul")
POLICY = load_policy("kr-ap-sop", relative_to=policies_dir())
TUESDAY_NIGHT = datetime(2026, 11, 24, 22, 0, tzinfo=SEOUL)
TUESDAY_NOON = datetime(2026, 11, 24, 12, 0, tzinfo=SEOUL)


@pytest.mark.parametrize(
    ("region", "priority", "steps"),
    [
        ("", None, 0),
        ("national", 1, 0),
        ("regional-all", None, 1),  # 광역·기초 지자체, 주민 전체 영향: one grade
        ("regional-part", None, 2),  # 주민 일부 영향: two grades
        ("", 2, 1),  # only services of priority 2 or lower: one grade
        ("", 3, 2),  # priority 3 or lower: two grades
        ("", 7, 2),
        ("regional-part", 3, 4),  # summed here; capped when the grade is computed
    ],
)
def test_corrections(region: str, priority: int | None, steps: int) -> None:
    assert corrections(region, priority) == steps


@pytest.mark.parametrize(
    ("system", "occurred", "resolved", "region", "priority", "expected"),
    [
        (1, TUESDAY_NOON, None, "regional-all", None, 2),  # region applies while unresolved
        (1, TUESDAY_NIGHT, None, "", None, 1),  # time applies only once fixed before the next opening
        (1, TUESDAY_NIGHT, TUESDAY_NIGHT.replace(hour=23), "", None, 2),
        (1, TUESDAY_NIGHT, TUESDAY_NIGHT.replace(hour=23), "regional-all", None, 3),  # time + region
        (1, TUESDAY_NIGHT, TUESDAY_NIGHT.replace(hour=23), "regional-part", 3, 3),  # at most two grades
        (3, TUESDAY_NOON, None, "regional-part", None, 4),  # never below grade 4
    ],
)
def test_grade_is_lowered_at_most_two_grades(
    system: int,
    occurred: datetime,
    resolved: datetime | None,
    region: str,
    priority: int | None,
    expected: int,
) -> None:
    grade = incident_grade(
        Grade(system),
        occurred_at=occurred,
        resolved_at=resolved,
        audience="internal",
        policy=POLICY.incidents,
        zone=SEOUL,
        region=region,
        service_priority=priority,
    )
    assert grade is Grade(expected)
