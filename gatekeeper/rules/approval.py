"""Approval rules (CHG-P3, REL-P1, TST-P3): ordered approval chains with separation of duties.

The pack says which steps a change needs (`approvals.required`, per grade and change type, each with its
own severity), who may give each step (`approvals.steps[*].roles`) and in which order (`approvals.order`).
The ledger holds the decisions; only the latest decision on a step counts, and it counts only while it is
bound to the RFC content it was given for (the digest).

Everything here is pure. Role membership is expanded before the rules run (`facts.gather.role_members`),
so a GitHub team or GitLab group is resolved by an adapter (`RoleResolver`) while gathering facts, never
inside a rule.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

from gatekeeper.config.models import StepRequirement
from gatekeeper.domain import ActorSource, Finding, Role, Severity, Step
from gatekeeper.domain.records import APPROVE, REJECT
from gatekeeper.messages import in_language, msg, tr
from gatekeeper.rules import RuleContext, from_workstation, unproven
from gatekeeper.rules.tests import signature_counts

if TYPE_CHECKING:
    from gatekeeper.rules.delegation import Grant, Revocation

# A role member containing "/" names a GitHub team (`org/team`) or a GitLab group (`group/sub`). The resolver
# returns its member logins; it raises a GatekeeperError when the platform cannot answer.
RoleResolver = Callable[[str], Iterable[str]]


def login_key(login: str) -> str:
    """Logins compare case-insensitively and without a leading `@` (`@Kim` is `kim`)."""
    return login.strip().removeprefix("@").casefold()


@dataclass(frozen=True, slots=True)
class ApprovalDecision:
    """One decision on an approval step, as the rules read it: an `approval` record (`seq` is its ledger
    seq) or a decision given on the platform (`seq` continues the ledger's, `record_id` names the review)."""

    seq: int
    record_id: str
    rfc: str
    step: str
    decision: str
    actor: str
    actor_source: str
    digest: str
    at: str
    on_platform: bool = False  # given on GitHub/GitLab (read live by the gate), not a ledger record
    # Whether the record's OIDC attestation verified (`domain.attestation`); None: not checked by this
    # reader. A platform decision is attested by the platform's authenticated answer.
    attested: bool | None = None
    # Why its attestation does not verify, where the reader's verifier says (en, ko): a key the issuer no
    # longer publishes, and how to keep old records verifiable (`adapters.oidc.KeyRing.refusal`).
    refusal: tuple[str, str] | None = None
    commit: str = ""  # the commit a release step's approval certifies ("": none named)
    # The artefacts a release step's approval certifies, NAME -> `sha256:<hex>` (`approve --artifact`).
    artifacts: Mapping[str, str] = field(default_factory=dict)
    # The delegator whose role a deputy exercises (`rules.delegation`), set by the rules; "": the actor's own.
    deputy_for: str = ""

    @property
    def principal(self) -> str:
        """Whose authority the decision is: the delegator's for a deputy, else the actor's."""
        return self.deputy_for or self.actor


@dataclass(frozen=True)
class ApprovalFacts:
    """What the approval rules need for one RFC of a deployment."""

    rfc_id: str
    requester: str
    digest: str  # the digest of the RFC content being deployed
    decisions: tuple[ApprovalDecision, ...]  # in ledger order
    # Who authored, committed or co-authored the change, as `adapters.git.person_keys` names them
    # (name, email, email local part, no-reply login; casefolded).
    identities: frozenset[str] = frozenset()
    members: Mapping[Role, frozenset[str]] = field(default_factory=dict)
    head: str = ""  # the commit being deployed ("": not known, as for a check of the RFC alone)
    # The ledger's test evidence for `head` as (kind, seq, signed), in ledger order: what a release step
    # certifies. `signed` as `rules.tests.Evidence.signed`: unsigned evidence certifies nothing where the pack
    # requires signed evidence (`tests.attestation`).
    evidence: tuple[tuple[str, int, bool | None], ...] = ()
    # The artefacts being deployed, NAME -> `sha256:<hex>` (`deploy start --artifact`); {}: none named.
    artifacts: Mapping[str, str] = field(default_factory=dict)
    # The ledger's `delegation` records (`rules.delegation`), in ledger order: who may act as a deputy.
    delegations: tuple[Grant | Revocation, ...] = ()
    # The latest counted decisions per pack and grade, worked out once (`_latest`); not a fact.
    latest: dict[tuple[int, int], dict[str, ApprovalDecision]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )
    # The decisions with each deputy's delegator named, per pack and grade (`_decisions`); not a fact.
    resolved: dict[tuple[int, int], tuple[ApprovalDecision, ...]] = field(
        default_factory=dict, init=False, compare=False, repr=False
    )


def after_ledger(
    ledger: Sequence[ApprovalDecision], platform: Sequence[ApprovalDecision]
) -> tuple[ApprovalDecision, ...]:
    """The ledger's decisions followed by decisions given on the platform: these are read live when the gate
    runs, so they come after every ledger record (their `seq` continues the ledger's), in the order given."""
    next_seq = max((d.seq for d in ledger), default=0) + 1
    return (*ledger, *(replace(d, seq=next_seq + i, on_platform=True) for i, d in enumerate(platform)))


# ---------------------------------------------------------------------------------------------- chain


def required_steps(ctx: RuleContext) -> list[StepRequirement]:
    """The steps this grade and change type need, first matching entry per step, in the pack's order."""

    def compute() -> list[StepRequirement]:
        chosen: dict[Step, StepRequirement] = {}
        for requirement in ctx.policy.approvals.required:
            if requirement.matches(ctx.grade, ctx.change_type) and requirement.step not in chosen:
                chosen[requirement.step] = requirement
        rank = {step: i for i, step in enumerate(ctx.policy.approvals.order)}
        return sorted(chosen.values(), key=lambda r: rank.get(r.step, len(rank)))

    return ctx.policy.remembered(("required_steps", ctx.grade, ctx.change_type), compute)


def holds_role(actor: str, step: str, members: Mapping[Role, frozenset[str]], ctx: RuleContext) -> bool:
    """Whether `actor` holds one of the roles that may give `step`."""
    definition = ctx.policy.approvals.steps.get(Step(step)) if step in ctx.policy.approvals.steps else None
    key = login_key(actor)
    return definition is not None and any(key in members.get(role, frozenset()) for role in definition.roles)


def holder(decision: ApprovalDecision, members: Mapping[Role, frozenset[str]], ctx: RuleContext) -> bool:
    """Whether the decision is given with the step's role: the actor's own, or a deputy's delegator's."""
    return holds_role(decision.actor, decision.step, members, ctx) or bool(
        decision.deputy_for and holds_role(decision.deputy_for, decision.step, members, ctx)
    )


def with_deputies(
    decisions: Iterable[ApprovalDecision],
    delegations: Sequence[Grant | Revocation],
    members: Mapping[Role, frozenset[str]],
    ctx: RuleContext,
) -> tuple[ApprovalDecision, ...]:
    """`decisions` with the delegator named on each one a deputy gave under a delegation that counts."""
    if not delegations:
        return tuple(decisions)
    from gatekeeper.rules.delegation import deputy_of

    out = []
    for decision in decisions:
        if not holds_role(decision.actor, decision.step, members, ctx):
            grant, _ = deputy_of(
                decision.actor, decision.step, decision.seq, decision.at, delegations, members, ctx
            )
            if grant is not None:
                decision = replace(decision, deputy_for=grant.delegator)
        out.append(decision)
    return tuple(out)


def _decisions(facts: ApprovalFacts, ctx: RuleContext) -> tuple[ApprovalDecision, ...]:
    """The facts' decisions, each deputy's delegator named (`with_deputies`), worked out once."""
    key = (id(ctx.policy), ctx.grade)
    found = facts.resolved.get(key)
    if found is None:
        found = facts.resolved[key] = with_deputies(facts.decisions, facts.delegations, facts.members, ctx)
    return found


def unattested(decision: ApprovalDecision) -> bool:
    """A ledger decision whose attestation was checked and does not verify (or is absent)."""
    return not decision.on_platform and decision.attested is False


def counts(
    decision: ApprovalDecision, ctx: RuleContext, members: Mapping[Role, frozenset[str]] | None = None
) -> bool:
    """Workstation (`local`) decisions count only for the grades the pack allows; unattested ones not where
    the pack requires attestation; a rejection only from a holder of the step's role (when `members` are
    known: anyone else's is a warning, never a veto)."""
    if from_workstation(ctx.policy, ctx.grade, decision.actor_source):
        return False
    if unproven(False if unattested(decision) else None, ctx.policy.approvals.attestation_level(ctx.grade)):
        return False
    if members is not None and decision.decision == REJECT and not holder(decision, members, ctx):
        return False
    return decision.step in ctx.policy.approvals.steps


def latest_decisions(
    decisions: Iterable[ApprovalDecision],
    ctx: RuleContext,
    members: Mapping[Role, frozenset[str]] | None = None,
) -> dict[str, ApprovalDecision]:
    """The latest counted decision per step: a later reject overrides an approval, and the other way round."""
    latest: dict[str, ApprovalDecision] = {}
    for decision in sorted(decisions, key=lambda d: d.seq):
        if counts(decision, ctx, members):
            latest[decision.step] = decision
    return latest


def _latest(facts: ApprovalFacts, ctx: RuleContext) -> dict[str, ApprovalDecision]:
    """`latest_decisions` of the facts (with their role holders), worked out once for all the rules that
    read it."""
    key = (id(ctx.policy), ctx.grade)
    found = facts.latest.get(key)
    if found is None:
        found = facts.latest[key] = latest_decisions(_decisions(facts, ctx), ctx, facts.members)
    return found


def approved_steps(
    decisions: Iterable[ApprovalDecision],
    ctx: RuleContext,
    members: Mapping[Role, frozenset[str]] | None = None,
) -> frozenset[str]:
    return frozenset(
        step for step, d in latest_decisions(decisions, ctx, members).items() if d.decision == APPROVE
    )


def _approvals(facts: ApprovalFacts, ctx: RuleContext) -> dict[str, ApprovalDecision]:
    return {s: d for s, d in _latest(facts, ctx).items() if d.decision == APPROVE}


def _subject(facts: ApprovalFacts, step: str) -> str:
    return f"{facts.rfc_id} {step}"


def _approve_hint(ctx: RuleContext, facts: ApprovalFacts, step: str) -> str:
    roles = (
        ", ".join(str(r) for r in ctx.policy.approvals.steps[Step(step)].roles)
        if step in ctx.policy.approvals.steps
        else "?"
    )
    return tr(
        ctx.lang,
        "a holder of role {roles} (not an author of the change) runs `gatekeeper approve "
        "{rfc_id} --step {step} --decision approve` in the approval job",
        roles=roles,
        rfc_id=facts.rfc_id,
        step=step,
    )


# ---------------------------------------------------------------------------------------------- rules


def _missing(facts: ApprovalFacts, ctx: RuleContext, *, cab: bool) -> Iterable[Finding | None]:
    latest = _latest(facts, ctx)
    ignored = [d for d in _decisions(facts, ctx) if not counts(d, ctx, facts.members)]
    ignored_local = {d.step for d in ignored if d.actor_source == ActorSource.LOCAL}
    ignored_unattested = {d.step: d for d in ignored if unattested(d)}
    rule = "cab.missing" if cab else "approval.missing"
    for requirement in required_steps(ctx):
        step = str(requirement.step)
        # The pack may switch a rule off as a whole; otherwise the step's own requirement sets the severity.
        if (requirement.step is Step.CAB) != cab or step in latest or ctx.severity(rule) is Severity.OFF:
            continue
        note = (
            tr(ctx.lang, " (an approval recorded on a workstation does not count for this grade)")
            if step in ignored_local
            else _unattested_note(ctx, ignored_unattested[step])
            if step in ignored_unattested
            else ""
        )
        yield ctx.finding(
            rule,
            subject=_subject(facts, step),
            severity=requirement.severity,
            message=tr(
                ctx.lang,
                "RFC {rfc_id} has no {step} approval{note}",
                rfc_id=facts.rfc_id,
                step=step,
                note=note,
            ),
            remediation=_approve_hint(ctx, facts, step),
        )


def _unattested_note(ctx: RuleContext, decision: ApprovalDecision) -> str:
    from gatekeeper.domain.attestation import hint

    if decision.refusal is not None:
        return tr(
            ctx.lang,
            " (ledger record {seq} does not count: {refusal})",
            seq=decision.seq,
            refusal=decision.refusal[0],
            refusal_1=decision.refusal[1],
        )
    en, ko = hint("gitlab" if decision.actor_source == ActorSource.GITLAB_CI else "github")
    return tr(
        ctx.lang,
        " (an approval without a verified attestation of the CI platform does not count "
        "for this grade: {en})",
        en=en,
        ko=ko,
    )


def missing(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    return _missing(facts, ctx, cab=False)


def cab_missing(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    return _missing(facts, ctx, cab=True)


def rejected(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    latest = _latest(facts, ctx)
    yield from _outsider_rejections(facts, ctx, latest)
    for step, decision in latest.items():
        if decision.decision == REJECT:
            yield ctx.finding(
                "approval.rejected",
                subject=_subject(facts, step),
                message=tr(
                    ctx.lang,
                    "{actor} rejected step {step} of RFC {rfc_id} (ledger record {seq})",
                    actor=decision.actor,
                    step=step,
                    rfc_id=facts.rfc_id,
                    seq=decision.seq,
                ),
                remediation=tr(
                    ctx.lang,
                    "address the reason for the rejection, update the RFC, and ask for {step} again",
                    step=step,
                ),
            )


def _outsider_rejections(
    facts: ApprovalFacts, ctx: RuleContext, latest: Mapping[str, ApprovalDecision]
) -> Iterable[Finding | None]:
    """Rejections by people without the step's role, after the step's latest counted decision: reported,
    never counted (anyone could otherwise veto a release)."""
    for decision in _decisions(facts, ctx):
        counted = latest.get(decision.step)
        if (
            decision.decision != REJECT
            or holder(decision, facts.members, ctx)
            or (counted is not None and counted.seq > decision.seq)
        ):
            continue
        yield ctx.finding(
            "approval.rejected",
            subject=_subject(facts, decision.step),
            severity=Severity.WARNING,
            message=tr(
                ctx.lang,
                "{actor} rejected step {step} of RFC {rfc_id} without holding the step's role "
                "(ledger record {seq}): it does not count",
                actor=decision.actor,
                step=decision.step,
                rfc_id=facts.rfc_id,
                seq=decision.seq,
            ),
            remediation=tr(ctx.lang, "a holder of the step's role reads the objection and decides"),
        )


def unattested_approvals(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    """Where the pack recommends attestation, a counted approval without one is worth a warning."""
    if ctx.policy.approvals.attestation_level(ctx.grade) != "recommended":
        return
    from gatekeeper.domain.attestation import hint

    for step, decision in _approvals(facts, ctx).items():
        if not unattested(decision):
            continue
        en, ko = decision.refusal or hint(
            "gitlab" if decision.actor_source == ActorSource.GITLAB_CI else "github"
        )
        yield ctx.finding(
            "approval.unattested",
            subject=_subject(facts, step),
            message=tr(
                ctx.lang,
                "step {step} of RFC {rfc_id} was approved by {actor} without a verified "
                "attestation of the CI platform (ledger record {seq})",
                step=step,
                rfc_id=facts.rfc_id,
                actor=decision.actor,
                seq=decision.seq,
            ),
            remediation=in_language(ctx.lang, en, ko),
        )


def _breach(decision: ApprovalDecision, facts: ApprovalFacts, ctx: RuleContext) -> tuple[str, str] | None:
    """Why the approval breaks separation of duties (en, ko): its actor — a deputy too — or the delegator
    a deputy acts for authored the change, or requested it where the step must be given by someone else."""
    requester = login_key(facts.requester)
    definition = ctx.policy.approvals.steps.get(Step(decision.step))
    may_request = definition is not None and definition.requester_may_approve
    for who in (decision.actor, decision.deputy_for):
        if not who:
            continue
        key = login_key(who)
        own = who == decision.actor
        if key in facts.identities:
            return (
                msg("authored, committed or co-authored a commit of the change")
                if own
                else msg(
                    "acts for {who}, who authored, committed or co-authored a commit of the change", who=who
                )
            ).pair
        if key == requester and not may_request:
            return (
                msg("requested the change, and this step must be given by someone else")
                if own
                else msg(
                    "acts for {who}, who requested the change, and this step must be given by someone else",
                    who=who,
                )
            ).pair
    return None


def self_approval(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    """TST-P3/CHG-P3: no approver of a step — each member of a quorum, each deputy — is an author."""
    approvals = _approvals(facts, ctx)
    given = list(approvals.values())
    for step in approvals:
        if _quorum_of(ctx, step) > 1:
            given += [d for d in _votes(facts, ctx, step) if d.seq != approvals[step].seq]
    for decision in given:
        step = decision.step
        breach = _breach(decision, facts, ctx)
        if breach is None:
            continue
        why = in_language(ctx.lang, *breach)
        actor = _who(decision, ctx)
        yield ctx.finding(
            "approval.self",
            subject=_subject(facts, step),
            message=tr(
                ctx.lang,
                "{actor} approved step {step} of RFC {rfc_id} but {why}",
                actor=actor,
                step=step,
                rfc_id=facts.rfc_id,
                why=why,
            ),
            remediation=tr(
                ctx.lang,
                "another holder of the step's role approves {step}; the verifier is never the "
                "author (TST-P3)",
                step=step,
            ),
        )


def _who(decision: ApprovalDecision, ctx: RuleContext) -> str:
    """The approver as forms and messages name them: `lee (deputy of park)` / `lee (대리: park)`."""
    return deputy_label(decision.actor, decision.deputy_for, ctx.lang)


def deputy_label(actor: str, delegator: str, lang: str) -> str:
    if not delegator:
        return actor
    return tr(lang, "{actor} (deputy of {delegator})", actor=actor, delegator=delegator)


def repeated_approvers(
    approved: Iterable[tuple[str, int, str]], order: Sequence[Step]
) -> Iterator[tuple[str, str, str]]:
    """(approver, first step, later step) for each approved step its approver already gave another step
    of, taking `approved` (step, seq, approver's login key) in the pack's approval order, then by seq."""
    rank = {str(step): i for i, step in enumerate(order)}
    first_step: dict[str, str] = {}
    for step, _, who in sorted(approved, key=lambda found: (rank.get(found[0], len(rank)), found[1])):
        if who in first_step:
            yield who, first_step[who], step
        else:
            first_step[who] = step


def same_person(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    approvals = _approvals(facts, ctx)
    order = ctx.policy.approvals.order
    keyed = ((step, d.seq, login_key(d.actor)) for step, d in approvals.items())
    found = list(repeated_approvers(keyed, order))
    # A deputy exercises the delegator's authority: the delegator's other step is theirs as well.
    named = {step for _, _, step in found}
    by_principal = ((step, d.seq, login_key(d.principal)) for step, d in approvals.items())
    found += [f for f in repeated_approvers(by_principal, order) if f[2] not in named]
    for _, first, step in found:
        decision = approvals[step]
        yield ctx.finding(
            "approval.same-person",
            subject=_subject(facts, step),
            message=tr(
                ctx.lang,
                "{actor} gave both {first} and {step} of RFC {rfc_id}",
                actor=decision.actor,
                first=first,
                step=step,
                rfc_id=facts.rfc_id,
            ),
            remediation=tr(
                ctx.lang,
                "a different person approves {step}: each step of one change needs its own approver",
                step=step,
            ),
        )


def unauthorized(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    from gatekeeper.rules.delegation import deputy_of

    for step, decision in _approvals(facts, ctx).items():
        roles = ctx.policy.approvals.steps[Step(step)].roles
        if holder(decision, facts.members, ctx):
            continue
        names = ", ".join(str(r) for r in roles)
        _, why = deputy_of(
            decision.actor, step, decision.seq, decision.at, facts.delegations, facts.members, ctx
        )
        en, ko = (f" ({why[0]})", f" ({why[1]})") if why else ("", "")
        yield ctx.finding(
            "approval.unauthorized",
            subject=_subject(facts, step),
            message=tr(
                ctx.lang,
                "{actor} approved step {step} of RFC {rfc_id} without holding role {names}{en}",
                actor=decision.actor,
                step=step,
                rfc_id=facts.rfc_id,
                names=names,
                en=en,
                ko=ko,
            ),
            remediation=tr(
                ctx.lang,
                "a member of {names} (under `roles` in .gatekeeper.yml) approves {step}",
                names=names,
                step=step,
            ),
        )


def out_of_order(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    approvals = _approvals(facts, ctx)
    order = [str(s) for s in ctx.policy.approvals.order if str(s) in approvals]
    for later_index, later in enumerate(order):
        earlier = [s for s in order[:later_index] if approvals[s].seq > approvals[later].seq]
        if earlier:
            yield ctx.finding(
                "approval.out-of-order",
                subject=_subject(facts, later),
                message=tr(
                    ctx.lang,
                    "step {later} of RFC {rfc_id} was approved before the earlier step {earlier}",
                    later=later,
                    rfc_id=facts.rfc_id,
                    earlier=earlier[-1],
                ),
                remediation=tr(
                    ctx.lang,
                    "approve {later} again now that {earlier} is approved (order: {order})",
                    later=later,
                    earlier=earlier[-1],
                    order=" → ".join(order),
                ),
            )


def stale(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for step, decision in _approvals(facts, ctx).items():
        if decision.digest != facts.digest:
            yield ctx.finding(
                "approval.stale",
                subject=_subject(facts, step),
                message=tr(
                    ctx.lang,
                    "step {step} of RFC {rfc_id} was approved for other RFC content "
                    "({digest}); the RFC is now {digest_19}",
                    step=step,
                    rfc_id=facts.rfc_id,
                    digest=decision.digest[:19] or "no digest",
                    digest_19=facts.digest[:19],
                ),
                remediation=tr(ctx.lang, "review the edited RFC and approve {step} again", step=step),
            )


def other_commit(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    """REL-P1: the release plan's approvals certify the release that was tested, so each one of the pack's
    `approvals.commit_steps` names the commit it approved, and that is the commit deployed: approvals of
    one release never carry over to another commit."""
    if not facts.head:
        return
    for step, decision in _approvals(facts, ctx).items():
        if step not in ctx.policy.approvals.commit_steps or decision.commit == facts.head:
            continue
        named = decision.commit[:12] if decision.commit else ""
        yield ctx.finding(
            "approval.other-commit",
            subject=_subject(facts, step),
            message=(
                tr(
                    ctx.lang,
                    "step {step} of RFC {rfc_id} was approved for commit {named}; the deployment is of "
                    "{head}",
                    step=step,
                    rfc_id=facts.rfc_id,
                    named=named,
                    head=facts.head[:12],
                )
                if named
                else tr(
                    ctx.lang,
                    "step {step} of RFC {rfc_id} was approved for no named commit; the deployment is of "
                    "{head}",
                    step=step,
                    rfc_id=facts.rfc_id,
                    head=facts.head[:12],
                )
            ),
            remediation=tr(
                ctx.lang,
                "approve {step} again for the commit being deployed, after its tests: "
                "`gatekeeper approve {rfc_id} --step {step} --decision approve` in the approval "
                "job of that commit",
                step=step,
                rfc_id=facts.rfc_id,
            ),
        )


def other_artifact(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    """REL-P1: a release step's approval that names the artefacts it certified (`approve --artifact`) holds
    only for those builds: an artefact deployed under the same name with another digest is not what was
    approved. Compared where both the approval and the deployment (`--artifact`) name it."""
    if not facts.artifacts:
        return
    for step, decision in _approvals(facts, ctx).items():
        if step not in ctx.policy.approvals.commit_steps or not decision.artifacts:
            continue
        differ = sorted(
            name
            for name, digest in decision.artifacts.items()
            if name in facts.artifacts and facts.artifacts[name] != digest
        )
        if not differ:
            continue
        shown = ", ".join(
            f"{n} ({facts.artifacts[n][:19]}…, approved {decision.artifacts[n][:19]}…)" for n in differ
        )
        yield ctx.finding(
            "approval.other-artifact",
            subject=_subject(facts, step),
            message=tr(
                ctx.lang,
                "step {step} of RFC {rfc_id} (ledger record {seq}) approved other builds of the "
                "artefacts being deployed: {shown}",
                step=step,
                rfc_id=facts.rfc_id,
                seq=decision.seq,
                shown=shown,
            ),
            remediation=tr(
                ctx.lang,
                "deploy the artefacts that were tested and approved, or approve this build again "
                "after its tests: `gatekeeper approve {rfc_id} --step {step} --artifact "
                "NAME=sha256:...`",
                rfc_id=facts.rfc_id,
                step=step,
            ),
        )


def before_evidence(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    """TST-P4/REL-P1: a release step certifies the tests of the commit deployed, so its approval comes after
    the ledger holds that commit's evidence of each kind the pack's `approvals.certified_by` names for it
    (kr-ap-sop: release-first after integration, release-second after acceptance/pre-verification). An
    approval given before that evidence existed approved nothing and is out of order."""
    if not facts.head:
        return
    for step, decision in _approvals(facts, ctx).items():
        if step in ctx.policy.approvals.commit_steps and decision.commit != facts.head:
            continue  # certifies another commit (or none): `approval.other-commit` says so
        kinds = ctx.policy.approvals.certified_by.get(Step(step), ())
        # A decision on the platform is read live, after every ledger record: its seq only continues the
        # decisions', so it is compared with no record's.
        before = [e for e in facts.evidence if decision.on_platform or e[1] < decision.seq]
        late = [
            str(k)
            for k in kinds
            if not any(kind == k and signature_counts(signed, ctx) for kind, _, signed in before)
        ]
        if not late:
            continue
        named = ", ".join(late)
        unsigned = [
            str(seq) for kind, seq, signed in before if kind in late and not signature_counts(signed, ctx)
        ]
        why = (
            tr(
                ctx.lang,
                " (unsigned ledger records {unsigned} are no evidence: no CI job on the commit signed them)",
                unsigned=", ".join(unsigned),
            )
            if unsigned
            else ""
        )
        yield ctx.finding(
            "approval.before-evidence",
            subject=_subject(facts, step),
            message=tr(
                ctx.lang,
                "step {step} of RFC {rfc_id} was approved (ledger record {seq}) before the "
                "ledger held {named} test evidence for the deployed commit {head}{why}",
                step=step,
                rfc_id=facts.rfc_id,
                seq=decision.seq,
                named=named,
                head=facts.head[:12],
                why=why,
            ),
            remediation=tr(
                ctx.lang,
                "record the {named} test evidence of {head} (`gatekeeper evidence add`), then "
                "approve {step} again",
                named=named,
                head=facts.head[:12],
                step=step,
            ),
        )


def _quorum_of(ctx: RuleContext, step: str) -> int:
    steps = ctx.policy.approvals.steps
    return steps[Step(step)].quorum if step in steps else 1


def _votes(facts: ApprovalFacts, ctx: RuleContext, step: str) -> list[ApprovalDecision]:
    """The approvals of `step` since its latest counted rejection, in ledger order: a quorum's votes."""
    counted = [d for d in _decisions(facts, ctx) if d.step == step and counts(d, ctx, facts.members)]
    since = max((d.seq for d in counted if d.decision == REJECT), default=0)
    return sorted((d for d in counted if d.decision == APPROVE and d.seq > since), key=lambda d: d.seq)


def quorum_tally(
    facts: ApprovalFacts, ctx: RuleContext, step: str
) -> tuple[list[ApprovalDecision], list[tuple[ApprovalDecision, str, str]]]:
    """The members whose approval of `step` counts toward its quorum, and why each other vote does not
    (en, ko): a member counts once (a deputy and their delegator are one), with the step's role, for the
    RFC content being deployed, and never an author of the change or the approver of another step."""
    others = {
        key
        for s, d in _approvals(facts, ctx).items()
        if s != step
        for key in (login_key(d.actor), login_key(d.principal))
    }
    counted: list[ApprovalDecision] = []
    refused: list[tuple[ApprovalDecision, str, str]] = []
    used: set[str] = set()
    for decision in reversed(_votes(facts, ctx, step)):  # each member's latest vote
        keys = {login_key(decision.actor), login_key(decision.principal)}
        breach = _breach(decision, facts, ctx)
        if not holder(decision, facts.members, ctx):
            refused.append((decision, *msg("does not hold the step's role").pair))
        elif decision.digest != facts.digest:
            refused.append((decision, *msg("approved other RFC content").pair))
        elif breach is not None:
            refused.append((decision, *breach))
        elif keys & used:
            refused.append((decision, *msg("is already counted").pair))
        elif keys & others:
            refused.append((decision, *msg("gave another step of the change").pair))
        else:
            counted.append(decision)
        used |= keys
    return counted[::-1], refused[::-1]


def quorum(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    """CHG-P3 (seed 002 변경관리 2.1 CAB 심의): a step the pack gives a `quorum` is decided by that many of
    its members; separation of duties applies to each of them."""
    latest = _latest(facts, ctx)
    for requirement in required_steps(ctx):
        step = str(requirement.step)
        need = _quorum_of(ctx, step)
        decision = latest.get(step)
        if (
            need <= 1
            or decision is None
            or decision.decision != APPROVE
            or ctx.severity("approval.quorum") is Severity.OFF
        ):
            continue  # missing or rejected: `approval.missing`, `cab.missing`, `approval.rejected` say so
        counted, refused = quorum_tally(facts, ctx, step)
        if len(counted) >= need:
            continue
        names = ", ".join(_who(d, ctx) for d in counted) or "-"
        not_counted = "; ".join(
            tr(
                ctx.lang,
                "{who} {reason} (ledger record {seq})",
                who=_who(d, ctx),
                reason=in_language(ctx.lang, en, ko),
                seq=d.seq,
            )
            for d, en, ko in refused
        )
        yield ctx.finding(
            "approval.quorum",
            subject=_subject(facts, step),
            severity=requirement.severity,
            message=tr(
                ctx.lang,
                "step {step} of RFC {rfc_id} has {count} of {need} members' approvals ({names})",
                step=step,
                rfc_id=facts.rfc_id,
                count=len(counted),
                need=need,
                names=names,
            )
            + (tr(ctx.lang, "; not counted: {refused}", refused=not_counted) if not_counted else ""),
            remediation=tr(
                ctx.lang,
                "{short} more member(s) of the step's role, none an author of the change, approve {step}",
                short=need - len(counted),
                step=step,
            ),
        )


def deputy_approvals(facts: ApprovalFacts, ctx: RuleContext) -> list[ApprovalDecision]:
    """The approvals that count and were given by a deputy (each with `deputy_for`), in ledger order: what
    forms and audits mark."""
    approvals = _approvals(facts, ctx)
    given = {d.seq: d for d in approvals.values()}
    for step in approvals:
        if _quorum_of(ctx, step) > 1:
            given.update((d.seq, d) for d in quorum_tally(facts, ctx, step)[0])
    return sorted((d for d in given.values() if d.deputy_for), key=lambda d: d.seq)


ApprovalRule = Callable[[ApprovalFacts, RuleContext], Iterable[Finding | None]]

APPROVAL_RULES: dict[str, ApprovalRule] = {
    "approval.missing": missing,
    "approval.rejected": rejected,
    "approval.self": self_approval,
    "approval.same-person": same_person,
    "approval.unauthorized": unauthorized,
    "approval.out-of-order": out_of_order,
    "approval.stale": stale,
    "approval.other-commit": other_commit,
    "approval.other-artifact": other_artifact,
    "approval.before-evidence": before_evidence,
    "approval.unattested": unattested_approvals,
    "cab.missing": cab_missing,
    "approval.quorum": quorum,
}


def check_approvals(facts: ApprovalFacts, ctx: RuleContext) -> list[Finding]:
    return [f for rule in APPROVAL_RULES.values() for f in rule(facts, ctx) if f is not None]
