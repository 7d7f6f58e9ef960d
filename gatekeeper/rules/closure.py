"""Closing the release and the change (seed 002 배포관리 3.1–4.3, 변경관리 4.2, 테스트관리 4.4; REL-P3,
TST-P5, REL-CONSISTENCY).

A deployment that succeeded in production is tested there (the pack's `closure.production_tests`, bound to
the deployment), accepted by its requester, reviewed for consistency (change plan, release plan and result
agree) and closed by the agency officer, within the pack's `closure.deadline_days`. Past the deadline, what
is missing holds back the system's later changes as an overdue PIR does: `release.acceptance-overdue`,
`release.production-tests-overdue`, `release.closure-overdue` (the pack makes them errors for normal
changes of grades 1–2 and warnings for emergency changes, which go ahead).

`judge` reads a release's records in ledger order and counts only what a developer with write access cannot
fabricate: records from the pipeline (where the pack refuses workstation records), by a holder of the
step's roles (the RFC's requester may accept), after the deployment finished, each step after the ones it
rests on — a closure counts only when the acceptance, the review and the production tests were there before
it. `refusal` gives the reason a record does not count; the `release` command refuses to write such a record
and the gate and the audit judge the ledger's records with the same function.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from gatekeeper.config.models import Policy
from gatekeeper.domain import ChangeType, Finding, Grade, Role
from gatekeeper.domain.closure import Release
from gatekeeper.domain.records import ChangeClosed, Entry, ReleaseAccepted, ReleaseReviewed, TestEvidence
from gatekeeper.messages import Said, msg, tr
from gatekeeper.rules import RuleContext, from_workstation, unproven

if TYPE_CHECKING:
    from gatekeeper.rules.deploy import DeployFacts

# What each step is called, for messages.
STEP_NAMES = {
    "acceptance": msg("the requester's acceptance test"),
    "tests": msg("the production tests"),
    "review": msg("the consistency review"),
    "closure": msg("the closure"),
}


@dataclass(frozen=True, slots=True)
class ClosureState:
    """What of a release's closure counts at one moment (`judge`)."""

    deployment: str
    rfcs: tuple[str, ...]
    change_type: ChangeType
    environment: str
    finished_at: datetime
    tested: frozenset[str] = frozenset()  # production test kinds with passing evidence that counts
    acceptance: str = ""  # the latest counted acceptance's result ("": none)
    consistent: bool | None = None  # the latest counted review (None: none)
    closed: bool = False
    refused: tuple[tuple[str, str], ...] = ()  # why records about it do not count (en, ko)

    def missing_tests(self, policy: Policy) -> tuple[str, ...]:
        return tuple(str(k) for k in policy.closure.production_tests if str(k) not in self.tested)


def _holds(actor: str, roles: Iterable[Role], members: Mapping[Role, frozenset[str]]) -> bool:
    from gatekeeper.rules.approval import login_key

    return any(login_key(actor) in members.get(role, frozenset()) for role in roles)


def _names(roles: Iterable[Role]) -> str:
    return ", ".join(str(r) for r in roles)


