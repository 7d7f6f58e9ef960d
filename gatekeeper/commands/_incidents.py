"""What `incident` and `problem` share: who may write incident records, the system's incidents as the
history folds them, and the grade per SOP INC."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from gatekeeper.commands import Context
from gatekeeper.domain import Grade
from gatekeeper.domain.incident import BusinessDay, Incidents, IncidentState, incident_grade, weekday
from gatekeeper.errors import GatekeeperError, InputError, UsageError
from gatekeeper.facts.history import INCIDENT_KINDS
from gatekeeper.ledger import LedgerReader
from gatekeeper.messages import msg


def require_incident_role(ctx: Context) -> str:
    """The acting login, if it holds one of the pack's `incidents.openers` roles; else a usage error.

    The gate checks the same again from the records (an incident opened outside the roles unlocks no
    emergency): this refusal only saves a record that would count for nothing."""
    from gatekeeper.adapters.identity import current_actor
    from gatekeeper.commands._gate import sources_for
    from gatekeeper.facts.gather import role_members
    from gatekeeper.rules.approval import login_key

    actor = current_actor(ctx.runtime.env, ctx.runtime.cwd)
    roles = ctx.policy.incidents.openers
    members = role_members(ctx.config.roles, sources_for(ctx).role_resolver)
    if any(login_key(actor.name) in members.get(role, frozenset()) for role in roles):
        return actor.name
    names = ", ".join(str(r) for r in roles)
    raise UsageError(
        msg("{name} holds none of the roles that record incidents ({names})", name=actor.name, names=names),
        hint=msg(
            "the operator or the agency records incidents (the pack's incidents.openers); ask one of them"
        ),
    )


def fold_incidents(ledger: LedgerReader, system: str) -> Incidents:
    """The system's incidents, folded from its incident records and the deployments that resolve them —
    the history every check reads."""
    from gatekeeper.domain import RecordKind
    from gatekeeper.domain.records import entry_of
    from gatekeeper.facts.history import History

    kinds = (*INCIDENT_KINDS, RecordKind.DEPLOYMENT_STARTED, RecordKind.DEPLOYMENT_FINISHED)
    found = {r.seq: r for kind in kinds for r in ledger.find(kind=str(kind), system=system)}
    history = History(None, None, system)
    for seq in sorted(found):
        history.add(entry_of(found[seq]))
    return history.incidents


def system_incidents(ctx: Context) -> Incidents:
    from gatekeeper.ledger.backends import open_ledger

    ledger = open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)
    try:
        return fold_incidents(ledger, ctx.config.system.id)
    finally:
        ledger.close()


def known_incident(ctx: Context, ident: str) -> IncidentState:
    state = system_incidents(ctx).get(ident)
    if state is None:
        raise InputError(
            msg("no incident {ident!r} of {id} in the ledger", ident=ident, id=ctx.config.system.id),
            hint=msg(
                "give the ID `gatekeeper incident open` printed (`gatekeeper incident list` lists them)"
            ),
        )
    return state


def business_day(ctx: Context) -> BusinessDay:
    """The configured calendar's business days; a year without holiday data still knows its weekends."""
    from gatekeeper.domain.calendar import BusinessCalendar

    calendar = BusinessCalendar.from_config(ctx.config, ctx.policy)

    def open_day(day: date) -> bool:
        try:
            return calendar.day(day).business
        except GatekeeperError:
            return weekday(day)

    return open_day


def grade_of(
    ctx: Context,
    occurred_at: datetime,
    resolved_at: datetime | None,
    region: str = "",
    service_priority: int | None = None,
) -> Grade:
    return incident_grade(
        Grade(ctx.config.system.grade),
        occurred_at=occurred_at,
        resolved_at=resolved_at,
        audience=ctx.config.system.audience,
        policy=ctx.policy.incidents,
        zone=ZoneInfo(ctx.config.timezone),
        business_day=business_day(ctx),
        region=region,
        service_priority=service_priority,
    )
