"""Deputies (issue 19; CHG-P3): whose approval a deputy gives, and whether the delegation counts.

A `delegation` record is written by the delegator — a holder of the role of each step it hands over — and
names the deputy, the steps and the period. It GRANTS approval power, so it is read as strictly as an
approval: it counts only

- where the pack requires attestation (grades 1–2 in kr-ap-sop), as the CI platform signed it (a record
  from a workstation counts only for the grades whose approvals may come from one);
- from a holder, at the time of reading, of a role of the delegated step;
- to someone else than the delegator;
- for the steps it names, for an approval recorded after it and given within its period;
- until a later `delegation` record of the delegator revokes it (a revocation is taken at its word:
  it only takes power away);
- unless an earlier delegation of the delegator that counts hands one of the same steps over for an
  overlapping period: the first recorded holds, the later one counts for nothing (`delegate` refuses to
  write it).

A deputy's approval is then judged as the delegator's would be for the role, and as the deputy's own
for separation of duties (`rules.approval.self_approval`, `same_person`). Everything here is pure.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from gatekeeper.domain import Role, Step
from gatekeeper.messages import msg
from gatekeeper.rules import RuleContext, from_workstation, unproven


def _key(login: str) -> str:
    return login.strip().removeprefix("@").casefold()


@dataclass(frozen=True, slots=True)
class Grant:
    """A `delegation` record that hands steps over, as the rules read it."""

    seq: int
    record_id: str
    delegator: str
    deputy: str
    steps: tuple[str, ...]
    start: datetime
    end: datetime
    actor_source: str
    attested: bool | None = None  # whether its signature verified; None: not checked by this reader


@dataclass(frozen=True, slots=True)
class Revocation:
    """A `delegation` record that withdraws the delegation record `revokes`."""

    seq: int
    record_id: str
    actor: str
    revokes: str


Delegations = tuple[Grant | Revocation, ...]


def _holds(login: str, step: str, members: Mapping[Role, frozenset[str]], ctx: RuleContext) -> bool:
    steps = ctx.policy.approvals.steps
    definition = steps.get(Step(step)) if step in steps else None
    key = _key(login)
    return definition is not None and any(key in members.get(role, frozenset()) for role in definition.roles)


def _own_refusal(
    grant: Grant, step: str, members: Mapping[Role, frozenset[str]], ctx: RuleContext
) -> tuple[str, str] | None:
    """Why `grant` hands `step` over to nobody, by itself (en, ko); None: it may."""
    if from_workstation(ctx.policy, ctx.grade, grant.actor_source):
        return msg("it was recorded on a workstation").pair
    if unproven(grant.attested, ctx.policy.approvals.attestation_level(ctx.grade)):
        return msg("the CI platform did not sign it").pair
    if _key(grant.delegator) == _key(grant.deputy):
        return msg("it delegates to the delegator themself").pair
    if step not in grant.steps:
        return msg("it hands over {steps}, not {step}", steps=", ".join(grant.steps), step=step).pair
    if not _holds(grant.delegator, step, members, ctx):
        return msg(
            "{delegator} does not hold the role of step {step}", delegator=grant.delegator, step=step
        ).pair
    return None


def revoked_at(grant: Grant, delegations: Iterable[Grant | Revocation]) -> int | None:
    """The seq of the first revocation of `grant` by its delegator; None: never revoked."""
    found = [
        r.seq
        for r in delegations
        if isinstance(r, Revocation)
        and r.revokes == grant.record_id
        and _key(r.actor) == _key(grant.delegator)
        and r.seq > grant.seq
    ]
    return min(found, default=None)


def refusal(
    grant: Grant,
    step: str,
    delegations: Sequence[Grant | Revocation],
    members: Mapping[Role, frozenset[str]],
    ctx: RuleContext,
) -> tuple[str, str] | None:
    """Why `grant` hands `step` over to nobody (en, ko), overlaps included; None: it hands it over."""
    own = _own_refusal(grant, step, members, ctx)
    if own is not None:
        return own
    delegator = _key(grant.delegator)
    for earlier in delegations:
        if (
            not isinstance(earlier, Grant)
            or earlier.seq >= grant.seq
            or step not in earlier.steps
            or not (earlier.start < grant.end and grant.start < earlier.end)
            or _key(earlier.delegator) != delegator
            or _own_refusal(earlier, step, members, ctx)
        ):
            continue  # the cheap tests first: a delegator's overlapping delegations are rare
        ended = revoked_at(earlier, delegations)
        if ended is None or ended > grant.seq:
            return msg(
                "it overlaps delegation record {seq} of the same step by {delegator}",
                seq=earlier.seq,
                delegator=grant.delegator,
            ).pair
    return None


def _moment(at: str) -> datetime | None:
    try:
        return datetime.fromisoformat(at)
    except ValueError:
        return None


def deputy_of(
    actor: str,
    step: str,
    seq: int,
    at: str,
    delegations: Sequence[Grant | Revocation],
    members: Mapping[Role, frozenset[str]],
    ctx: RuleContext,
) -> tuple[Grant | None, tuple[str, str] | None]:
    """The delegation under which `actor` gives `step` in a decision recorded as ledger record `seq` at
    `at`, and else why the latest delegation to them of that step does not count (en, ko; None: there
    is none)."""
    moment = _moment(at)
    why: tuple[str, str] | None = None
    for grant in delegations:
        if not isinstance(grant, Grant) or _key(grant.deputy) != _key(actor):
            continue
        reason = refusal(grant, step, delegations, members, ctx)
        ended = revoked_at(grant, delegations)
        if reason is None and grant.seq > seq:
            reason = msg("it was recorded after the approval").pair
        elif reason is None and (moment is None or not grant.start <= moment < grant.end):
            reason = msg(
                "the approval is outside its period ({start} – {end})",
                start=grant.start.isoformat(),
                end=grant.end.isoformat(),
            ).pair
        elif reason is None and ended is not None and ended < seq:
            reason = msg("ledger record {ended} revoked it", ended=ended).pair
        if reason is None:
            return grant, None
        if step in grant.steps or why is None:
            why = msg(
                "delegation record {seq} does not count: {reason}",
                seq=grant.seq,
                reason=reason[0],
                reason_1=reason[1],
            ).pair
    return None, why
