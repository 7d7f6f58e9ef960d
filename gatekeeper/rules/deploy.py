"""Deployment rules: one deployment at a time (seed 003), debts of earlier changes (CHG-P1, CHG-P3), and the
prior notice to linked systems and agencies (REL-NOTICE).

The facts are summaries of ledger records (`gatekeeper.facts.history`), the same for the gate and the
audit; the rules only compare them with the pack's deadlines and the evaluation time.
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta

from gatekeeper.config.models import Impact, PirRequirement, Policy
from gatekeeper.domain import (
    ChangeType,
    DeploymentResult,
    Finding,
    Grade,
    RecordKind,
    Role,
    SystemRelease,
)
from gatekeeper.domain.incident import Incidents
from gatekeeper.domain.records import Pir
from gatekeeper.messages import in_language, msg, ptr, tr
from gatekeeper.rules import RuleContext, from_workstation, unproven
from gatekeeper.rules.closure import CLOSURE_RULES, ClosureState
from gatekeeper.rules.incident import (
    emergency_incident_unknown,
    problem_missing,
    report_missing,
    same_incident,
)


@dataclass(frozen=True, slots=True)
class PastDeployment:
    """A `deployment.started` record and, once written, its `deployment.finished`."""

    id: str
    rfcs: tuple[str, ...]
    change_type: ChangeType
    actor: str
    started_at: datetime
    environment: str = ""
    finished_at: datetime | None = None
    result: DeploymentResult | None = None
    incident: str = ""  # the incident an emergency deployment answered for

    @property
    def open(self) -> bool:
        return self.finished_at is None


@dataclass(frozen=True, slots=True)
class UnsignedDeployment:
    """A deployment record whose signature does not verify (forged, another repository's, another
    commit's, a token used twice, a key no longer trusted), or an unsigned result of a deployment whose
    start was signed, or any result of a deployment whose start no job is shown to have signed
    (`facts.history.History.deployment_counts`). Such a result counts for nothing where the pack requires
    attestation (`counted` False: a signed deployment stays open; an unverified one ends, `ends`, its result
    unverified); a start counts all the same (it only binds). Where the pack recommends attestation, each is
    worth a warning."""

    seq: int
    kind: str
    deployment: str  # the id of the deployment it starts or finishes
    moment: datetime
    reason: str  # why, in English
    counted: bool
    reason_ko: str = ""  # why, in Korean
    # A result that does not count, of a deployment whose start no job is shown to have signed either: the
    # deployment ends all the same (its lock is free, it owes what an ended deployment owes), its result
    # unverified (`facts.history.History.deployment_counts`).
    ends: bool = False

    @property
    def reasons(self) -> tuple[str, str]:
        """Why (en, ko)."""
        return self.reason, self.reason_ko or self.reason


@dataclass(frozen=True)
class DeployFacts:
    system: str
    rfcs: tuple[str, ...]  # the RFCs being deployed now
    deployments: tuple[PastDeployment, ...] = ()  # this system's earlier deployments
    cab_reviewed: frozenset[str] = frozenset()  # RFCs with an approved CAB step
    pir_done: frozenset[str] = frozenset()  # RFCs with a PIR record that counts (`pir_refusal`)
    # RFC -> why its latest PIR record does not count (en, ko), for the finding's message
    pir_refused: Mapping[str, tuple[str, str]] | None = None
    retro_approved: Mapping[str, frozenset[str]] | None = None  # RFC -> steps approved (latest decision)
    linked: Mapping[str, tuple[str, ...]] | None = None  # RFC being deployed -> linked systems/agencies
    noticed: frozenset[str] = frozenset()  # RFCs with a `notice` record that counts (`notice_refusal`)
    # RFC -> why its latest notice record that does not count does not (en, ko), for the finding's message
    notice_refused: Mapping[str, tuple[str, str]] | None = None
    # RFC -> the agencies its notices named (casefolded), and the agencies the RFC names (each must be
    # told: REL-NOTICE); None: not known, any notice covers all
    notified: Mapping[str, frozenset[str]] | None = None
    agencies: Mapping[str, tuple[str, ...]] | None = None
    # Incidents (rules.incident): the system's incidents, the incident each emergency RFC deployed now
    # names, and who holds each role (whose incident records count).
    incidents: Incidents | None = None
    emergency_incidents: Mapping[str, str] | None = None
    members: Mapping[Role, frozenset[str]] | None = None
    # RFC being deployed -> the systems its `systems` list names before this one (CHG-PLAN: deployed one
    # after another); None: not known
    sequence: Mapping[str, tuple[SystemRelease, ...]] | None = None
    # The closure of this environment's earlier successful deployments (rules.closure); None: not known
    closures: tuple[ClosureState, ...] | None = None
    # This system's deployment records whose signature does not verify (`deploy.unattested`)
    unsigned: tuple[UnsignedDeployment, ...] = ()


def _at(moment: datetime, ctx: RuleContext) -> str:
    return moment.astimezone(ctx.now.tzinfo).isoformat(timespec="minutes")


def concurrent(facts: DeployFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    stale_after = timedelta(hours=ctx.policy.deploy.lock_stale_hours)
    for deployment in facts.deployments:
        if not deployment.open or deployment.started_at > ctx.now:
            continue
        stale = ctx.now - deployment.started_at >= stale_after
        yield ctx.finding(
            "deploy.concurrent",
            subject=deployment.id,
            # A stale lock still holds (it is never broken automatically), but the message says it is stale.
            message=(
                tr(
                    ctx.lang,
                    "deployment {id} of {system} started by {actor} at {at} is still open (STALE: older "
                    "than lock_stale_hours, {hours:g} h)",
                    id=deployment.id,
                    system=facts.system,
                    actor=deployment.actor,
                    at=_at(deployment.started_at, ctx),
                    hours=ctx.policy.deploy.lock_stale_hours,
                )
                if stale
                else tr(
                    ctx.lang,
                    "deployment {id} of {system} started by {actor} at {at} is still open",
                    id=deployment.id,
                    system=facts.system,
                    actor=deployment.actor,
                    at=_at(deployment.started_at, ctx),
                )
            ),
            remediation=tr(
                ctx.lang,
                "wait for it to finish; a release manager who has checked it closes it with "
                "`gatekeeper deploy finish {id} --result aborted`",
                id=deployment.id,
            ),
        )


def pir_requirement(policy: Policy, grade: Grade, deployment: PastDeployment) -> PirRequirement | None:
    """The pack's PIR requirement for a deployment (the first entry matching its grade and change type),
    or None when it owes none: still open, aborted (nothing changed), or not a change the pack reviews."""
    if deployment.finished_at is None or deployment.result is DeploymentResult.ABORTED:
        return None
    return next((r for r in policy.deploy.pir if r.matches(grade, deployment.change_type)), None)


def owes_pir(requirement: PirRequirement, rfc: str, facts: DeployFacts) -> bool:
    """Whether one RFC of a deployment under `requirement` still lacks its PIR."""
    return rfc not in facts.pir_done and (not requirement.only_after_cab or rfc in facts.cab_reviewed)


def pir_refusal(
    policy: Policy,
    grade: Grade | None,
    members: Mapping[Role, frozenset[str]] | None,
    actor: str,
    actor_source: str,
    pir: Pir,
    attested: bool | None = None,
) -> tuple[str, str] | None:
    """Why a PIR record does not settle the PIR its RFCs owe (en, ko), or None when it does. `attested`:
    whether the CI platform's signature shows its actor wrote it (None: not checked by this reader).

    Seed 002 변경관리 4.3: the CAB reviews whether the change achieved its purpose, convened by the agency
    officer, who "runs the PIR" (담당자: 변경완료 후 PIR 수행); a purpose not achieved is followed up by
    an improvement (목적 미달성 시 … 개선 활동이 수행될 수 있도록 관리). A developer with write access who
    records a PIR of their own change, from a workstation or without the role, settles nothing."""
    refusal = _whose_word(
        policy, grade, members, actor, actor_source, attested, policy.deploy.pir_reviewers, "review"
    )
    if refusal is not None:
        return refusal
    if pir.result == "not-achieved" and not pir.follow_up.strip():
        return msg("its purpose was not achieved and it names no follow-up").pair
    return None


def notice_refusal(
    policy: Policy,
    grade: Grade | None,
    members: Mapping[Role, frozenset[str]] | None,
    actor: str,
    actor_source: str,
    attested: bool | None = None,
) -> tuple[str, str] | None:
    """Why a notice record does not tell the agencies it names (en, ko), or None when it does: REL-NOTICE,
    seed 002 연계관리 정책 3 — the agency officer announces the work plan to the related agencies; a notice
    the developer records tells nobody."""
    return _whose_word(
        policy, grade, members, actor, actor_source, attested, policy.deploy.notice_by, "notify"
    )


def _whose_word(
    policy: Policy,
    grade: Grade | None,
    members: Mapping[Role, frozenset[str]] | None,
    actor: str,
    actor_source: str,
    attested: bool | None,
    roles: tuple[Role, ...],
    duty: str,
) -> tuple[str, str] | None:
    """Why a record of a person's word (a PIR, a notice, a baseline) does not count (en, ko): written on a
    workstation where the grade needs the pipeline, not shown by the platform's signature to be its actor's
    where the pack requires attestation, or by someone holding none of `roles` (when the holders are
    known)."""
    from gatekeeper.rules.approval import login_key

    if from_workstation(policy, grade, actor_source):
        return msg("it was recorded on a workstation by {actor}, not by the pipeline", actor=actor).pair
    if grade is not None and unproven(attested, policy.approvals.attestation_level(grade)):
        return msg(
            "it carries no verified signature of the CI platform, so nothing shows {actor} wrote it",
            actor=actor,
        ).pair
    if (
        roles
        and members is not None
        and not any(login_key(actor) in members.get(role, frozenset()) for role in roles)
    ):
        names = ", ".join(str(r) for r in roles)
        said = {
            "review": msg(
                "it was recorded by {actor}, who holds none of the roles that review ({names})",
                actor=actor,
                names=names,
            ),
            "notify": msg(
                "it was recorded by {actor}, who holds none of the roles that notify ({names})",
                actor=actor,
                names=names,
            ),
            "set the baseline": msg(
                "it was recorded by {actor}, who holds none of the roles that set the baseline ({names})",
                actor=actor,
                names=names,
            ),
        }[duty]
        return said.pair
    return None


def pir_overdue(facts: DeployFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for deployment in facts.deployments:
        requirement = pir_requirement(ctx.policy, ctx.grade, deployment)
        if requirement is None or deployment.finished_at is None:
            continue
        deadline = deployment.finished_at + timedelta(days=requirement.deadline_days)
        if ctx.now <= deadline:
            continue
        for rfc in deployment.rfcs:
            if owes_pir(requirement, rfc, facts):
                refused = (facts.pir_refused or {}).get(rfc)
                yield ctx.finding(
                    "deploy.pir-overdue",
                    subject=rfc,
                    message=tr(
                        ctx.lang,
                        "RFC {rfc} was deployed on {finished} after CAB review and its post-implementation "
                        "review was due by {due}",
                        rfc=rfc,
                        finished=_at(deployment.finished_at, ctx),
                        due=_at(deadline, ctx),
                    )
                    + (
                        tr(
                            ctx.lang,
                            " (the PIR recorded does not count: {reason})",
                            reason=in_language(ctx.lang, *refused),
                        )
                        if refused
                        else ""
                    ),
                    remediation=tr(
                        ctx.lang,
                        "run the PIR and record it: `gatekeeper pir {rfc} --result achieved|not-achieved`",
                        rfc=rfc,
                    ),
                )


def retro_review_overdue(facts: DeployFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    # An overdue after-the-fact review holds back every later change of the system — another emergency
    # too, unless it fixes the same incident (CHG-P1; the pack sets the severity per grade and type).
    approved = facts.retro_approved or {}
    for deployment in facts.deployments:
        if deployment.change_type is not ChangeType.EMERGENCY:
            continue
        if same_incident(facts, ctx, deployment.incident):
            continue
        for review in ctx.policy.approvals.retro_review:
            if not review.matches(ctx.grade, ChangeType.EMERGENCY):
                continue
            deadline = deployment.started_at + timedelta(hours=review.deadline_hours)
            if ctx.now <= deadline:
                break
            for rfc in deployment.rfcs:
                lacking = [str(s) for s in review.steps if str(s) not in approved.get(rfc, frozenset())]
                if lacking:
                    yield ctx.finding(
                        "deploy.retro-review-overdue",
                        subject=rfc,
                        message=tr(
                            ctx.lang,
                            "emergency change {rfc} deployed at {at_deployment_started_at_ctx} still lacks "
                            "its after-the-fact {lacking} (due by {at_deadline_ctx})",
                            rfc=rfc,
                            at_deployment_started_at_ctx=_at(deployment.started_at, ctx),
                            lacking=", ".join(lacking),
                            at_deadline_ctx=_at(deadline, ctx),
                        ),
                        remediation=tr(
                            ctx.lang,
                            "record the after-the-fact approval: `gatekeeper approve {rfc} --step "
                            "{lacking} --decision approve`",
                            rfc=rfc,
                            lacking=lacking[0],
                        ),
                    )
            break


def linked_parties(impact: Impact, own_system: str) -> tuple[str, ...]:
    """The linked systems, agencies and integrations an RFC's impact names, each once; the deployed system
    itself is no linked system (REL-NOTICE)."""
    systems = [s for s in impact.systems if s != own_system]
    return tuple(dict.fromkeys([*systems, *impact.agencies, *impact.integrations]))


def unnotified(rfc: str, linked: tuple[str, ...], facts: DeployFacts) -> tuple[str, ...]:
    """What `rfc`'s notices still lack: every linked party when none was recorded, else the agencies the RFC
    names that no notice named (REL-NOTICE: the release plan is announced to the related agencies)."""
    if rfc not in facts.noticed:
        return linked
    if facts.notified is None or facts.agencies is None:
        return ()
    told = facts.notified.get(rfc, frozenset())
    return tuple(a for a in facts.agencies.get(rfc, ()) if a.strip().casefold() not in told)


def notice_missing(facts: DeployFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for rfc, linked in sorted((facts.linked or {}).items()):
        missing = unnotified(rfc, linked, facts)
        if not missing:
            continue
        names = ", ".join(missing)
        refused = (facts.notice_refused or {}).get(rfc)
        why = (f" ({refused[0]})", f" ({refused[1]})") if refused else ("", "")
        if rfc in facts.noticed:  # a notice was recorded, but not to every agency the RFC names
            message = msg(
                "RFC {rfc} names the related agencies {names}, and no notice told them{why}",
                rfc=rfc,
                names=names,
                why=why[0],
                why_1=why[1],
            ).pair
            to = " ".join(shlex.quote(m) for m in missing)
            remediation = msg(
                "announce the release to them too, then record it: `gatekeeper notice {rfc} --to {to}`",
                rfc=rfc,
                to=to,
            ).pair
        else:
            message = msg(
                "RFC {rfc} affects linked systems or agencies ({names}) and no prior notice that "
                "counts is recorded{why}",
                rfc=rfc,
                names=names,
                why=why[0],
                why_1=why[1],
            ).pair
            remediation = msg(
                "announce the release to the related agencies, then record it: `gatekeeper notice {rfc} ...`",
                rfc=rfc,
            ).pair
        yield ctx.finding(
            "integration.notice-missing",
            subject=rfc,
            message=in_language(ctx.lang, *message),
            remediation=in_language(ctx.lang, *remediation),
        )


def deployment_attestation(policy: Policy | None, grade: Grade | None) -> str:
    """Whether a system's deployment records must carry the signature of the CI job that deploys
    ("required": one that does not verify counts for nothing), should ("recommended": it counts, with
    `deploy.unattested`) or need not ("off"): as the pack's `approvals.attestation` says for the grade —
    the deploying job is the one that records the approvals' outcome."""
    if policy is None or grade is None:
        return "off"
    return policy.approvals.attestation_level(grade)


def earlier_systems(rfc_systems: tuple[str, ...], system: str) -> tuple[str, ...]:
    """The systems an RFC lists before `system`: the ones deployed first (CHG-PLAN)."""
    return rfc_systems[: rfc_systems.index(system)] if system in rfc_systems else ()


def sequence(facts: DeployFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    for rfc, earlier in sorted((facts.sequence or {}).items()):
        waiting = next((e for e in earlier if e.state != "success"), None)
        if waiting is None:
            continue
        order = " → ".join([*(e.system for e in earlier), facts.system])
        if waiting.state == "unverified":
            yield ctx.finding(
                "deploy.sequence",
                subject=rfc,
                message=tr(
                    ctx.lang,
                    "RFC {rfc} is deployed to its systems in order ({order}); whether {system} "
                    "finished its deployment cannot be verified: the `systems:` registry names no "
                    "`repository` for {system}, whose CI jobs must have signed its deployment records",
                    rfc=rfc,
                    order=order,
                    system=waiting.system,
                ),
                remediation=tr(
                    ctx.lang,
                    "add `repository: OWNER/NAME` (GitHub) or `repository: GROUP/PROJECT` (GitLab) "
                    "to the entry of {system} under `systems:` in the configuration",
                    system=waiting.system,
                ),
            )
            continue
        state = {
            "none": msg("{system} has not been deployed", system=waiting.system),
            "open": msg("{system} is still being deployed", system=waiting.system),
            "failure": msg("{system} ended failure", system=waiting.system),
            "rolled-back": msg("{system} ended rolled-back", system=waiting.system),
        }.get(waiting.state, msg("{system} ended {state}", system=waiting.system, state=waiting.state))
        ignored = (
            ptr(
                ctx.lang,
                "deploy.sequence: a record ignored",
                "; {reason}",
                reason=in_language(ctx.lang, waiting.ignored, waiting.ignored_ko or waiting.ignored),
            )
            if waiting.ignored
            else ""
        )
        yield ctx.finding(
            "deploy.sequence",
            subject=rfc,
            message=tr(
                ctx.lang,
                "RFC {rfc} is deployed to its systems in order ({order}); {state}",
                rfc=rfc,
                order=order,
                state=state,
            )
            + (
                tr(ctx.lang, " (deployment {deployment})", deployment=waiting.deployment)
                if waiting.deployment
                else ""
            )
            + ignored,
            remediation=tr(
                ctx.lang,
                "deploy {system} first and finish it with `gatekeeper deploy finish ... --result "
                "success`; if the order must change, change the RFC's `systems` list (a new "
                "approval)",
                system=waiting.system,
            ),
        )


def unattested(facts: DeployFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    """CHG-P2: a deployment's start and result are recorded by the job that deploys, which the CI
    platform's signature shows. Where the pack requires it, a result record no such job signed closes
    nothing: the deployment it names stays open (`deploy.concurrent` holds), and this says why. Where the
    pack recommends it, an unsigned record of a deployment the rules read counts, with a warning."""
    running = {d.id for d in facts.deployments if d.open}
    read = {d.id for d in facts.deployments}
    recommended = deployment_attestation(ctx.policy, ctx.grade) == "recommended"
    for record in facts.unsigned:
        if record.counted and recommended and record.deployment in read:
            said = msg(
                "{kind} record {seq} of deployment {deployment} counts, but no CI job of this repository is "
                "shown to have written it: {reason}",
                kind=record.kind,
                seq=record.seq,
                deployment=record.deployment,
                reason=in_language(ctx.lang, *record.reasons),
            )
        elif (
            not record.counted
            and record.kind == RecordKind.DEPLOYMENT_FINISHED
            and record.deployment in running
        ):
            said = msg(
                "the result in {kind} record {seq} was ignored, so deployment {deployment} is still open: no "
                "CI job of this repository is shown to have written it ({reason})",
                kind=record.kind,
                seq=record.seq,
                deployment=record.deployment,
                reason=in_language(ctx.lang, *record.reasons),
            )
        else:
            continue
        yield ctx.finding(
            "deploy.unattested",
            subject=f"ledger record {record.seq}",
            message=said.said(ctx.lang),
            remediation=tr(
                ctx.lang,
                "find out who wrote that record; the deploying job records the result with "
                "`gatekeeper deploy finish` and an OIDC token (GitHub: `permissions: id-token: "
                "write`; GitLab: `id_tokens: {GATEKEEPER_ID_TOKEN: {aud: gatekeeper}}`)",
            ),
        )


DeployRule = Callable[[DeployFacts, RuleContext], Iterable[Finding | None]]

DEPLOY_RULES: dict[str, DeployRule] = {
    "deploy.concurrent": concurrent,
    "deploy.sequence": sequence,
    "deploy.unattested": unattested,
    "deploy.pir-overdue": pir_overdue,
    "deploy.retro-review-overdue": retro_review_overdue,
    "integration.notice-missing": notice_missing,
    "emergency.incident-unknown": emergency_incident_unknown,
    "incident.report-missing": report_missing,
    "incident.problem-missing": problem_missing,
    **CLOSURE_RULES,
}

# The ledger kinds the deploy rules are built from.
DEPLOY_KINDS = (
    RecordKind.DEPLOYMENT_STARTED,
    RecordKind.DEPLOYMENT_FINISHED,
    RecordKind.PIR,
    RecordKind.NOTICE,
    RecordKind.INCIDENT_OPENED,
    RecordKind.INCIDENT_UPDATED,
    RecordKind.INCIDENT_CLOSED,
    RecordKind.PROBLEM_OPENED,
    RecordKind.RELEASE_ACCEPTED,
    RecordKind.RELEASE_REVIEWED,
    RecordKind.CHANGE_CLOSED,
)


def check_deploy(facts: DeployFacts, ctx: RuleContext) -> list[Finding]:
    return [f for rule in DEPLOY_RULES.values() for f in rule(facts, ctx) if f is not None]
