"""The change calendar (변경 일정): the forward schedule of change, and where planned changes collide (pure).

What it reads: the active RFCs of the RFC store — `schedule.requested_at` and `schedule.window`
(`gatekeeper.domain.schedule`), `systems`, `impact.systems` / `impact.integrations` (linked systems) and
`impact.configuration_items`. Each RFC is placed at most once:

- a `START/END` or dated window: that period;
- a daily window (`HH:MM-HH:MM`): its first start at or after `requested_at`; without `requested_at` the RFC
  has no date, and is listed as unscheduled (an "any evening" plan collides with nothing in particular);
- `requested_at` without a window: DEFAULT_DURATION from it.

Two placed changes collide when their periods overlap and they change the same system, the same
configuration item, or one changes a system the other names as linked (SOP seed 003: "두명 이상의
동시변경" is prevented). The sweep per key is O(n log n) in the RFCs plus the collisions found.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta, tzinfo

from gatekeeper.config.models import Rfc
from gatekeeper.domain import RfcStatus
from gatekeeper.domain.schedule import parse_window, window_start
from gatekeeper.messages import Message, msg

DEFAULT_DURATION = timedelta(hours=1)


@dataclass(frozen=True, slots=True)
class Slot:
    """One RFC placed on the calendar: [start, end) with the systems, linked systems and items it touches."""

    rfc_id: str
    title: str
    change_type: str
    systems: tuple[str, ...]
    linked: tuple[str, ...]
    items: tuple[str, ...]
    start: datetime
    end: datetime
    planned: str  # the window as written, or the requested time


@dataclass(frozen=True, slots=True)
class Unscheduled:
    rfc_id: str
    title: str
    systems: tuple[str, ...]
    reason_en: str
    reason_ko: str


@dataclass(frozen=True, slots=True)
class Collision:
    """Two slots that overlap and share a system, a configuration item, or a linked system."""

    first: Slot
    second: Slot
    reasons: tuple[tuple[str, str], ...]  # (kind: system | item | linked, name), sorted
    start: datetime  # the overlap
    end: datetime


def place(rfc_id: str, rfc: Rfc, zone: tzinfo) -> Slot | Unscheduled:
    """Where `rfc` sits on the calendar (see the module's doc)."""
    window = parse_window(rfc.schedule.window)
    requested = rfc.schedule.requested_at
    linked = tuple(sorted({*rfc.impact.systems, *rfc.impact.integrations} - set(rfc.systems)))

    def slot(start: datetime, end: datetime, planned: str) -> Slot:
        return Slot(
            rfc_id,
            rfc.title,
            str(rfc.type),
            tuple(rfc.systems),
            linked,
            tuple(rfc.impact.configuration_items),
            start,
            end,
            planned,
        )

    if window is None:
        if requested is None:
            return Unscheduled(
                rfc_id, rfc.title, tuple(rfc.systems), *msg("no requested time or window").pair
            )
        return slot(requested, requested + DEFAULT_DURATION, requested.isoformat(timespec="minutes"))
    if window.start is not None and window.end is not None:
        return slot(window.start, window.end, window.text)
    if window.day is None and requested is None:
        return Unscheduled(
            rfc_id,
            rfc.title,
            tuple(rfc.systems),
            *msg("daily window {text} without a requested date", text=window.text).pair,
        )
    if window.day is not None:
        start = datetime.combine(window.day, time(), zone) + timedelta(minutes=window.start_minute)
    else:
        assert requested is not None
        start = window_start(window, requested, zone)
    return slot(start, start + timedelta(minutes=window.end_minute - window.start_minute), window.text)


def active(entries: Iterable[tuple[str, Rfc]]) -> list[tuple[str, Rfc]]:
    return [(i, rfc) for i, rfc in entries if rfc.status is RfcStatus.ACTIVE]


def in_period(slots: Iterable[Slot], start: datetime, end: datetime) -> list[Slot]:
    """The slots overlapping [start, end), by start."""
    return sorted((s for s in slots if s.start < end and s.end > start), key=lambda s: (s.start, s.rfc_id))


def _keys(slot: Slot) -> Iterable[tuple[str, str, bool]]:
    """(kind, name, owns): the system keys a slot changes (owns) or names as linked, and its items."""
    for system in slot.systems:
        yield "system", system, True
    for system in slot.linked:
        yield "system", system, False
    for item in slot.items:
        yield "item", item, True


def collisions(slots: Iterable[Slot]) -> list[Collision]:
    """Every pair of overlapping slots that share a key; by the overlap's start, then the RFC IDs."""
    groups: dict[tuple[str, str], list[tuple[Slot, bool]]] = defaultdict(list)
    for slot in slots:
        for kind, name, owns in _keys(slot):
            groups[kind, name].append((slot, owns))
    found: dict[tuple[str, str], tuple[Slot, Slot, set[tuple[str, str]]]] = {}
    for (kind, name), members in groups.items():
        if len(members) < 2:
            continue
        members.sort(key=lambda m: (m[0].start, m[0].rfc_id))
        open_: list[tuple[Slot, bool]] = []
        for slot, owns in members:
            open_ = [m for m in open_ if m[0].end > slot.start]
            for other, other_owns in open_:
                if other.rfc_id == slot.rfc_id or not (owns or other_owns):
                    continue
                reason = (kind if owns and other_owns else "linked", name)
                first, second = sorted((other, slot), key=lambda s: s.rfc_id)
                key = (first.rfc_id, second.rfc_id)
                if key not in found:
                    found[key] = (first, second, set())
                found[key][2].add(reason)
            open_.append((slot, owns))
    out = [
        Collision(a, b, tuple(sorted(reasons)), max(a.start, b.start), min(a.end, b.end))
        for a, b, reasons in found.values()
    ]
    out.sort(key=lambda c: (c.start, c.first.rfc_id, c.second.rfc_id))
    return out


def collision_between(a: Slot, b: Slot) -> Collision | None:
    """The collision of two slots, if they overlap and share a key (the sweep's judgement for one pair)."""
    if a.rfc_id == b.rfc_id or a.start >= b.end or b.start >= a.end:
        return None
    reasons = {("system", s) for s in set(a.systems) & set(b.systems)}
    reasons |= {("item", i) for i in set(a.items) & set(b.items)}
    reasons |= {("linked", s) for s in (set(a.systems) & set(b.linked)) | (set(a.linked) & set(b.systems))}
    if not reasons:
        return None
    first, second = sorted((a, b), key=lambda s: s.rfc_id)
    return Collision(first, second, tuple(sorted(reasons)), max(a.start, b.start), min(a.end, b.end))


def describe_reasons(collision: Collision) -> tuple[str, str]:
    """What the two changes share, in words (en, ko)."""
    said = [_SHARED[kind](name) for kind, name in collision.reasons]
    return ", ".join(m.en for m in said), ", ".join(m.ko for m in said)


# What two colliding changes share, by kind (`Collision.reasons`).
_SHARED: dict[str, Callable[[str], Message]] = {
    "system": lambda name: msg("the same system {name}", name=name),
    "item": lambda name: msg("the same configuration item {name}", name=name),
    "linked": lambda name: msg("a linked system {name}", name=name),
}


def deployment_slot(rfc_id: str, rfc: Rfc, at: datetime, zone: tzinfo) -> Slot:
    """The period a deployment at `at` under `rfc` takes on the calendar: for a daily window its occurrence
    containing `at` (else the next), for another plan its placement, and where it plans nothing,
    DEFAULT_DURATION from `at`."""
    window = parse_window(rfc.schedule.window)
    if window is not None and window.day is None and window.start is None:
        length = timedelta(minutes=window.end_minute - window.start_minute)
        start = window_start(window, at - length, zone)
        if start > at:  # no occurrence contains `at`: the next one
            start = window_start(window, at, zone)
        rfc = rfc.model_copy(update={"schedule": rfc.schedule.model_copy(update={"requested_at": start})})
    placed = place(rfc_id, rfc, zone)
    if isinstance(placed, Slot):
        return placed
    moment = rfc.model_copy(update={"schedule": rfc.schedule.model_copy(update={"requested_at": at})})
    found = place(rfc_id, moment, zone)
    assert isinstance(found, Slot)
    return found
