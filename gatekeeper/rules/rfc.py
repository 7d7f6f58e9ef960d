"""RFC rules (CHG-PLAN, CHG-P4, REL-P4): the RFC validates, and its plans are real plans; and, against the
deployment (CHG-P1, CHG-PLAN): the RFC is active, names the system deployed, and is deployed in the window
its approved plan gives (seed 002 변경관리 3.3: "승인된 운영환경 반영계획에 따라")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from gatekeeper.config.models import PlanPolicy
from gatekeeper.domain import Finding, RfcStatus
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.domain.schedule import local_text, parse_window, window_start
from gatekeeper.messages import in_language, tr
from gatekeeper.rules import RuleContext


def is_real_plan(text: str, plans: PlanPolicy) -> bool:
    """A plan is real when it is not a placeholder ("N/A", "-", "TBD", "없음") and has some substance."""
    stripped = " ".join(text.split())
    if stripped.casefold().strip(" .") in {p.casefold() for p in plans.placeholders}:
        return False
    return len(stripped) >= plans.min_chars


def rfc_invalid(entry: RfcEntry, ctx: RuleContext) -> Iterable[Finding | None]:
    if entry.rfc is None:
        yield ctx.finding(
            "rfc.invalid",
            subject=entry.id,
            message=tr(
                ctx.lang,
                "RFC {id} does not validate: {error}",
                id=entry.id,
                error=in_language(ctx.lang, entry.error, entry.error_ko or entry.error),
            ),
            remediation=tr(
                ctx.lang,
                "fix {where}; `gatekeeper rfc validate {id}` shows every error",
                where=entry.where,
                id=entry.id,
            ),
        )


def rollback_plan(entry: RfcEntry, ctx: RuleContext) -> Iterable[Finding | None]:
    if entry.rfc is not None and not is_real_plan(entry.rfc.rollback_plan, ctx.policy.plans):
        yield ctx.finding(
            "rfc.rollback-plan-missing",
            subject=entry.id,
            message=tr(ctx.lang, "RFC {id} has no real rollback plan", id=entry.id),
            remediation=tr(
                ctx.lang,
                "describe in `rollback_plan` of {where} how to restore the previous version and "
                "check data consistency (at least {min_chars} characters, not a placeholder)",
                where=entry.where,
                min_chars=ctx.policy.plans.min_chars,
            ),
        )


def test_plan(entry: RfcEntry, ctx: RuleContext) -> Iterable[Finding | None]:
    if (
        entry.rfc is not None
        and entry.rfc.software
        and not is_real_plan(entry.rfc.test_plan, ctx.policy.plans)
    ):
        yield ctx.finding(
            "rfc.test-plan-missing",
            subject=entry.id,
            message=tr(ctx.lang, "RFC {id} is a software change without a real test plan", id=entry.id),
            remediation=tr(
                ctx.lang, "write the test cases and scenarios in `test_plan` of {where}", where=entry.where
            ),
        )


RFC_RULES: dict[str, Callable[[RfcEntry, RuleContext], Iterable[Finding | None]]] = {
    "rfc.invalid": rfc_invalid,
    "rfc.rollback-plan-missing": rollback_plan,
    "rfc.test-plan-missing": test_plan,
}


def check_rfc(entry: RfcEntry, ctx: RuleContext) -> list[Finding]:
    return [f for rule in RFC_RULES.values() for f in rule(entry, ctx) if f is not None]


# -- the RFC against the deployment it is deployed by (status, systems, planned window) ----------------


@dataclass(frozen=True, slots=True)
class DeployTarget:
    """What a deployment is: the system deployed, and when (aware; None when the calendar could not say,
    which the gate reports as `gate.error`)."""

    system: str
    at: datetime | None
    timezone: str


def inactive(entry: RfcEntry, target: DeployTarget, ctx: RuleContext) -> Iterable[Finding | None]:
    if entry.rfc is None or entry.rfc.status is RfcStatus.ACTIVE:
        return
    yield ctx.finding(
        "rfc.inactive",
        subject=entry.id,
        message=tr(
            ctx.lang,
            "RFC {id} is {status}: only an active change request is deployed",
            id=entry.id,
            status=entry.rfc.status,
        ),
        remediation=tr(
            ctx.lang,
            "deploy under an active RFC; a cancelled or closed change is reopened as a new "
            "RFC, a draft is set to `status: active` in {where} once it is complete",
            where=entry.where,
        ),
    )


def other_system(entry: RfcEntry, target: DeployTarget, ctx: RuleContext) -> Iterable[Finding | None]:
    if entry.rfc is None or target.system in entry.rfc.systems:
        return
    named = ", ".join(entry.rfc.systems)
    yield ctx.finding(
        "rfc.other-system",
        subject=entry.id,
        message=tr(
            ctx.lang,
            "RFC {id} changes {named}, not {system}, which is being deployed",
            id=entry.id,
            named=named,
            system=target.system,
        ),
        remediation=tr(
            ctx.lang, "deploy {system} under an RFC that names it in `systems`", system=target.system
        ),
    )


def outside_window(entry: RfcEntry, target: DeployTarget, ctx: RuleContext) -> Iterable[Finding | None]:
    if entry.rfc is None or target.at is None:
        return
    window = parse_window(entry.rfc.schedule.window)
    if window is None or window.contains(target.at, ZoneInfo(target.timezone)):
        return
    zone = ZoneInfo(target.timezone)
    planned, at = window.describe(target.timezone), local_text(target.at, zone)
    next_start = local_text(window_start(window, target.at, zone), zone)
    yield ctx.finding(
        "rfc.outside-window",
        subject=entry.id,
        message=tr(
            ctx.lang,
            "RFC {id} plans its work for {planned}; deploying at {at} departs from the approved plan",
            id=entry.id,
            planned=planned,
            at=at,
        ),
        remediation=tr(
            ctx.lang,
            "deploy inside the planned window (next start {next_start}), or change "
            "`schedule.window` in {where} and have the change approved again",
            next_start=next_start,
            where=entry.where,
        ),
    )


TARGET_RULES: dict[str, Callable[[RfcEntry, DeployTarget, RuleContext], Iterable[Finding | None]]] = {
    "rfc.inactive": inactive,
    "rfc.other-system": other_system,
    "rfc.outside-window": outside_window,
}
