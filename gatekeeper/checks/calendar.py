"""The change calendar over a period (`gatekeeper calendar`): planned changes, the days' business status,
freezes, recorded deployments, and the collisions as `calendar.collision` findings (pure).

What it reads (documented in the README): the RFC store of this repository — every active RFC, whatever
systems it names — and, from the ledger, the `deployment.started` records of any system (an agency's
systems may share one ledger). The systems it knows are this configuration's, those named by the RFCs
(their `systems` and linked systems), and those the ledger's deployment records name. Other repositories'
RFC stores are not read: a change of another system appears when an RFC here names it, or once it is
deployed.

Linear: each RFC is placed once (`domain.changecal.place`), collisions come from one sweep per system or
configuration item, and a day is looked up once.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from gatekeeper.config.models import FreezePeriod, Policy, Rfc
from gatekeeper.domain import ChangeType, Finding, Grade, Severity
from gatekeeper.domain.calendar import BusinessCalendar, DayInfo
from gatekeeper.domain.changecal import Collision, Slot, Unscheduled, active, collisions, in_period, place
from gatekeeper.rules import RuleContext
from gatekeeper.rules.calendar import CollisionFacts, collision

# A longer period is refused: recurring freezes are expanded over it, and a year is what people plan.
MAX_DAYS = 366
_FREEZE_STEPS = 20_000


@dataclass(frozen=True, slots=True)
class Deployment:
    """A `deployment.started` record of the ledger (any system), and its finish if recorded."""

    id: str
    system: str
    rfcs: tuple[str, ...]
    start: datetime
    end: datetime | None
    result: str


@dataclass(frozen=True, slots=True)
class FreezeSpan:
    name: str
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Day:
    info: DayInfo
    freezes: tuple[str, ...]


@dataclass(frozen=True)
class ChangeCalendar:
    start: datetime
    end: datetime
    timezone: str
    business_start: str
    business_end: str
    systems: tuple[str, ...]
    slots: tuple[Slot, ...]
    in_business_hours: frozenset[str]  # RFC IDs whose slot starts in business hours
    in_freeze: dict[str, tuple[str, ...]]  # RFC ID -> freezes its slot overlaps
    unscheduled: tuple[Unscheduled, ...]
    deployments: tuple[Deployment, ...]
    days: tuple[Day, ...]
    freezes: tuple[FreezeSpan, ...]
    collisions: tuple[Collision, ...]
    findings: tuple[Finding, ...]

    @property
    def ok(self) -> bool:
        return not any(f.severity is Severity.ERROR for f in self.findings)


def freeze_spans(
    freezes: Sequence[FreezePeriod], start: datetime, end: datetime, zone: str
) -> list[FreezeSpan]:
    """The freeze periods overlapping [start, end); a recurring one's occurrences merged where they touch."""
    out: list[FreezeSpan] = []
    for period in freezes:
        if period.start is not None and period.end is not None:
            if period.start < end and period.end > start:
                out.append(FreezeSpan(period.name, period.start, period.end))
            continue
        if period.cron is None or period.duration_hours is None:
            continue
        from croniter import croniter

        length = timedelta(hours=period.duration_hours)
        local = (start - length).astimezone(ZoneInfo(period.timezone or zone))
        runs = croniter(period.cron, local - timedelta(seconds=1))
        merged: list[FreezeSpan] = []
        for _ in range(_FREEZE_STEPS):
            first = runs.get_next(datetime)
            if first >= end:
                break
            if first + length <= start:
                continue
            if merged and merged[-1].end >= first:
                merged[-1] = FreezeSpan(period.name, merged[-1].start, max(merged[-1].end, first + length))
            else:
                merged.append(FreezeSpan(period.name, first, first + length))
        out.extend(merged)
    return sorted(out, key=lambda f: (f.start, f.name))


def _touches(slot: Slot, chosen: frozenset[str] | None) -> bool:
    return chosen is None or not chosen.isdisjoint((*slot.systems, *slot.linked))