def refusal(
    policy: Policy,
    grade: Grade | None,
    members: Mapping[Role, frozenset[str]] | None,
    requesters: Callable[[str], str | None] | None,
    release: Release,
    entry: Entry[Any],
    state: ClosureState,
) -> tuple[str, str] | None:
    """Why one record about `release` does not count, given what counted before it (`state`); None: it
    counts. `members` None: the role holders are not known (roles not checked); `requesters`: the RFC's
    requester, where known."""
    from gatekeeper.rules.approval import login_key

    payload = entry.payload
    actor = entry.actor
    if entry.seq <= release.seq or entry.moment < release.finished_at:
        return msg("it was recorded before deployment {id} finished", id=release.id).pair
    if from_workstation(policy, grade, entry.actor_source):
        return msg("it was recorded on a workstation by {actor}, not by the pipeline", actor=actor).pair
    closure = policy.closure
    level = (
        (
            policy.tests.attestation_level(grade, release.change_type)
            if isinstance(payload, TestEvidence)
            else policy.approvals.attestation_level(grade)
        )
        if grade is not None
        else "off"
    )
    if unproven(release.signed.get(entry.seq), level):
        return msg(
            "it carries no verified signature of a CI job of this repository, so nothing "
            "shows {actor} wrote it",
            actor=actor,
        ).pair
    if isinstance(payload, TestEvidence):
        from gatekeeper.rules.tests import same_commit

        if release.commit and not same_commit(payload.commit, release.commit):
            return msg(
                "its tests ran on {commit}, not on the deployed commit {commit_122}",
                commit=payload.commit[:12],
                commit_122=release.commit[:12],
            ).pair
        counts = payload.counts
        if counts.failed or counts.errors or counts.executed == 0:
            return msg(
                "its {kind} tests did not pass ({passed}/{tests})",
                kind=payload.kind,
                passed=counts.passed,
                tests=counts.tests,
            ).pair
        return None
    if isinstance(payload, ReleaseAccepted):
        requester_ok = False
        if closure.requester_may_accept and requesters is not None:
            requester_ok = any(
                (r := requesters(rfc)) is not None and login_key(r) == login_key(actor)
                for rfc in release.rfcs
            )
        if (
            closure.acceptors
            and members is not None
            and not requester_ok
            and not _holds(actor, closure.acceptors, members)
        ):
            return msg(
                "it was recorded by {actor}, who is neither the change's requester nor holds a "
                "role that accepts ({names_acceptors})",
                actor=actor,
                names_acceptors=_names(closure.acceptors),
            ).pair
        return None
    if isinstance(payload, ReleaseReviewed):
        if closure.reviewers and members is not None and not _holds(actor, closure.reviewers, members):
            return msg(
                "it was recorded by {actor}, who holds none of the roles that review it ({names_reviewers})",
                actor=actor,
                names_reviewers=_names(closure.reviewers),
            ).pair
        return None
    if isinstance(payload, ChangeClosed):
        if closure.closers and members is not None and not _holds(actor, closure.closers, members):
            return msg(
                "it was recorded by {actor}, who holds none of the roles that close it ({names_closers})",
                actor=actor,
                names_closers=_names(closure.closers),
            ).pair
        lacking = lacking_before_closure(policy, state)
        if lacking:
            named = [STEP_NAMES.get(s, Said(s, s)) for s in lacking]
            steps = Said(", ".join(n.en for n in named), ", ".join(n.ko for n in named))
            return msg("it came before {steps}", steps=steps).pair
        return None
    return None


def lacking_before_closure(policy: Policy, state: ClosureState) -> list[str]:
    """What a closure needs first and `state` lacks: the acceptance (accepted), the review (consistent),
    each production test kind."""
    lacking = []
    if state.acceptance != "accepted":
        lacking.append("acceptance")
    if state.consistent is not True:
        lacking.append("review")
    lacking += [f"tests:{k}" for k in state.missing_tests(policy)]
    return lacking


def judge(
    policy: Policy,
    grade: Grade | None,
    release: Release,
    at: datetime,
    members: Mapping[Role, frozenset[str]] | None,
    requesters: Callable[[str], str | None] | None = None,
) -> ClosureState:
    """What of `release`'s closure counts at `at` for these role holders (see the module docstring)."""
    state = ClosureState(
        release.id, release.rfcs, release.change_type, release.environment, release.finished_at
    )
    refused: list[tuple[str, str]] = []
    tested: set[str] = set()
    acceptance, consistent, closed = "", None, False
    for entry in release.records:
        if entry.moment > at:
            break
        current = ClosureState(
            release.id,
            release.rfcs,
            release.change_type,
            release.environment,
            release.finished_at,
            frozenset(tested),
            acceptance,
            consistent,
            closed,
        )
        reason = refusal(policy, grade, members, requesters, release, entry, current)
        if reason is not None:
            refused.append(reason)
            continue
        payload = entry.payload
        if isinstance(payload, TestEvidence):
            tested.add(str(payload.kind))
        elif isinstance(payload, ReleaseAccepted):
            acceptance = payload.result
        elif isinstance(payload, ReleaseReviewed):
            consistent = payload.consistent
        elif isinstance(payload, ChangeClosed):
            closed = True
    return ClosureState(
        state.deployment,
        state.rfcs,
        state.change_type,
        state.environment,
        state.finished_at,
        frozenset(tested),
        acceptance,
        consistent,
        closed,
        tuple(dict.fromkeys(refused)),
    )


# -- the rules -----------------------------------------------------------------------------------------


def _at(moment: datetime, ctx: RuleContext) -> str:
    return moment.astimezone(ctx.now.tzinfo).isoformat(timespec="minutes")


