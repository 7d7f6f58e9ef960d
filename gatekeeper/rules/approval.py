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

from gatekeeper.config.models import StepRequirement
from gatekeeper.domain import ActorSource, Finding, Role, Severity, Step
from gatekeeper.domain.records import APPROVE, REJECT
from gatekeeper.rules import RuleContext

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
    commit: str = ""  # the commit a release step's approval certifies ("": none named)
    # The artefacts a release step's approval certifies, NAME -> `sha256:<hex>` (`approve --artifact`).
    artifacts: Mapping[str, str] = field(default_factory=dict)


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
    # The latest counted decisions per pack and grade, worked out once (`_latest`); not a fact.
    latest: dict[tuple[int, int], dict[str, ApprovalDecision]] = field(
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


def unattested(decision: ApprovalDecision) -> bool:
    """A ledger decision whose attestation was checked and does not verify (or is absent)."""
    return not decision.on_platform and decision.attested is False


def counts(
    decision: ApprovalDecision, ctx: RuleContext, members: Mapping[Role, frozenset[str]] | None = None
) -> bool:
    """Workstation (`local`) decisions count only for the grades the pack allows; unattested ones not where
    the pack requires attestation; a rejection only from a holder of the step's role (when `members` are
    known: anyone else's is a warning, never a veto)."""
    if (
        decision.actor_source == ActorSource.LOCAL
        and ctx.grade not in ctx.policy.approvals.local_actor_grades
    ):
        return False
    if unattested(decision) and ctx.policy.approvals.attestation_level(ctx.grade) == "required":
        return False
    if (
        members is not None
        and decision.decision == REJECT
        and not holds_role(decision.actor, decision.step, members, ctx)
    ):
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
        found = facts.latest[key] = latest_decisions(facts.decisions, ctx, facts.members)
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
    return ctx.text(
        f"a holder of role {roles} (not an author of the change) runs "
        f"`gatekeeper approve {facts.rfc_id} --step {step} --decision approve` in the approval job",
        f"{roles} 역할 보유자(변경 작성자가 아닌 사람)가 승인 작업에서 "
        f"`gatekeeper approve {facts.rfc_id} --step {step} --decision approve`를 실행하세요",
    )


# ---------------------------------------------------------------------------------------------- rules


def _missing(facts: ApprovalFacts, ctx: RuleContext, *, cab: bool) -> Iterable[Finding | None]:
    latest = _latest(facts, ctx)
    ignored = [d for d in facts.decisions if not counts(d, ctx, facts.members)]
    ignored_local = {d.step for d in ignored if d.actor_source == ActorSource.LOCAL}
    ignored_unattested = {d.step: d.actor_source for d in ignored if unattested(d)}
    rule = "cab.missing" if cab else "approval.missing"
    for requirement in required_steps(ctx):
        step = str(requirement.step)
        # The pack may switch a rule off as a whole; otherwise the step's own requirement sets the severity.
        if (requirement.step is Step.CAB) != cab or step in latest or ctx.severity(rule) is Severity.OFF:
            continue
        note = (
            ctx.text(
                " (an approval recorded on a workstation does not count for this grade)",
                " (로컬에서 기록된 승인은 이 등급에서 인정되지 않습니다)",
            )
            if step in ignored_local
            else _unattested_note(ctx, ignored_unattested[step])
            if step in ignored_unattested
            else ""
        )
        yield ctx.finding(
            rule,
            subject=_subject(facts, step),
            severity=requirement.severity,
            message=ctx.text(
                f"RFC {facts.rfc_id} has no {step} approval{note}",
                f"변경요청 {facts.rfc_id}에 {step} 승인이 없습니다{note}",
            ),
            remediation=_approve_hint(ctx, facts, step),
        )


def _unattested_note(ctx: RuleContext, actor_source: str) -> str:
    from gatekeeper.domain.attestation import hint

    en, ko = hint("gitlab" if actor_source == ActorSource.GITLAB_CI else "github")
    return ctx.text(
        " (an approval without a verified attestation of the CI platform does not count for this grade: "
        f"{en})",
        f" (CI 플랫폼의 검증된 증명이 없는 승인은 이 등급에서 인정되지 않습니다: {ko})",
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
                message=ctx.text(
                    f"{decision.actor} rejected step {step} of RFC {facts.rfc_id} (ledger record "
                    f"{decision.seq})",
                    f"{decision.actor}님이 변경요청 {facts.rfc_id}의 {step} 단계를 반려했습니다 (원장 "
                    f"{decision.seq}번)",
                ),
                remediation=ctx.text(
                    f"address the reason for the rejection, update the RFC, and ask for {step} again",
                    f"반려 사유를 해소하고 변경요청서를 수정한 뒤 {step} 승인을 다시 요청하세요",
                ),
            )


def _outsider_rejections(
    facts: ApprovalFacts, ctx: RuleContext, latest: Mapping[str, ApprovalDecision]
) -> Iterable[Finding | None]:
    """Rejections by people without the step's role, after the step's latest counted decision: reported,
    never counted (anyone could otherwise veto a release)."""
    for decision in facts.decisions:
        counted = latest.get(decision.step)
        if (
            decision.decision != REJECT
            or holds_role(decision.actor, decision.step, facts.members, ctx)
            or (counted is not None and counted.seq > decision.seq)
        ):
            continue
        yield ctx.finding(
            "approval.rejected",
            subject=_subject(facts, decision.step),
            severity=Severity.WARNING,
            message=ctx.text(
                f"{decision.actor} rejected step {decision.step} of RFC {facts.rfc_id} without holding the "
                f"step's role (ledger record {decision.seq}): it does not count",
                f"{decision.actor}님이 역할 없이 변경요청 {facts.rfc_id}의 {decision.step} 단계를 "
                f"반려했습니다 (원장 {decision.seq}번): 인정되지 않습니다",
            ),
            remediation=ctx.text(
                "a holder of the step's role reads the objection and decides",
                "해당 단계 역할 보유자가 이의를 검토하고 결정하세요",
            ),
        )


def unattested_approvals(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    """Where the pack recommends attestation, a counted approval without one is worth a warning."""
    if ctx.policy.approvals.attestation_level(ctx.grade) != "recommended":
        return
    from gatekeeper.domain.attestation import hint

    for step, decision in _approvals(facts, ctx).items():
        if not unattested(decision):
            continue
        en, ko = hint("gitlab" if decision.actor_source == ActorSource.GITLAB_CI else "github")
        yield ctx.finding(
            "approval.unattested",
            subject=_subject(facts, step),
            message=ctx.text(
                f"step {step} of RFC {facts.rfc_id} was approved by {decision.actor} without a verified "
                f"attestation of the CI platform (ledger record {decision.seq})",
                f"변경요청 {facts.rfc_id}의 {step} 단계 승인({decision.actor}, 원장 {decision.seq}번)에 "
                "CI 플랫폼의 검증된 증명이 없습니다",
            ),
            remediation=ctx.text(en, ko),
        )


def self_approval(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    requester = login_key(facts.requester)
    for step, decision in _approvals(facts, ctx).items():
        actor = login_key(decision.actor)
        definition = ctx.policy.approvals.steps.get(Step(step))
        may_request = definition is not None and definition.requester_may_approve
        if actor in facts.identities:
            why = ctx.text(
                "authored, committed or co-authored a commit of the change",
                "변경 커밋의 작성자·커미터·공동작성자입니다",
            )
        elif actor == requester and not may_request:
            why = ctx.text(
                "requested the change, and this step must be given by someone else",
                "변경요청자이며 이 단계는 다른 사람이 승인해야 합니다",
            )
        else:
            continue
        yield ctx.finding(
            "approval.self",
            subject=_subject(facts, step),
            message=ctx.text(
                f"{decision.actor} approved step {step} of RFC {facts.rfc_id} but {why}",
                f"{decision.actor}님이 변경요청 {facts.rfc_id}의 {step} 단계를 승인했으나 {why}",
            ),
            remediation=ctx.text(
                f"another holder of the step's role approves {step}; the verifier is never the author "
                "(TST-P3)",
                f"해당 역할의 다른 사람이 {step} 단계를 승인해야 합니다 (작성자는 검증자가 될 수 없음)",
            ),
        )


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
    keyed = ((step, d.seq, login_key(d.actor)) for step, d in approvals.items())
    for _, first, step in repeated_approvers(keyed, ctx.policy.approvals.order):
        decision = approvals[step]
        yield ctx.finding(
            "approval.same-person",
            subject=_subject(facts, step),
            message=ctx.text(
                f"{decision.actor} gave both {first} and {step} of RFC {facts.rfc_id}",
                f"{decision.actor}님이 변경요청 {facts.rfc_id}의 {first} 단계와 {step} 단계를 "
                "모두 승인했습니다",
            ),
            remediation=ctx.text(
                f"a different person approves {step}: each step of one change needs its own approver",
                f"{step} 단계는 다른 사람이 승인해야 합니다 (한 변경의 각 단계는 서로 다른 승인자)",
            ),
        )


def unauthorized(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for step, decision in _approvals(facts, ctx).items():
        roles = ctx.policy.approvals.steps[Step(step)].roles
        if any(login_key(decision.actor) in facts.members.get(role, frozenset()) for role in roles):
            continue
        names = ", ".join(str(r) for r in roles)
        yield ctx.finding(
            "approval.unauthorized",
            subject=_subject(facts, step),
            message=ctx.text(
                f"{decision.actor} approved step {step} of RFC {facts.rfc_id} without holding role {names}",
                f"{decision.actor}님은 {names} 역할이 없지만 변경요청 {facts.rfc_id}의 {step} 단계를 "
                "승인했습니다",
            ),
            remediation=ctx.text(
                f"a member of {names} (under `roles` in .gatekeeper.yml) approves {step}",
                f"{names} 역할 보유자(.gatekeeper.yml의 `roles`)가 {step} 단계를 승인해야 합니다",
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
                message=ctx.text(
                    f"step {later} of RFC {facts.rfc_id} was approved before the earlier step {earlier[-1]}",
                    f"변경요청 {facts.rfc_id}의 {later} 단계가 앞 단계 {earlier[-1]}보다 먼저 승인되었습니다",
                ),
                remediation=ctx.text(
                    f"approve {later} again now that {earlier[-1]} is approved (order: {' → '.join(order)})",
                    f"{earlier[-1]} 승인 후 {later} 단계를 다시 승인하세요",
                ),
            )


def stale(facts: ApprovalFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for step, decision in _approvals(facts, ctx).items():
        if decision.digest != facts.digest:
            yield ctx.finding(
                "approval.stale",
                subject=_subject(facts, step),
                message=ctx.text(
                    f"step {step} of RFC {facts.rfc_id} was approved for other RFC content "
                    f"({decision.digest[:19] or 'no digest'}); the RFC is now {facts.digest[:19]}",
                    f"변경요청 {facts.rfc_id}의 {step} 승인 이후 변경요청서 내용이 바뀌었습니다",
                ),
                remediation=ctx.text(
                    f"review the edited RFC and approve {step} again",
                    f"수정된 변경요청서를 검토한 뒤 {step} 단계를 다시 승인하세요",
                ),
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
            message=ctx.text(
                f"step {step} of RFC {facts.rfc_id} was approved for "
                + (f"commit {named}" if named else "no named commit")
                + f"; the deployment is of {facts.head[:12]}",
                f"변경요청 {facts.rfc_id}의 {step} 승인은 "
                + (f"커밋 {named}에 대한 것입니다" if named else "커밋을 지정하지 않았습니다")
                + f". 배포 대상은 {facts.head[:12]}입니다",
            ),
            remediation=ctx.text(
                f"approve {step} again for the commit being deployed, after its tests: `gatekeeper approve "
                f"{facts.rfc_id} --step {step} --decision approve` in the approval job of that commit",
                f"배포할 커밋의 테스트 후 그 커밋의 승인 작업에서 {step} 단계를 다시 승인하세요",
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
            message=ctx.text(
                f"step {step} of RFC {facts.rfc_id} (ledger record {decision.seq}) approved other builds of "
                f"the artefacts being deployed: {shown}",
                f"변경요청 {facts.rfc_id}의 {step} 승인(원장 {decision.seq}번)은 배포하려는 산출물과 다른 "
                f"빌드를 승인했습니다: {shown}",
            ),
            remediation=ctx.text(
                "deploy the artefacts that were tested and approved, or approve this build again after its "
                f"tests: `gatekeeper approve {facts.rfc_id} --step {step} --artifact NAME=sha256:...`",
                "시험하고 승인한 산출물을 배포하거나, 이 빌드를 시험한 뒤 다시 승인하세요: "
                f"`gatekeeper approve {facts.rfc_id} --step {step} --artifact NAME=sha256:...`",
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
        signed_only = ctx.policy.tests.attestation_level(ctx.grade, ctx.change_type) == "required"
        # A decision on the platform is read live, after every ledger record: its seq only continues the
        # decisions', so it is compared with no record's.
        late = [
            str(k)
            for k in kinds
            if not any(
                kind == k
                and (decision.on_platform or seq < decision.seq)
                and not (signed_only and signed is False)
                for kind, seq, signed in facts.evidence
            )
        ]
        if not late:
            continue
        named = ", ".join(late)
        unsigned = [
            str(seq)
            for kind, seq, signed in facts.evidence
            if signed_only
            and signed is False
            and kind in late
            and (decision.on_platform or seq < decision.seq)
        ]
        why = (
            ctx.text(
                f" (unsigned ledger records {', '.join(unsigned)} are no evidence: no CI job on the commit "
                "signed them)",
                f" (서명 없는 원장 기록 {', '.join(unsigned)}번은 커밋에서 실행된 CI 작업이 서명하지 않아 "
                "증적이 아닙니다)",
            )
            if unsigned
            else ""
        )
        yield ctx.finding(
            "approval.before-evidence",
            subject=_subject(facts, step),
            message=ctx.text(
                f"step {step} of RFC {facts.rfc_id} was approved (ledger record {decision.seq}) before the "
                f"ledger held {named} test evidence for the deployed commit {facts.head[:12]}{why}",
                f"변경요청 {facts.rfc_id}의 {step} 승인(원장 {decision.seq}번)이 배포 커밋 "
                f"{facts.head[:12]}의 {named} 시험 증적보다 먼저 기록되었습니다{why}",
            ),
            remediation=ctx.text(
                f"record the {named} test evidence of {facts.head[:12]} (`gatekeeper evidence add`), then "
                f"approve {step} again",
                f"{facts.head[:12]}의 {named} 시험 증적을 기록(`gatekeeper evidence add`)한 뒤 {step} 단계를 "
                "다시 승인하세요",
            ),
        )


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
}


def check_approvals(facts: ApprovalFacts, ctx: RuleContext) -> list[Finding]:
    return [f for rule in APPROVAL_RULES.values() for f in rule(facts, ctx) if f is not None]
