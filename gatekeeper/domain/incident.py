"""Incidents (SOP INC, seed 002 장애관리): the grade, the one recovery time, and the fold of an incident's
records into its state.

Grade (seed 002 불임1, lines ~1384–1412): the system's grade, lowered
- one grade by time: outside weekdays 09–18 for internal services, 09–21 for citizen-facing (public) ones
  (`incidents.internal_hours` / `public_hours` of the pack), when fixed before the next weekday's opening
  ("weekday" is a business day of the caller's calendar, defaulting to Monday–Friday);
- by region: a nationwide service failing in a whole region (`regional-all`, one grade) or part of one
  (`regional-part`, two grades);
- by service priority: only services of priority 2 (one grade) or 3 and below (two grades) affected;
summed, at most two grades ("합산해서 최대 2개 등급까지"), never below grade 4.

Recovery time (장애 시간, seed 002 line ~1235 and 불임1 ~1389–1391): from the incident's occurrence (발생일시:
the time the logs or the monitoring show, else when it was reported or first noticed) to its resolution
(종료일시: service restored and confirmed). `recovery_minutes` is that one figure, which the KPIs (MTTR and
DORA's time to restore) and the 장애보고서 all read.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gatekeeper.config.models import IncidentPolicy
from gatekeeper.domain import Grade
from gatekeeper.domain.records import (
    Entry,
    IncidentClosed,
    IncidentOpened,
    IncidentUpdated,
    ProblemOpened,
)

MAX_LOWERING = 2  # seed 002 불임1: "최대 2개 등급까지 하향"

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


def corrections(region: str = "", service_priority: int | None = None) -> int:
    """Grades lowered by region and service priority (seed 002 불임1 지역 보정, 서비스 중요도 보정)."""
    by_region = {"regional-all": 1, "regional-part": 2}.get(region, 0)
    by_priority = 0 if service_priority is None or service_priority <= 1 else min(service_priority - 1, 2)
    return by_region + by_priority


def lowered(system_grade: Grade | int, steps: int) -> Grade:
    """The system's grade lowered `steps` grades, at most two, never below grade 4."""
    return Grade(min(int(system_grade) + max(0, min(steps, MAX_LOWERING)), int(Grade.FOUR)))


def incident_grade(
    system_grade: Grade,
    *,
    occurred_at: datetime,
    resolved_at: datetime | None,
    audience: str,
    policy: IncidentPolicy,
    zone: ZoneInfo,
    business_day: BusinessDay = weekday,
    region: str = "",
    service_priority: int | None = None,
) -> Grade:
    """The incident's grade; the time correction applies only once it is resolved in time."""
    by_time = 0
    if resolved_at is not None and not in_service_hours(occurred_at, policy, audience, zone, business_day):
        by_time = int(resolved_at < next_opening(occurred_at, policy, audience, zone, business_day))
    return lowered(system_grade, by_time + corrections(region, service_priority))


def recovery_minutes(start: datetime, end: datetime) -> float:
    """장애 시간 in minutes: from occurrence to resolution (never negative)."""
    return max(0.0, (end - start).total_seconds() / 60)


# ------------------------------------------------------------------------------------------ the fold


@dataclass(frozen=True, slots=True)
class TimelineStep:
    """One line of 시간대별 경과: when, who, what (피해상황 및 대응조치), and whether it was a report."""

    at: datetime
    actor: str
    note: str
    report: bool = False


@dataclass
class IncidentState:
    """One incident as its records tell it (opened, updated, closed, problems registered)."""

    id: str
    record_id: str
    seq: int
    system: str
    rfcs: tuple[str, ...]
    opened_by: str
    actor_source: str
    opened_at: datetime
    opened: IncidentOpened
    grade: int | None = None
    resolved_at: datetime | None = None
    closed: IncidentClosed | None = None
    closed_by: str = ""
    timeline: list[TimelineStep] = field(default_factory=list)
    updates: list[IncidentUpdated] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)  # record ids of the problems registered for it
    by_failure: bool = False  # opened by `deploy finish` for a deployment the ledger shows failed
    # Whether the CI platform's signature shows its opener wrote it (`adapters.oidc.Attestor.vouches`);
    # None: not checked by this reader.
    signed: bool | None = None

    @property
    def start(self) -> datetime:
        """장애 발생일시: occurrence, else detection, else when it was recorded."""
        return self.opened.occurred_at or self.opened.detected_at or self.opened_at

    @property
    def minutes(self) -> float | None:
        """장애 시간 (`recovery_minutes`), or None while unresolved."""
        return None if self.resolved_at is None else recovery_minutes(self.start, self.resolved_at)

    @property
    def reports(self) -> tuple[datetime, ...]:
        return tuple(step.at for step in self.timeline if step.report)

    def latest(self, name: str) -> Any:
        """A report field as last given: the closing record's, else the latest update's, else the
        opening's."""
        given: list[Any] = [self.closed, *reversed(self.updates), self.opened]
        for record in given:
            value = getattr(record, name, None)
            if value:
                return value
        return ""

    @property
    def cause_unknown(self) -> bool:
        """Closed with its cause unknown: it belongs in problem management (seed 002 문제관리 자-1)."""
        return self.closed is not None and self.latest("cause_type") == "unknown"


