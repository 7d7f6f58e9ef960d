"""Incident grade (SOP INC): the system's grade, lowered one grade for an incident outside service hours
that is fixed before the next weekday opens.

"Outside service hours" is outside weekdays 09–18 for internal services and 09–21 for citizen-facing
(public) ones (`incidents.internal_hours` / `public_hours` of the pack). "Weekday" is a business day of
the calendar the caller passes (weekends and public holidays are not), defaulting to Monday–Friday. The
SOP's further lowering by region and service priority needs facts gatekeeper does not have, so the grade
is lowered at most one step here; never below grade 4.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gatekeeper.config.models import IncidentPolicy
from gatekeeper.domain import Grade

BusinessDay = Callable[[date], bool]


def weekday(day: date) -> bool:
    return day.weekday() < 5


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def service_hours(policy: IncidentPolicy, audience: str) -> tuple[time, time]:
    start, end = policy.public_hours if audience == "public" else policy.internal_hours
    return _clock(start), _clock(end)


def in_service_hours(
    moment: datetime,
    policy: IncidentPolicy,
    audience: str,
    zone: ZoneInfo,
    business_day: BusinessDay = weekday,
) -> bool:
    local = moment.astimezone(zone)
    start, end = service_hours(policy, audience)
    return business_day(local.date()) and start <= local.time().replace(tzinfo=None) < end


def next_opening(
    moment: datetime,
    policy: IncidentPolicy,
    audience: str,
    zone: ZoneInfo,
    business_day: BusinessDay = weekday,
) -> datetime:
    """The next start of service hours strictly after `moment` (the "09:00 of the next weekday")."""
    local = moment.astimezone(zone)
    start, _ = service_hours(policy, audience)
    day = local.date()
    for _ in range(400):  # the calendar never closes for more than a year
        opening = datetime.combine(day, start, tzinfo=zone)
        if business_day(day) and opening > local:
            return opening
        day += timedelta(days=1)
    raise ValueError("no business day within a year after the incident")


def incident_grade(
    system_grade: Grade,
    *,
    occurred_at: datetime,
    resolved_at: datetime | None,
    audience: str,
    policy: IncidentPolicy,
    zone: ZoneInfo,
    business_day: BusinessDay = weekday,
) -> Grade:
    """The incident's grade; an unresolved incident keeps the system's grade."""
    if resolved_at is None or in_service_hours(occurred_at, policy, audience, zone, business_day):
        return Grade(system_grade)
    if resolved_at < next_opening(occurred_at, policy, audience, zone, business_day):
        return Grade(min(int(system_grade) + 1, int(Grade.FOUR)))
    return Grade(system_grade)
