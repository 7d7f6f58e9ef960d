"""The change calendar's rule (seed 003, CHG-P3): no two changes of one system, one configuration item, or
linked systems planned for the same time.

The facts come from `collision_facts` (pure): the period each RFC being deployed takes on the calendar
(`domain.changecal.deployment_slot`) and the other active RFCs of the store placed on it; the rule only
explains each collision. `gatekeeper calendar` reports the same collisions over a period.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo

from gatekeeper.config.models import Rfc
from gatekeeper.domain import Finding
from gatekeeper.domain.changecal import (
    Collision,
    Slot,
    active,
    collision_between,
    deployment_slot,
    describe_reasons,
    place,
)
from gatekeeper.messages import in_language, tr
from gatekeeper.rules import RuleContext


@dataclass(frozen=True, slots=True)
class CollisionFacts:
    deployed: tuple[Slot, ...]
    collisions: tuple[Collision, ...]  # each with one side being deployed
    timezone: str


def collision_facts(
    deployed: Sequence[tuple[str, Rfc]], store: Iterable[tuple[str, Rfc]], at: datetime, zone: tzinfo
) -> CollisionFacts:
    """The collisions of the deployment at `at` with the other active RFCs of the store (pure)."""
    mine = tuple(deployment_slot(i, rfc, at, zone) for i, rfc in deployed)
    ids = {slot.rfc_id for slot in mine}
    # Each other RFC against each deployed one: linear in the store, however many of them overlap.
    found = [
        hit
        for i, rfc in active(store)
        if i not in ids
        for other in [place(i, rfc, zone)]
        if isinstance(other, Slot)
        for slot in mine
        if (hit := collision_between(slot, other)) is not None
    ]
    found.sort(key=lambda c: (c.start, c.first.rfc_id, c.second.rfc_id))
    return CollisionFacts(mine, tuple(found), str(zone))


def _stamp(moment: datetime, zone: str) -> str:
    from zoneinfo import ZoneInfo

    return moment.astimezone(ZoneInfo(zone)).isoformat(timespec="minutes")


def collision(facts: CollisionFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    deployed = {slot.rfc_id for slot in facts.deployed}
    for found in facts.collisions:
        mine, other = (
            (found.first, found.second) if found.first.rfc_id in deployed else (found.second, found.first)
        )
        shared_en, shared_ko = describe_reasons(found)
        period = f"{_stamp(found.start, facts.timezone)} – {_stamp(found.end, facts.timezone)}"
        yield ctx.finding(
            "calendar.collision",
            subject=f"{mine.rfc_id}+{other.rfc_id}",
            message=tr(
                ctx.lang,
                "RFC {rfc_id} collides with RFC {rfc_id2} ({planned}) on {shared}, {period}",
                rfc_id=mine.rfc_id,
                rfc_id2=other.rfc_id,
                planned=other.planned,
                shared=in_language(ctx.lang, shared_en, shared_ko),
                period=period,
            ),
            remediation=tr(
                ctx.lang,
                "move one of the two changes to another time (`schedule.window`), or combine "
                "them into one RFC; see `gatekeeper calendar` for free times",
            ),
        )


CALENDAR_RULES: dict[str, Callable[[CollisionFacts, RuleContext], Iterable[Finding | None]]] = {
    "calendar.collision": collision,
}
