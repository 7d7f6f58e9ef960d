"""Deployment window rules (CHG-P3): no normal deployment in business hours; none inside a freeze.

The facts come from `gatekeeper.domain.calendar` (`window_facts`); the rules only decide and explain. Severity
comes from the pack: for kr-ap-sop an error for grade 1–2 normal changes, a warning for grades 3–4, and a
warning for emergency changes (allowed, but reported and recorded).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime

from gatekeeper.domain import ChangeType, Finding, Grade
from gatekeeper.domain.calendar import BusinessCalendar, DayInfo, FreezeHit
from gatekeeper.messages import msg, tr
from gatekeeper.rules import RuleContext


@dataclass(frozen=True, slots=True)
class WindowFacts:
    at: datetime  # the instant asked about, as given
    local: datetime  # the same instant in the system's time zone
    timezone: str
    day: DayInfo  # business-day flag and why (holiday name, weekend, extra day)
    in_business_hours: bool
    business_start: str
    business_end: str
    freezes: tuple[FreezeHit, ...]
    next_allowed: datetime  # the first instant >= at this change type may deploy


def window_facts(
    calendar: BusinessCalendar, at: datetime, change_type: ChangeType, grade: Grade
) -> WindowFacts:
    """Gather the window facts for one instant (raises CalendarUnavailable: the gate fails closed)."""
    local = calendar.local(at)
    in_hours = calendar.in_business_hours(at)
    freezes = calendar.freezes_at(at, change_type)
    return WindowFacts(
        at=at,
        local=local,
        timezone=calendar.timezone,
        day=calendar.day(local.date()),
        in_business_hours=in_hours,
        business_start=calendar.business_start,
        business_end=calendar.business_end,
        freezes=freezes,
        # Outside business hours and every freeze, now is the first allowed instant (no search needed).
        next_allowed=calendar.next_allowed(at, change_type, grade) if in_hours or freezes else local,
    )


def _stamp(moment: datetime) -> str:
    return moment.isoformat(timespec="minutes")


# The day of the week as a Korean date writes it (`2026-12-04(금)`); English writes `%a`.
WEEKDAYS = (msg("Mon"), msg("Tue"), msg("Wed"), msg("Thu"), msg("Fri"), msg("Sat"), msg("Sun"))


def business_hours(facts: WindowFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    if not facts.in_business_hours:
        return
    local = tr(
        ctx.lang,
        "{local:%a %Y-%m-%d %H:%M} {timezone}",
        local=facts.local,
        timezone=facts.timezone,
        weekday=WEEKDAYS[facts.local.weekday()],
    )
    hours = f"{facts.business_start}–{facts.business_end}"
    if ctx.change_type is ChangeType.EMERGENCY:
        message = tr(
            ctx.lang,
            "emergency deployment in business hours ({local}, {hours}): allowed, and recorded",
            local=local,
            hours=hours,
        )
        remediation = tr(
            ctx.lang,
            "record the after-the-fact review and approval of this emergency change before its deadline",
        )
    else:
        message = tr(
            ctx.lang,
            "{change_type} change in business hours: {local} is inside {hours} on a business day",
            change_type=ctx.change_type,
            local=local,
            hours=hours,
        )
        remediation = tr(
            ctx.lang,
            "deploy after {business_end} {timezone} or on a non-business day; next allowed "
            "{stamp_next_allowed}",
            business_end=facts.business_end,
            timezone=facts.timezone,
            stamp_next_allowed=_stamp(facts.next_allowed),
        )
    yield ctx.finding(
        "window.business-hours", subject=_stamp(facts.local), message=message, remediation=remediation
    )


def freeze(facts: WindowFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for hit in facts.freezes:
        period = f"{_stamp(hit.start)} – {_stamp(hit.end)}"
        yield ctx.finding(
            "window.freeze",
            subject=hit.name,
            message=tr(
                ctx.lang,
                "deployment inside the freeze period {name!r} ({period})",
                name=hit.name,
                period=period,
            ),
            remediation=tr(
                ctx.lang,
                "deploy after the freeze ends; next allowed {stamp_next_allowed}",
                stamp_next_allowed=_stamp(facts.next_allowed),
            ),
        )


WINDOW_RULES: dict[str, Callable[[WindowFacts, RuleContext], Iterable[Finding | None]]] = {
    "window.business-hours": business_hours,
    "window.freeze": freeze,
}


def check_window(facts: WindowFacts, ctx: RuleContext) -> list[Finding]:
    return [f for rule in WINDOW_RULES.values() for f in rule(facts, ctx) if f is not None]