def build(
    *,
    rfcs: Iterable[tuple[str, Rfc]],
    deployments: Iterable[Deployment],
    calendar: BusinessCalendar,
    policy: Policy,
    grade: Grade,
    start: datetime,
    end: datetime,
    systems: frozenset[str] | None,
    known: Sequence[str],
    lang: str,
) -> ChangeCalendar:
    """The calendar of [start, end) for `systems` (None: every system)."""
    zone = calendar.zone
    placed: list[Slot] = []
    unscheduled: list[Unscheduled] = []
    for rfc_id, rfc in active(rfcs):
        where = place(rfc_id, rfc, zone)
        if isinstance(where, Slot):
            placed.append(where)
        elif systems is None or systems.intersection(where.systems):
            unscheduled.append(where)
    shown = [s for s in in_period(placed, start, end) if _touches(s, systems)]
    found = [
        c
        for c in collisions(in_period(placed, start, end))
        if _touches(c.first, systems) or _touches(c.second, systems)
    ]
    findings: list[Finding] = []
    for pair in found:
        kinds = {pair.first.change_type, pair.second.change_type}
        change_type = ChangeType.EMERGENCY if "emergency" in kinds else ChangeType.NORMAL
        ctx = RuleContext(policy, grade, change_type, start, lang)
        facts = CollisionFacts((pair.first,), (pair,), calendar.timezone)
        findings.extend(f for f in collision(facts, ctx) if f is not None)
    freezes = freeze_spans(calendar.freezes, start, end, calendar.timezone)
    days: list[Day] = []
    first_day, last_day = (
        start.astimezone(zone).date(),
        (end - timedelta(microseconds=1)).astimezone(zone).date(),
    )
    day = first_day
    while day <= last_day:
        lo = datetime.combine(day, time(), zone)
        hi = datetime.combine(day + timedelta(days=1), time(), zone)
        names = tuple(dict.fromkeys(f.name for f in freezes if f.start < hi and f.end > lo))
        days.append(Day(calendar.day(day), names))
        day += timedelta(days=1)
    in_hours = frozenset(s.rfc_id for s in shown if calendar.in_business_hours(s.start))
    in_freeze = {
        s.rfc_id: names
        for s in shown
        if (names := tuple(dict.fromkeys(f.name for f in freezes if f.start < s.end and f.end > s.start)))
    }
    chosen = sorted(systems) if systems is not None else sorted(known)
    recorded = tuple(
        d
        for d in sorted(deployments, key=lambda d: (d.start, d.id))
        if (systems is None or d.system in systems) and d.start < end and (d.end is None or d.end > start)
    )
    return ChangeCalendar(
        start=start,
        end=end,
        timezone=calendar.timezone,
        business_start=calendar.business_start,
        business_end=calendar.business_end,
        systems=tuple(chosen),
        slots=tuple(shown),
        in_business_hours=in_hours,
        in_freeze=in_freeze,
        unscheduled=tuple(sorted(unscheduled, key=lambda u: u.rfc_id)),
        deployments=recorded,
        days=tuple(days),
        freezes=tuple(freezes),
        collisions=tuple(found),
        findings=tuple(findings),
    )


def known_systems(own: str, rfcs: Iterable[tuple[str, Rfc]], deployments: Iterable[Deployment]) -> list[str]:
    """Every system the calendar can tell about (see the module's doc)."""
    names = {own}
    for _, rfc in rfcs:
        names.update(rfc.systems, rfc.impact.systems, rfc.impact.integrations)
    names.update(d.system for d in deployments)
    return sorted(names)


def as_dict(cal: ChangeCalendar) -> dict[str, object]:
    """The JSON shape (`calendar --format json`)."""
    zone = ZoneInfo(cal.timezone)

    def stamp(moment: datetime | None) -> str | None:
        return None if moment is None else moment.astimezone(zone).isoformat(timespec="minutes")

    return {
        "ok": cal.ok,
        "period": {"from": stamp(cal.start), "to": stamp(cal.end)},
        "timezone": cal.timezone,
        "business_hours": {"start": cal.business_start, "end": cal.business_end},
        "systems": list(cal.systems),
        "changes": [
            {
                "rfc": s.rfc_id,
                "title": s.title,
                "type": s.change_type,
                "systems": list(s.systems),
                "linked": list(s.linked),
                "configuration_items": list(s.items),
                "start": stamp(s.start),
                "end": stamp(s.end),
                "planned": s.planned,
                "in_business_hours": s.rfc_id in cal.in_business_hours,
                "freezes": list(cal.in_freeze.get(s.rfc_id, ())),
            }
            for s in cal.slots
        ],
        "unscheduled": [
            {
                "rfc": u.rfc_id,
                "title": u.title,
                "systems": list(u.systems),
                "reason": u.reason_en,
                "reason_ko": u.reason_ko,
            }
            for u in cal.unscheduled
        ],
        "deployments": [
            {
                "id": d.id,
                "system": d.system,
                "rfcs": list(d.rfcs),
                "start": stamp(d.start),
                "end": stamp(d.end),
                "result": d.result,
            }
            for d in cal.deployments
        ],
        "days": [
            {
                "date": d.info.day.isoformat(),
                "business": d.info.business,
                "reason": d.info.reason_en,
                "reason_ko": d.info.reason_ko,
                "freezes": list(d.freezes),
            }
            for d in cal.days
            if not d.info.business or d.freezes
        ],
        "freezes": [{"name": f.name, "start": stamp(f.start), "end": stamp(f.end)} for f in cal.freezes],
        "collisions": [
            {
                "rfcs": [c.first.rfc_id, c.second.rfc_id],
                "start": stamp(c.start),
                "end": stamp(c.end),
                "shared": [{"kind": kind, "name": name} for kind, name in c.reasons],
            }
            for c in cal.collisions
        ],
        "findings": [f.as_dict() for f in cal.findings],
    }
