"""Business time (SOP "업무시간"): business days, business hours and freeze periods, in the system's zone.

Every question is answered in the configured time zone (`config.timezone`, Asia/Seoul by default) from an
aware instant, so the runner's own `TZ` never changes an answer.

API (all methods are pure given the calendar's inputs; nothing reads the clock or the environment):

    cal = BusinessCalendar.from_config(config, policy)
    cal.day(date)                      -> DayInfo(day, business, reason_en, reason_ko)
    cal.in_business_hours(at)          -> bool       weekday-or-extra business day, start <= local time < end
    cal.freezes_at(at, change_type)    -> tuple[FreezeHit, ...]   freeze periods covering `at` for that type
    cal.blocked(at, change_type, grade)-> bool       the pack makes business hours or a freeze an *error* here
    cal.next_allowed(at, change_type, grade) -> datetime   first instant >= at not blocked (local zone)

Korean public holidays (lunar holidays, substitute holidays, election days, temporary holidays) come from
the `holidays` package; `calendar.extra_closed_days` / `extra_business_days` override it for days declared
at short notice. A day in a year the package has no data for raises `CalendarUnavailable`, which the gate
turns into `gate.error`: a gate never guesses that a day is a working day.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from gatekeeper.domain import ChangeType, Grade, Severity
from gatekeeper.errors import GatekeeperError
from gatekeeper.messages import msg, tr

if TYPE_CHECKING:
    from gatekeeper.config.models import Config, FreezePeriod, Policy

# The search for the next allowed instant stops here: a longer blockade is a configuration problem.
SEARCH_HORIZON = timedelta(days=400)
_MAX_STEPS = 200_000
_WEEKDAYS = (
    msg("Monday"),
    msg("Tuesday"),
    msg("Wednesday"),
    msg("Thursday"),
    msg("Friday"),
    msg("Saturday"),
    msg("Sunday"),
)


class CalendarUnavailable(GatekeeperError):
    """The calendar cannot answer (a year without holiday data, no allowed time within the horizon)."""


@dataclass(frozen=True, slots=True)
class DayInfo:
    day: date
    business: bool
    reason_en: str  # "weekday", "Saturday", a holiday's name, "extra closed day (config)", ...
    reason_ko: str


@dataclass(frozen=True, slots=True)
class FreezeHit:
    name: str
    start: datetime
    end: datetime


@lru_cache(maxsize=64)
def _kr_holidays(year: int, language: str) -> dict[date, str]:
    import holidays

    return dict(holidays.country_holidays("KR", years=year, language=language).items())


def holiday_years() -> tuple[int, int]:
    """The first and last year the installed `holidays` package has Korean data for."""
    from holidays.countries.south_korea import SouthKorea

    return int(SouthKorea.start_year), int(SouthKorea.end_year)


def _minutes(hhmm: str) -> time:
    hours, minutes = hhmm.split(":")
    return time(int(hours), int(minutes))


@dataclass(frozen=True)
class BusinessCalendar:
    timezone: str = "Asia/Seoul"
    business_start: str = "09:00"
    business_end: str = "18:00"
    extra_closed_days: frozenset[date] = frozenset()
    extra_business_days: frozenset[date] = frozenset()
    freezes: tuple[FreezePeriod, ...] = ()
    policy: Policy | None = None
    # Days already looked up: an audit asks about every deployment of a ledger's history.
    _days: dict[date, DayInfo] = field(default_factory=dict, init=False, repr=False, compare=False)

    @classmethod
    def from_config(cls, config: Config, policy: Policy) -> BusinessCalendar:
        return cls(
            timezone=config.timezone,
            business_start=policy.window.business_start,
            business_end=policy.window.business_end,
            extra_closed_days=frozenset(config.calendar.extra_closed_days),
            extra_business_days=frozenset(config.calendar.extra_business_days),
            freezes=config.freeze,
            policy=policy,
        )

    @property
    def zone(self) -> ZoneInfo:
        return _zone(self.timezone)

    def local(self, at: datetime) -> datetime:
        if at.tzinfo is None or at.utcoffset() is None:
            raise ValueError("the calendar needs an aware datetime")
        return at.astimezone(self.zone)

    # ----------------------------------------------------------------------------------------- days

    def day(self, day: date) -> DayInfo:
        found = self._days.get(day)
        if found is None:
            found = self._days[day] = self._look_up(day)
        return found

    def _look_up(self, day: date) -> DayInfo:
        first, last = holiday_years()
        if not first <= day.year <= last:
            raise CalendarUnavailable(
                msg(
                    "no Korean holiday data for {year} (the installed `holidays` package covers "
                    "{first}–{last})",
                    year=day.year,
                    first=first,
                    last=last,
                ),
                hint=msg(
                    "upgrade the `holidays` package; until then the gate cannot tell business days apart"
                ),
            )
        if day in self.extra_business_days:
            return DayInfo(day, True, *msg("extra business day (calendar.extra_business_days)").pair)
        if day in self.extra_closed_days:
            return DayInfo(day, False, *msg("extra closed day (calendar.extra_closed_days)").pair)
        name_en = _kr_holidays(day.year, "en_US").get(day)
        if name_en is not None:
            return DayInfo(day, False, name_en, _kr_holidays(day.year, "ko").get(day, name_en))
        weekday = day.weekday()
        if weekday >= 5:
            return DayInfo(day, False, *_WEEKDAYS[weekday].pair)
        return DayInfo(day, True, *msg("weekday").pair)

    def in_business_hours(self, at: datetime) -> bool:
        local = self.local(at)
        if not self.day(local.date()).business:
            return False
        clock = local.time().replace(tzinfo=None)
        return _clock(self.business_start) <= clock < _clock(self.business_end)

    def business_hours_end(self, at: datetime) -> datetime:
        """The end of the business hours that `at` falls in (local zone)."""
        local = self.local(at)
        return datetime.combine(local.date(), _clock(self.business_end), tzinfo=self.zone)

    # -------------------------------------------------------------------------------------- freezes

    def freezes_at(self, at: datetime, change_type: ChangeType) -> tuple[FreezeHit, ...]:
        return tuple(
            hit
            for period in self.freezes
            if change_type in period.change_types
            for hit in _freeze_hit(period, at, self.timezone)
        )

    # -------------------------------------------------------------------------------------- verdict

    def _blocking(self, rule: str, grade: Grade, change_type: ChangeType) -> bool:
        if self.policy is None:
            return True
        return self.policy.severity(rule, grade, change_type) is Severity.ERROR

    def blocked(self, at: datetime, change_type: ChangeType, grade: Grade) -> bool:
        if self._blocking("window.business-hours", grade, change_type) and self.in_business_hours(at):
            return True
        return self._blocking("window.freeze", grade, change_type) and bool(self.freezes_at(at, change_type))

    def next_allowed(self, at: datetime, change_type: ChangeType, grade: Grade) -> datetime:
        """The first instant at or after `at` when the pack allows this change type for this grade.

        Jumps from boundary to boundary (end of business hours, end of a freeze), so it is exact to the
        second and bounded by SEARCH_HORIZON.
        """
        moment = self.local(at)
        limit = moment + SEARCH_HORIZON
        hours_block = self._blocking("window.business-hours", grade, change_type)
        freeze_block = self._blocking("window.freeze", grade, change_type)
        for _ in range(_MAX_STEPS):
            if moment > limit:
                break
            later = moment
            if hours_block and self.in_business_hours(moment):
                later = max(later, self.business_hours_end(moment))
            if freeze_block:
                for hit in self.freezes_at(moment, change_type):
                    later = max(later, hit.end.astimezone(self.zone))
            if later == moment:
                return moment
            moment = later
        raise CalendarUnavailable(
            msg(
                "no allowed deployment time within {days} days after {at}",
                days=SEARCH_HORIZON.days,
                at=at.isoformat(),
            ),
            hint=msg(
                "check the freeze periods in .gatekeeper.yml (`freeze:`) and calendar.extra_closed_days"
            ),
        )


@lru_cache(maxsize=16)
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


@lru_cache(maxsize=16)
def _clock(text: str) -> time:
    """`HH:MM` as a time of day (the pack's business hours, asked for at every deployment)."""
    return _minutes(text)


def _freeze_hit(period: FreezePeriod, at: datetime, default_zone: str) -> Iterable[FreezeHit]:
    if period.start is not None and period.end is not None:
        if period.start <= at < period.end:
            yield FreezeHit(period.name, period.start, period.end)
        return
    if period.cron is None or period.duration_hours is None:
        return
    from croniter import croniter

    zone = ZoneInfo(period.timezone or default_zone)
    local = at.astimezone(zone)
    # get_prev is strictly before its base: one second later makes a start exactly at `at` count.
    start = croniter(period.cron, local + timedelta(seconds=1)).get_prev(datetime)
    end = start + timedelta(hours=period.duration_hours)
    if start <= at < end:
        yield FreezeHit(period.name, start, end)


def describe_day(info: DayInfo) -> tuple[str, str]:
    """A day's business status in words (en, ko)."""
    when = info.day.isoformat()
    if info.business:
        return (
            tr("en", "{when} is a business day ({reason})", when=when, reason=info.reason_en),
            tr("ko", "{when} is a business day ({reason})", when=when, reason=info.reason_ko),
        )
    return (
        tr("en", "{when} is not a business day ({reason})", when=when, reason=info.reason_en),
        tr("ko", "{when} is not a business day ({reason})", when=when, reason=info.reason_ko),
    )