@dataclass
class Incidents:
    """A system's incidents, folded from their records in seq order; looked up by incident ID or record id."""

    by_id: dict[str, IncidentState] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # record id / deployment id -> incident ID
    # The incidents that may still owe something (an intermediate report, a problem record): what the
    # incident rules look at, so a long ledger's settled incidents cost them nothing.
    owing: dict[str, IncidentState] = field(default_factory=dict)

    def settle(self, state: IncidentState) -> None:
        """Let go of an incident that owes nothing any more — reported, and in problem management if its
        cause stayed unknown — and hold one that owes again (closed with its cause unknown)."""
        if state.reports and (not state.cause_unknown or state.problems):
            self.owing.pop(state.id, None)
        else:
            self.owing[state.id] = state

    def prune(self, before: datetime) -> None:
        """Forget what incidents that occurred before `before` owe (past every horizon of the gate)."""
        for ident in [i for i, s in self.owing.items() if s.start < before]:
            del self.owing[ident]

    def get(self, ident: str) -> IncidentState | None:
        found = self.by_id.get(ident)
        if found is None and ident in self.aliases:
            found = self.by_id.get(self.aliases[ident])
        return found

    def add(self, entry: Entry[Any]) -> IncidentState | None:
        """Fold one record; the incident it concerns, or None (not an incident record, or an unknown one)."""
        payload = entry.payload
        if isinstance(payload, IncidentOpened):
            return self._opened(entry, payload)
        if isinstance(payload, IncidentUpdated):
            state = self.get(payload.incident)
            if state is not None and state.system == entry.system:
                state.updates.append(payload)
                state.timeline.append(TimelineStep(entry.moment, entry.actor, payload.note, payload.report))
                if payload.grade is not None:
                    state.grade = payload.grade
                self.settle(state)
            return state
        if isinstance(payload, IncidentClosed):
            state = self.get(payload.incident)
            if state is not None and state.system == entry.system:
                state.closed, state.closed_by = payload, entry.actor
                state.resolved_at = payload.resolved_at
                if payload.grade is not None:
                    state.grade = payload.grade
                state.timeline.append(TimelineStep(entry.moment, entry.actor, payload.note or payload.action))
                self.settle(state)
            return state
        if isinstance(payload, ProblemOpened) and payload.incident:
            state = self.get(payload.incident)
            if state is not None and state.system == entry.system:
                state.problems.append(entry.id)
                self.settle(state)
            return state
        return None

    def _opened(self, entry: Entry[Any], payload: IncidentOpened) -> IncidentState | None:
        ident = payload.incident_id or entry.id
        if ident in self.by_id:  # an ID is given once: a second opening is not another incident
            return None
        state = IncidentState(
            ident,
            entry.id,
            entry.seq,
            entry.system,
            entry.rfcs,
            entry.actor,
            entry.actor_source,
            entry.moment,
            payload,
            grade=payload.grade,
            resolved_at=payload.resolved_at,
        )
        self.by_id[ident] = state
        self.owing[ident] = state
        self.aliases[entry.id] = ident
        if payload.deployment_id:
            self.aliases.setdefault(payload.deployment_id, ident)
        return state

    def resolve_by_deployment(self, failed: Iterable[str], moment: datetime) -> None:
        """A successful deployment restores service: the unresolved incidents that the environment's
        failed deployments (`failed`: their ids) opened are resolved at `moment`."""
        for deployment_id in failed:
            state = self.get(deployment_id)
            if state is not None and state.resolved_at is None and moment >= state.start:
                state.resolved_at = moment
