"""Incident rules (SOP CHG-P1 emergency changes, INC, PRB), over the system's incidents as the one history
folds them (`domain.incident.Incidents`, kept by `facts.history.History`), for the gate and the audit alike.

- `emergency.incident-unknown`: an emergency change (긴급: "fix a major incident", CHG-P1) names an incident
  recorded in this system's ledger — opened by the failed deployment it answers for, or by someone holding
  one of the pack's `incidents.openers` roles (from the pipeline where the pack refuses workstation
  records). A developer with write access can write any RFC; an incident they open themselves, or one that
  exists nowhere, unlocks nothing.
- `incident.report-missing`: an incident of a grade in `incidents.report_grades` (1–2) that lasted
  `intermediate_report_minutes` (30) without an intermediate report (중간보고, seed 002 장애관리
  자-2 참조사항).
- `incident.problem-missing`: an incident closed with its cause unknown that was not registered in problem
  management (seed 002 문제관리 자-1: 근본원인 불명, 원인 불명의 변경실패).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import timedelta
from typing import TYPE_CHECKING

from gatekeeper.domain import ChangeType, Finding
from gatekeeper.messages import msg, tr
from gatekeeper.rules import RuleContext, from_workstation, unproven

if TYPE_CHECKING:
    from gatekeeper.domain.incident import IncidentState
    from gatekeeper.rules.deploy import DeployFacts


def _at(facts_ctx: RuleContext, moment: object) -> str:
    from datetime import datetime

    assert isinstance(moment, datetime)
    return moment.astimezone(facts_ctx.now.tzinfo).isoformat(timespec="minutes")


def holds_incident_role(login: str, facts: DeployFacts, ctx: RuleContext) -> bool:
    """Whether `login` holds one of the pack's `incidents.openers` roles (anyone, where the holders are not
    known)."""
    from gatekeeper.rules.approval import login_key

    if facts.members is None:
        return True
    return any(
        login_key(login) in facts.members.get(role, frozenset()) for role in ctx.policy.incidents.openers
    )


def untrusted_opening(state: IncidentState, facts: DeployFacts, ctx: RuleContext) -> tuple[str, str] | None:
    """Why an incident cannot stand for an emergency change (en, ko), or None when it can."""
    if from_workstation(ctx.policy, ctx.grade, state.actor_source):
        return msg(
            "it was opened on a workstation ({opened_by}), not by the pipeline", opened_by=state.opened_by
        ).pair
    if unproven(state.signed, ctx.policy.approvals.attestation_level(ctx.grade)):
        return msg(
            "its record carries no verified signature of the CI platform, so nothing shows "
            "{opened_by} (or a failed deployment's job) opened it",
            opened_by=state.opened_by,
        ).pair
    if state.by_failure:
        return None  # written by `deploy finish` for a deployment the ledger shows failed
    if facts.members is None:  # who held the roles is not known (a deployment recorded without it)
        return None
    roles = ctx.policy.incidents.openers
    if not holds_incident_role(state.opened_by, facts, ctx):
        names = ", ".join(str(r) for r in roles)
        return msg(
            "it was opened by {opened_by}, who holds none of the roles {names}",
            opened_by=state.opened_by,
            names=names,
        ).pair
    return None


def emergency_incident_unknown(facts: DeployFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for rfc, ident in sorted((facts.emergency_incidents or {}).items()):
        state = facts.incidents.get(ident) if facts.incidents is not None else None
        if state is None:
            why = msg(
                "names incident {ident!r}, which is recorded nowhere in the ledger of {system}",
                ident=ident,
                system=facts.system,
            ).pair
        else:
            found = untrusted_opening(state, facts, ctx)
            if found is None:
                continue
            why = msg(
                "names incident {ident}, but {found}", ident=ident, found=found[0], found_1=found[1]
            ).pair
        yield ctx.finding(
            "emergency.incident-unknown",
            subject=rfc,
            message=tr(ctx.lang, "emergency change {rfc} {why}", rfc=rfc, why=why[0], why_1=why[1]),
            remediation=tr(
                ctx.lang,
                "an emergency change fixes a recorded incident: the operator or agency records "
                "it with `gatekeeper incident open ...` in the pipeline, and the RFC names its "
                "ID in `incident`; otherwise deploy it as a normal change",
            ),
        )


def report_missing(facts: DeployFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    if facts.incidents is None:
        return
    policy = ctx.policy.incidents
    due_after = timedelta(minutes=policy.intermediate_report_minutes)
    for state in facts.incidents.owing.values():
        if state.grade is None or state.grade not in policy.report_grades or state.start > ctx.now:
            continue
        due = state.start + due_after
        ended = state.resolved_at if state.resolved_at is not None and state.resolved_at <= ctx.now else None
        lasted = (ended or ctx.now) >= due
        # Any recorded report counts (`incident update` is refused to everyone outside the incident roles).
        reported = any(step.report and step.at <= ctx.now for step in state.timeline)
        if not lasted or reported:
            continue
        yield ctx.finding(
            "incident.report-missing",
            subject=state.id,
            message=tr(
                ctx.lang,
                "grade-{grade} incident {id} of {system} (since {at_ctx_state_start}) lasted "
                "{intermediate_report_minutes:g} minutes without an intermediate report",
                grade=state.grade,
                id=state.id,
                system=facts.system,
                at_ctx_state_start=_at(ctx, state.start),
                intermediate_report_minutes=policy.intermediate_report_minutes,
            ),
            remediation=tr(
                ctx.lang,
                "report to the report line and record it: `gatekeeper incident update {id} "
                "--report --note ...`",
                id=state.id,
            ),
        )


def problem_missing(facts: DeployFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    if facts.incidents is None:
        return
    for state in facts.incidents.owing.values():
        if not state.cause_unknown or state.problems:
            continue
        yield ctx.finding(
            "incident.problem-missing",
            subject=state.id,
            message=tr(
                ctx.lang,
                "incident {id} of {system} was closed with its cause unknown and is not "
                "registered in problem management",
                id=state.id,
                system=facts.system,
            ),
            remediation=tr(
                ctx.lang, "register it: `gatekeeper problem open --incident {id} --title ...`", id=state.id
            ),
        )


def same_incident(facts: DeployFacts, ctx: RuleContext, incident: str) -> bool:
    """Whether an earlier emergency deployment fixed the incident an emergency deployed now fixes (its
    after-the-fact review debt then does not hold the fix back)."""
    if ctx.change_type is not ChangeType.EMERGENCY or not incident or facts.incidents is None:
        return False
    mine = {facts.incidents.aliases.get(i, i) for i in (facts.emergency_incidents or {}).values()}
    return facts.incidents.aliases.get(incident, incident) in mine