def _overdue(facts: DeployFacts, ctx: RuleContext) -> Iterable[tuple[ClosureState, datetime]]:
    for state in facts.closures or ():
        if state.closed:
            continue
        deadline = state.finished_at + timedelta(days=ctx.policy.closure.deadline_days)
        if ctx.now > deadline:
            yield state, deadline


def _refused(state: ClosureState, ctx: RuleContext) -> str:
    if not state.refused:
        return ""
    en = "; ".join(r[0] for r in state.refused)
    ko = "; ".join(r[1] for r in state.refused)
    return tr(ctx.lang, " (records that do not count: {en})", en=en, ko=ko)


def _subject(state: ClosureState) -> str:
    return ", ".join(state.rfcs) or state.deployment


def acceptance_overdue(facts: DeployFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for state, deadline in _overdue(facts, ctx):
        if state.acceptance == "accepted":
            continue
        rejected = state.acceptance == "rejected"
        rfcs = _subject(state)
        yield ctx.finding(
            "release.acceptance-overdue",
            subject=state.deployment,
            message=(
                tr(
                    ctx.lang,
                    "deployment {deployment} of {rfcs} finished on {finished} and its requester rejected it "
                    "in the acceptance test by its requester (due by {due})",
                    deployment=state.deployment,
                    rfcs=rfcs,
                    finished=_at(state.finished_at, ctx),
                    due=_at(deadline, ctx),
                )
                if rejected
                else tr(
                    ctx.lang,
                    "deployment {deployment} of {rfcs} finished on {finished} and has no acceptance test by "
                    "its requester (due by {due})",
                    deployment=state.deployment,
                    rfcs=rfcs,
                    finished=_at(state.finished_at, ctx),
                    due=_at(deadline, ctx),
                )
            )
            + _refused(state, ctx),
            remediation=tr(
                ctx.lang,
                "the requester tests the release in production and records it: "
                "`gatekeeper release accept {deployment} --result accepted|rejected`",
                deployment=state.deployment,
            )
            + (tr(ctx.lang, "; a rejected release goes back to the change procedure") if rejected else ""),
        )


def production_tests_overdue(facts: DeployFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for state, deadline in _overdue(facts, ctx):
        missing = state.missing_tests(ctx.policy)
        if not missing:
            continue
        kinds = ", ".join(missing)
        rfcs = _subject(state)
        yield ctx.finding(
            "release.production-tests-overdue",
            subject=state.deployment,
            message=tr(
                ctx.lang,
                "deployment {deployment} of {rfcs} has no passing {kinds} test in production bound to it "
                "(due by {due})",
                deployment=state.deployment,
                rfcs=rfcs,
                kinds=kinds,
                due=_at(deadline, ctx),
            )
            + _refused(state, ctx),
            remediation=tr(
                ctx.lang,
                "run the tests in production and record them from the pipeline: `gatekeeper "
                "evidence add --kind {missing} --deployment {deployment} FILES..`",
                missing=missing[0],
                deployment=state.deployment,
            ),
        )


def closure_overdue(facts: DeployFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for state, deadline in _overdue(facts, ctx):
        rfcs = _subject(state)
        inconsistent = state.consistent is False
        step = "review" if state.consistent is not True else "close"
        yield ctx.finding(
            "release.closure-overdue",
            subject=state.deployment,
            message=tr(
                ctx.lang,
                "deployment {deployment} of {rfcs} finished on {finished} and the release and the change "
                "are not closed",
                deployment=state.deployment,
                rfcs=rfcs,
                finished=_at(state.finished_at, ctx),
            )
            + (
                tr(ctx.lang, " (the review found the plans and the result disagree)")
                if inconsistent
                else tr(ctx.lang, " (no consistency review)")
                if state.consistent is None
                else ""
            )
            + tr(ctx.lang, "; due by {due}", due=_at(deadline, ctx))
            + _refused(state, ctx),
            remediation=f"`gatekeeper release {step} {state.deployment}"
            + (" --consistent`" if step == "review" else "`")
            + tr(
                ctx.lang,
                ": the operator manager checks that the change plan, the release plan and the result "
                "agree, then the agency officer closes the release and the change",
            ),
        )


CLOSURE_RULES = {
    "release.acceptance-overdue": acceptance_overdue,
    "release.production-tests-overdue": production_tests_overdue,
    "release.closure-overdue": closure_overdue,
}
