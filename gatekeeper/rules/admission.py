"""What `gatekeeper approve` checks before it records a decision (pure).

A record once pushed stays in the ledger for good, so a decision the gate would never count is refused
when it is given, naming the rule and the fix, and nothing is written: an unknown RFC or step, an actor
without the step's role, an author, committer or co-author of the change approving it, a person who
already gave another step, a workstation record where the pack does not count them. The gate still
judges every record on its own (`rules.approval`): these checks spare the ledger, they do not replace it.

A rule the pack makes a warning for this grade is reported and the decision is recorded; an error refuses.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from gatekeeper.domain import Finding, Role, Severity, Step
from gatekeeper.domain.records import APPROVE
from gatekeeper.messages import Message, in_language, msg, tr
from gatekeeper.rules import RuleContext, from_workstation
from gatekeeper.rules.approval import ApprovalDecision, holds_role, latest_decisions, login_key


@dataclass(frozen=True)
class Request:
    """A decision about to be recorded, and what is known about its change."""

    rfc_id: str
    step: str
    decision: str
    actor: str
    actor_source: str
    rfc_known: bool = True
    requester: str = ""
    identities: frozenset[str] = frozenset()  # the whole change's authors, committers, co-authors
    members: Mapping[Role, frozenset[str]] = field(default_factory=dict)
    decisions: tuple[ApprovalDecision, ...] = ()  # the RFC's decisions already in the ledger
    # The ledger's `delegation` records (`rules.delegation`): a deputy gives the step of a delegator.
    delegations: tuple[Any, ...] = ()
    deputy_for: str = ""  # the delegator the actor approves for (set by `check`)


def _finding(
    ctx: RuleContext,
    rule: str,
    subject: str,
    message: Message,
    fix: Message,
    severity: Severity | None = None,
) -> list[Finding]:
    """The rule's finding at the pack's severity for this grade (none where the pack switches it off)."""
    found = ctx.finding(
        rule,
        message=message.said(ctx.lang),
        remediation=fix.said(ctx.lang),
        subject=subject,
        severity=severity,
    )
    return [] if found is None else [found]


def check(request: Request, ctx: RuleContext) -> list[Finding]:
    """Every reason not to record `request` (errors refuse it; warnings are reported with it)."""
    subject = f"{request.rfc_id} {request.step}"
    steps = ctx.policy.approvals.steps
    if not request.rfc_known:
        return _finding(
            ctx,
            "commit.rfc-unknown",
            subject,
            msg("there is no RFC {rfc_id} in the RFC store", rfc_id=request.rfc_id),
            msg("check the ID, or create the RFC with `gatekeeper rfc new` and merge it first"),
            Severity.ERROR,
        )
    if request.step not in steps:
        known = ", ".join(str(s) for s in steps) or "(none)"
        return _finding(
            ctx,
            "approval.unauthorized",
            subject,
            msg(
                "{step!r} is not an approval step of the pack {name}: nobody holds a role for it",
                step=request.step,
                name=ctx.policy.name,
            ),
            msg("use one of: {known}", known=known),
            Severity.ERROR,
        )
    found: list[Finding] = []
    roles = ", ".join(str(r) for r in steps[Step(request.step)].roles)
    if from_workstation(ctx.policy, ctx.grade, request.actor_source):
        found.extend(
            _finding(
                ctx,
                "approval.missing",
                subject,
                msg(
                    "a decision recorded on a workstation does not count for a grade-{grade} system",
                    grade=int(ctx.grade),
                ),
                msg("record it from the approval job of the CI pipeline (a protected environment)"),
            )
        )
    grant, why = None, None
    if not holds_role(request.actor, request.step, request.members, ctx) and request.delegations:
        from gatekeeper.rules.delegation import deputy_of

        grant, why = deputy_of(
            request.actor,
            request.step,
            2**62,  # recorded after every record of the ledger
            ctx.now.isoformat(),
            request.delegations,
            request.members,
            ctx,
        )
    if grant is not None:
        request = replace(request, deputy_for=grant.delegator)
    elif not holds_role(request.actor, request.step, request.members, ctx):
        found.extend(
            _finding(
                ctx,
                "approval.unauthorized",
                subject,
                msg(
                    "{actor} does not hold role {roles}, which step {step} needs{why}",
                    actor=request.actor,
                    roles=roles,
                    step=request.step,
                    why=tr(ctx.lang, " ({reason})", reason=in_language(ctx.lang, *why)) if why else "",
                ),
                msg(
                    "a member of {roles} (under `roles` in .gatekeeper.yml on the default branch) gives it",
                    roles=roles,
                ),
            )
        )
    if request.decision == APPROVE:
        found.extend(_separation(request, ctx, subject))
    return found


def _separation(request: Request, ctx: RuleContext, subject: str) -> list[Finding]:
    found: list[Finding] = []
    actor = login_key(request.actor)
    definition = ctx.policy.approvals.steps[Step(request.step)]
    if request.deputy_for and login_key(request.deputy_for) in request.identities:
        found.extend(
            _finding(
                ctx,
                "approval.self",
                subject,
                msg(
                    "{actor} acts for {deputy_for}, who authored, committed or co-authored a commit "
                    "of {rfc_id}",
                    actor=request.actor,
                    deputy_for=request.deputy_for,
                    rfc_id=request.rfc_id,
                ),
                msg("another holder of the step's role approves {step}", step=request.step),
            )
        )
    if actor in request.identities:
        found.extend(
            _finding(
                ctx,
                "approval.self",
                subject,
                msg(
                    "{actor} authored, committed or co-authored a commit of {rfc_id}",
                    actor=request.actor,
                    rfc_id=request.rfc_id,
                ),
                msg(
                    "another holder of the step's role approves {step}; the verifier is never the author "
                    "(TST-P3)",
                    step=request.step,
                ),
            )
        )
    elif actor == login_key(request.requester) and not definition.requester_may_approve:
        found.extend(
            _finding(
                ctx,
                "approval.self",
                subject,
                msg(
                    "{actor} requested {rfc_id}, and step {step} must be given by someone else",
                    actor=request.actor,
                    rfc_id=request.rfc_id,
                    step=request.step,
                ),
                msg("another holder of the step's role approves {step}", step=request.step),
            )
        )
    for step, earlier in latest_decisions(request.decisions, ctx, request.members).items():
        if step != request.step and earlier.decision == APPROVE and login_key(earlier.actor) == actor:
            found.extend(
                _finding(
                    ctx,
                    "approval.same-person",
                    subject,
                    msg(
                        "{actor} already gave step {step} of {rfc_id} (ledger record {seq})",
                        actor=request.actor,
                        step=step,
                        rfc_id=request.rfc_id,
                        seq=earlier.seq,
                    ),
                    msg(
                        "a different person approves {step}: each step of one change needs its own approver",
                        step=request.step,
                    ),
                )
            )
            break
    return found
