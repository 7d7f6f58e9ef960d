"""One history of a system's ledger: typed records folded in seq order into what every check reads.

The gate feeds it the records its indexed look-ups found (by RFC, by kind and time), the audit and the
KPIs every record of the system, the deployment lock the deployment records — and all of them read the
same answers from it:

- deployments, each `deployment.started` paired with the `deployment.finished` that names it (one way:
  `DeploymentFinished.started`);
- per RFC and approval step, the latest decision the pack counts and the latest it does not (enough for
  every approval rule: only the latest counted decision of a step counts, and an ignored workstation
  decision is worth a note);
- test evidence per commit, and per kind the latest evidence of other commits;
- notices and PIRs per RFC, failed deployments waiting for their incident;
- incidents (`domain.incident.Incidents`): opened, updated, closed, with the problems registered for them;
  an incident a failed deployment opened is resolved, at the latest, by the environment's next successful
  deployment (service restored) — the one resolution time every reader (gate, audit, KPIs, forms) uses.

`facts_at` turns that state into the rules' facts at one moment (`ApprovalFacts`, `DeployFacts`,
`EvidenceFacts`): the gate asks at the time it evaluates, the audit at each deployment's start, with the
gate's look-back horizons, so both run the rules over the same facts. Memory stays bounded on a long
stream: a deployment that can owe nothing any more (closed, and its PIR done or not owed) is let go, and
evidence older than the horizon is dropped.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from gatekeeper.config.models import Policy
from gatekeeper.domain import ChangeType, DeploymentResult, Grade, RecordKind, Role, Step
from gatekeeper.domain.closure import CLOSURE_PAYLOADS, Closures, Release
from gatekeeper.domain.incident import Incidents
from gatekeeper.domain.records import (
    APPROVE,
    Approval,
    ChangeClosed,
    Delegation,
    DeploymentFinished,
    DeploymentStarted,
    Entry,
    IncidentClosed,
    IncidentOpened,
    IncidentUpdated,
    Notice,
    Pir,
    ProblemOpened,
    TestEvidence,
)
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.messages import Message, Said, msg
from gatekeeper.rules import RuleContext
from gatekeeper.rules.approval import ApprovalDecision, ApprovalFacts, approved_steps, counts
from gatekeeper.rules.closure import ClosureState, judge
from gatekeeper.rules.delegation import Grant, Revocation
from gatekeeper.rules.deploy import (
    DeployFacts,
    PastDeployment,
    UnsignedDeployment,
    deployment_attestation,
    linked_parties,
    notice_refusal,
    pir_refusal,
    pir_requirement,
)
from gatekeeper.rules.tests import Evidence, EvidenceFacts, same_commit

# Debts (PIR, retro review) and open deployments are looked for among the deployments of the last year;
# test evidence among the records of the last 90 days. Older debts are the audit's business.
DEBT_HORIZON = timedelta(days=366)
# Unclosed releases past their deadline the gate names at most (the oldest): one blocks as well as many.
CLOSURE_REPORTED = 20
EVIDENCE_HORIZON = timedelta(days=90)


@dataclass(slots=True)
class Deployment:
    """A deployment as the history knows it: its start and, once recorded, its finish."""

    id: str
    seq: int
    rfcs: tuple[str, ...]
    change_type: ChangeType
    actor: str
    started_at: datetime
    environment: str
    commit: str
    started: DeploymentStarted
    finished_at: datetime | None = None
    finished_seq: int = 0
    finish: DeploymentFinished | None = None
    # False: ended by a result that does not count (`History.deployment_counts`: where the pack requires
    # signatures, of a deployment no job is shown to have started); its result is unknown.
    verified: bool = True
    # The two views `past` gives (before and after the finish), built once: a deployment still owing is
    # read at every later check, so each view is made the first time it is asked for.
    _running: PastDeployment | None = None
    _done: PastDeployment | None = None

    @property
    def result(self) -> DeploymentResult | None:
        """The result that counts: None while open, and for a deployment ended by an unverified result (it
        is neither a success nor a failure nor aborted: it owes what any ended deployment owes)."""
        return self.finish.result if self.finish is not None and self.verified else None

    def past(self, at: datetime) -> PastDeployment:
        """The rules' view at `at`: a finish recorded after `at` had not happened yet."""
        if self.finished_at is not None and self.finished_at <= at:
            done = self._done
            if done is None or done.finished_at != self.finished_at or done.result is not self.result:
                done = self._done = self.view(at)
            return done
        running = self._running
        if running is None:
            running = self._running = self.view(at)
        return running

    def view(self, at: datetime) -> PastDeployment:
        """`past`, built anew."""
        done = self.finished_at is not None and self.finished_at <= at
        return PastDeployment(
            id=self.id,
            rfcs=self.rfcs,
            change_type=self.change_type,
            actor=self.actor,
            started_at=self.started_at,
            environment=self.environment,
            finished_at=self.finished_at if done else None,
            result=self.result if done else None,
            incident=self.started.incident,
        )


@dataclass(slots=True)
class StepDecisions:
    """What one step of one RFC needs kept for every reading of the rules: the latest approval the pack
    counts, the rejections since (whether a rejection counts depends on who holds the step's role, which
    the reader knows: the gate at the time, the audit from what each deployment recorded), and every
    decision the pack never counts (a workstation's, an unattested one where attestation is required),
    which the rules mention. Older counted decisions are overridden whoever the role holders are."""

    approved: ApprovalDecision | None = None
    rejections: list[ApprovalDecision] = field(default_factory=list)
    ignored: list[ApprovalDecision] = field(default_factory=list)
    # Where the pack gives the step a quorum (`StepDefinition.quorum`): every counted decision, for the
    # quorum's tally (`rules.approval.quorum_tally`).
    votes: list[ApprovalDecision] = field(default_factory=list)


@dataclass(slots=True)
class _EvidenceLog:
    """Test evidence by the commit it names and, per kind, the latest two of different commits.

    Evidence names its commit in full (`evidence add` and `deploy start` write the CI's head); the few that
    abbreviate it are kept apart and matched as `same_commit` matches."""

    by_commit: OrderedDict[str, list[Evidence]] = field(default_factory=OrderedDict)
    abbreviated: list[Evidence] = field(default_factory=list)
    latest: dict[str, list[Evidence]] = field(default_factory=dict)  # kind -> [latest, latest of another]
    moments: dict[int, datetime] = field(default_factory=dict)  # seq -> when recorded

    def add(self, item: Evidence, moment: datetime) -> None:
        key = item.commit.strip().lower()
        if len(key) < 40:
            self.abbreviated.append(item)
        else:
            found = self.by_commit.get(key)
            if found is None:
                found = self.by_commit[key] = []
            else:
                self.by_commit.move_to_end(key)
            found.append(item)
        self.moments[item.seq] = moment
        kind = str(item.kind)
        recent = self.latest.get(kind)
        if not recent:
            self.latest[kind] = [item]
        elif same_commit(recent[0].commit, item.commit):
            recent[0] = item
        else:
            self.latest[kind] = [item, recent[0]]

    def prune(self, before: datetime) -> None:
        """Forget commits whose evidence is all older than `before` (they are past every horizon)."""
        while self.by_commit:
            key, items = next(iter(self.by_commit.items()))
            if self.moments[items[-1].seq] >= before:
                break
            for item in items:
                self.moments.pop(item.seq, None)
            del self.by_commit[key]
        if self.abbreviated and self.moments.get(self.abbreviated[0].seq, before) < before:
            kept = [e for e in self.abbreviated if self.moments[e.seq] >= before]
            for item in self.abbreviated:
                if self.moments[item.seq] < before:
                    self.moments.pop(item.seq, None)
            self.abbreviated = kept

    def _for(self, head: str) -> list[Evidence]:
        key = head.strip().lower()
        if len(key) >= 40:
            found = list(self.by_commit.get(key, ()))
        else:  # an abbreviated head: every commit it may name
            found = [e for items in self.by_commit.values() for e in items if same_commit(e.commit, key)]
        return found + [e for e in self.abbreviated if same_commit(e.commit, head)]

    def at(self, head: str, at: datetime, horizon: timedelta) -> tuple[Evidence, ...]:
        """Evidence for `head` recorded in the horizon before `at`, and per kind the latest evidence of
        another commit: every item the test rules can tell apart."""
        since = at - horizon

        def inside(item: Evidence) -> bool:
            moment = self.moments.get(item.seq)
            return moment is not None and since <= moment <= at

        own = [e for e in self._for(head) if inside(e)]
        others = []
        for recent in self.latest.values():
            other = next((e for e in recent if not same_commit(e.commit, head)), None)
            if other is not None and inside(other):
                others.append(other)
        return tuple(sorted([*own, *others], key=lambda e: e.seq))


def evidence_of(entry: Entry[TestEvidence], signed: bool | None = None) -> Evidence:
    """A `test.evidence` record as the test rules read it (`signed`: whether its signature verified)."""
    payload, counts_ = entry.payload, entry.payload.counts
    return Evidence(
        payload.kind,
        f"ledger record {entry.seq}",
        payload.commit,
        counts_.tests,
        counts_.passed,
        counts_.failed,
        counts_.errors,
        counts_.skipped,
        payload.digest,
        entry.seq,
        signed,
    )


@dataclass
class History:
    """One system's ledger, folded (see the module docstring). Feed it records in seq order with `add`."""

    policy: Policy | None  # None: count every decision, owe nothing (what the deployment lock reads)
    grade: Grade | None
    system: str = ""
    decisions: dict[str, dict[str, StepDecisions]] = field(default_factory=dict)
    open: dict[str, Deployment] = field(default_factory=dict)  # started, not finished (by deployment id)
    owing: dict[str, Deployment] = field(default_factory=dict)  # finished, may still owe a PIR or review
    pir_done: set[str] = field(default_factory=set)  # RFCs whose PIR counts for `members`
    # Per RFC, the latest PIR record of each kind whether it counts can tell apart (`_pir_kind`), in the
    # order of their latest: what `pir_state` reads, without keeping every PIR of a long ledger.
    pirs: dict[str, dict[tuple[str, str, str, bool, bool | None], Entry[Pir]]] = field(default_factory=dict)
    notices: dict[str, list[Entry[Notice]]] = field(default_factory=dict)
    failed: dict[str, Deployment] = field(default_factory=dict)  # failed or rolled back, no incident yet
    failed_ids: set[str] = field(default_factory=set)  # every failed or rolled-back deployment
    evidence: _EvidenceLog = field(default_factory=_EvidenceLog)
    incidents: Incidents = field(default_factory=Incidents)
    _unrestored: dict[str, list[str]] = field(default_factory=dict)  # environment -> failed deployment ids
    _context: RuleContext | None = None
    _owing_by_rfc: dict[str, set[str]] = field(default_factory=dict)
    # PIR and notice seq -> whether its signature verified (absent: not checked by this reader)
    _signed: dict[int, bool] = field(default_factory=dict)
    # The deployments still open or owing, per environment, by seq: what `facts_at` reads of one
    # environment without sorting every other one.
    _by_environment: dict[str, dict[int, Deployment]] = field(default_factory=dict)
    # Per RFC, the last answer of `approved_steps` and of `pir_state` and the role holders it was for; an
    # approval (resp. a PIR) of the RFC lets it go. A deployment that owes for months is read at every
    # check after it, and its RFC's decisions seldom change in between.
    _steps_cache: dict[str, tuple[Any, frozenset[str]]] = field(default_factory=dict)
    _pir_cache: dict[str, tuple[Any, tuple[str, str] | None]] = field(default_factory=dict)
    cache: bool = True  # False: every answer is recomputed (what the property test compares against)
    # Whether an approval record's attestation, or a test record's signature, verifies
    # (`adapters.oidc.Attestor`); None: not checked here.
    attest: Callable[[Entry[Any]], bool] | None = None
    # Why a record `attest` did not count does not, where its verifier can say (en, ko): a key the issuer
    # no longer publishes (`adapters.oidc.refusal_of`); None: not said.
    explain: Callable[[Entry[Any]], tuple[str, str] | None] | None = None
    # The canonical name of a recorded environment (declared aliases, case, whitespace); None: as recorded.
    environment_name: Callable[[str], str] | None = None
    # Who holds each role, for whose PIRs count (`rules.deploy.pir_refusal`); None: not known (roles not
    # checked, as for the deployment lock).
    members: Mapping[Role, frozenset[str]] | None = None
    # Closing the release (domain.closure): the successful deployments and the records about them, and the
    # requester of an RFC where the reader knows it (who may accept a release); None: not known.
    closures: Closures = field(default_factory=Closures)
    requesters: Callable[[str], str | None] | None = None
    # The kind of a recorded environment (`Environments.kind`): only production releases owe a closure;
    # None: every environment's do.
    environment_kind: Callable[[str], str] | None = None
    # The `delegation` records (`rules.delegation`), in ledger order: who may act as whose deputy.
    delegations: list[Grant | Revocation] = field(default_factory=list)
    # Whether deployment records must carry a verified signature: "required", "recommended" or "off"; None:
    # the pack's `approvals.attestation` for the grade ("off" without a pack). Read only with `attest`.
    deployment_attestation: str | None = None
    # Deployment records whose signature does not verify, or unsigned results of signed deployments, by
    # seq (`UnsignedDeployment`); and the seqs of the unsigned ones counted by their content as before
    # (written on a workstation, by a job with no ID token, or by an earlier version).
    unsigned: dict[int, UnsignedDeployment] = field(default_factory=dict)
    legacy: list[int] = field(default_factory=list)
    _signed_starts: set[str] = field(default_factory=set)  # ids of open deployments whose start verified
    # Where the pack requires signatures: ids of open deployments whose start did not verify, and why (en,
    # ko), for the results that name them.
    _unverified_starts: dict[str, tuple[str, str]] = field(default_factory=dict)

    @property
    def context(self) -> RuleContext:
        """The pack and grade the history counts approvals under (`rules.approval.counts`)."""
        if self._context is None:
            assert self.policy is not None and self.grade is not None
            self._context = RuleContext(self.policy, self.grade, ChangeType.NORMAL, datetime.min)
        return self._context

    # -- folding ----------------------------------------------------------------------------------------

    def add(self, entry: Entry[Any]) -> None:
        payload = entry.payload
        if isinstance(payload, Approval):
            attested = None if self.attest is None else self.attest(entry)
            self.approval(
                entry.seq,
                entry.id,
                entry.rfcs,
                payload,
                entry.actor,
                entry.actor_source,
                entry.moment,
                attested,
                refusal=self.explain(entry) if attested is False and self.explain is not None else None,
            )
        elif isinstance(payload, TestEvidence):
            signed = None if self.attest is None else self.attest(entry)
            self.add_evidence(evidence_of(entry, signed), entry.moment)
        elif isinstance(payload, DeploymentStarted):
            if self.deployment_counts(entry):
                self.started(entry, payload)
        elif isinstance(payload, DeploymentFinished):
            if self.deployment_counts(entry):
                self.finished(entry, payload)
            elif self.ends_unverified(entry):
                self.finished(entry, payload, verified=False)
        elif isinstance(payload, Pir):
            self.pir(entry)
        elif isinstance(payload, Notice):
            if self.attest is not None:
                self._signed[entry.seq] = self.attest(entry)
            for rfc in entry.rfcs:
                self.notices.setdefault(rfc, []).append(entry)
        elif isinstance(payload, IncidentOpened):
            self.opened_incident(entry)
        elif isinstance(payload, IncidentUpdated | IncidentClosed | ProblemOpened):
            self.incidents.add(entry)
        elif isinstance(payload, Delegation):
            self.delegation(entry)
        if isinstance(payload, CLOSURE_PAYLOADS) or (
            isinstance(payload, TestEvidence) and payload.deployment
        ):
            self.closure(entry)

    def feed(self, entries: Iterable[Entry[Any]]) -> History:
        for entry in entries:
            self.add(entry)
        return self

    def approval(
        self,
        seq: int,
        record_id: str,
        rfcs: tuple[str, ...],
        approval: Approval,
        actor: str,
        actor_source: str,
        moment: datetime | str,
        attested: bool | None = None,
        *,
        refusal: tuple[str, str] | None = None,
    ) -> None:
        at = moment if isinstance(moment, str) else moment.isoformat()
        for rfc in rfcs:
            decision = ApprovalDecision(
                seq,
                record_id,
                rfc,
                approval.step,
                approval.decision,
                actor,
                actor_source,
                approval.digest,
                at,
                attested=attested,
                refusal=refusal,
                commit=approval.commit,
                artifacts=approval.artifacts,
            )
            self._steps_cache.pop(rfc, None)
            steps = self.decisions.get(rfc)
            if steps is None:
                steps = self.decisions[rfc] = {}
            slot = steps.get(approval.step)
            if slot is None:
                slot = steps[approval.step] = StepDecisions()
            if self.policy is not None and not counts(decision, self.context):
                slot.ignored.append(decision)
            elif self._quorum(approval.step):
                slot.votes.append(decision)  # every counted decision, for the quorum's tally
            elif decision.decision == APPROVE:
                slot.approved = decision
                slot.rejections.clear()
            else:
                slot.rejections.append(decision)

    def delegation(self, entry: Entry[Delegation]) -> None:
        """Fold a `delegation` record: a grant (with whether its signature verified) or a revocation."""
        payload = entry.payload
        if payload.revokes:
            self.delegations.append(Revocation(entry.seq, entry.id, entry.actor, payload.revokes))
        elif payload.start is not None and payload.end is not None:
            attested = None if self.attest is None else self.attest(entry)
            self.delegations.append(
                Grant(
                    entry.seq,
                    entry.id,
                    entry.actor,
                    payload.to,
                    payload.steps,
                    payload.start,
                    payload.end,
                    entry.actor_source,
                    attested,
                )
            )

    def _quorum(self, step: str) -> bool:
        steps = self.policy.approvals.steps if self.policy is not None else {}
        return step in steps and steps[Step(step)].quorum > 1

    def add_evidence(self, item: Evidence, moment: datetime) -> None:
        self.evidence.add(item, moment)

    @property
    def deployment_level(self) -> str:
        """`deployment_attestation`, resolved."""
        if self.deployment_attestation is not None:
            return self.deployment_attestation
        return deployment_attestation(self.policy, self.grade)

    def deployment_counts(self, entry: Entry[Any]) -> bool:
        """Whether a deployment record counts — the one place this is decided for the gate, the lock, the
        audit, the KPIs and the baseline's deployed artefacts. A start always counts: it only binds (it holds
        the lock and owes what a deployment owes), so a forged one can only make things stricter. A result
        counts where its deployment's start and the result itself carry the signature of a CI job of the
        system's repository (on the commit the deployment names). Else it is noted in `unsigned` and:

        - where the pack merely recommends the signature, it counts by its content as before (an unsigned
          one — a workstation's, a job's without an ID token, an earlier version's — is noted in `legacy`);
        - where the pack requires it, it counts for nothing as a result. The result of a signed deployment
          does not even end it (it stays open until a signed result closes it: nobody releases another's
          deployment by hand). The result of a deployment no job is shown to have started (unsigned, or its
          signature refused: another repository, a key the issuer no longer publishes) ends it (`ends`:
          the lock is free again — its start was not shown to be real either, and ledgers written before
          signatures would otherwise hold every lock for good) but is neither a success nor a failure nor
          an abort: it restores no service, explains no artefact, counts in no success rate, and the
          deployment owes its PIR whatever the record says (`Deployment.verified`)."""
        if self.attest is None or self.deployment_level == "off":
            return True
        payload = entry.payload
        started = payload.started if isinstance(payload, DeploymentFinished) else entry.id
        required = self.deployment_level == "required"
        if isinstance(payload, DeploymentFinished) and started in self._signed_starts:
            if payload.attestation is not None and self.attest(entry):
                self._signed_starts.discard(started)
                return True
            if not required:
                self._signed_starts.discard(started)
            reason = (
                self._refused(entry)
                if payload.attestation is not None
                else msg(
                    "the record carries no signature of a CI job, and the deployment it closes was started "
                    "by a signed one"
                ).pair
            )
            self.unsigned[entry.seq] = UnsignedDeployment(
                entry.seq, entry.kind, started, entry.moment, reason[0], not required, reason[1]
            )
            return not required
        if isinstance(payload, DeploymentStarted):
            # A second start under a signed one's id (a copy) leaves it signed: only a signed result ends it.
            self._unverified_starts.pop(started, None)
            if payload.attestation is None:
                self.legacy.append(entry.seq)
                if required:
                    self._unverified_starts[started] = msg(
                        "its start (record {seq}) carries no signature of a CI job", seq=entry.seq
                    ).pair
            elif self.attest(entry):
                self._signed_starts.add(started)
            else:
                en, ko = self._refused(entry)
                self.unsigned[entry.seq] = UnsignedDeployment(
                    entry.seq, entry.kind, started, entry.moment, en, True, ko
                )
                if required:
                    self._unverified_starts[started] = msg(
                        "the signature of its start (record {seq}) does not count: {reason}",
                        seq=entry.seq,
                        reason=Said(en, ko),
                    ).pair
            return True
        if not required:  # read by its content, as before
            if payload.attestation is None:
                self.legacy.append(entry.seq)
            elif not self.attest(entry):
                en, ko = self._refused(entry)
                self.unsigned[entry.seq] = UnsignedDeployment(
                    entry.seq, entry.kind, started, entry.moment, en, True, ko
                )
            return True
        # Required: a result of a deployment no job is shown to have started counts for nothing as a result,
        # signed or not (a developer who forged the start may run a job of their own to sign the result).
        start = self._unverified_starts.pop(started, None)
        own: Message | str = ""
        if payload.attestation is None:
            own = msg("the record carries no signature of a CI job, and ")
        elif not self.attest(entry):
            own = msg("its signature does not count ({reason}), and ", reason=Said(*self._refused(entry)))
        said = msg(
            "{own}no CI job of this repository is shown to have started deployment {started}: {start} — the "
            "deployment is taken as ended, its result unverified (not a success, failure or abort)",
            own=own,
            started=started,
            start=Said(*start)
            if start is not None
            else msg("no start of this deployment is recorded before it"),
        )
        self.unsigned[entry.seq] = UnsignedDeployment(
            entry.seq, entry.kind, started, entry.moment, said.en, False, said.ko, ends=True
        )
        return False

    def ends_unverified(self, entry: Entry[Any]) -> bool:
        """Whether a result that does not count ends its deployment all the same, its result unverified
        (`deployment_counts`, which decided it)."""
        found = self.unsigned.get(entry.seq)
        return found is not None and found.ends

    def _refused(self, entry: Entry[Any]) -> tuple[str, str]:
        """Why `attest` refused the record's signature (en, ko)."""
        said = getattr(self.attest, "refused", {}).get(entry.seq)
        if isinstance(said, tuple) and len(said) == 2:
            return str(said[0]), str(said[1])
        return msg("its signature does not verify").pair

    def started(self, entry: Entry[Any], payload: DeploymentStarted) -> Deployment:
        deployment = Deployment(
            entry.id,
            entry.seq,
            entry.rfcs,
            payload.change_type,
            entry.actor,
            entry.moment,
            payload.environment
            if self.environment_name is None
            else self.environment_name(payload.environment),
            payload.commit,
            payload,
        )
        replaced = self.open.get(entry.id)
        if replaced is not None:
            self._unindex(replaced)
        self.open[entry.id] = deployment
        self._by_environment.setdefault(deployment.environment, {})[deployment.seq] = deployment
        return deployment

    def finished(
        self, entry: Entry[Any], payload: DeploymentFinished, *, verified: bool = True
    ) -> Deployment | None:
        """Close the deployment the record names; None when it names none this history holds open.
        `verified` False: a result that does not count ended it (`deployment_counts`): it is no failure
        waiting for its incident, restores no service, but a success it claims still owes its release's
        closure (a forged record only adds debts)."""
        deployment = self.open.pop(payload.started, None)
        if deployment is None:
            return None
        deployment.finished_at, deployment.finished_seq, deployment.finish = entry.moment, entry.seq, payload
        deployment.verified = verified
        if not verified:
            if payload.result is DeploymentResult.SUCCESS:
                self.released(deployment)
        elif payload.result in (DeploymentResult.FAILURE, DeploymentResult.ROLLED_BACK):
            self.failed[deployment.id] = deployment
            self.failed_ids.add(deployment.id)
            self._unrestored.setdefault(deployment.environment, []).append(deployment.id)
        elif payload.result is DeploymentResult.SUCCESS:
            restored = self._unrestored.pop(deployment.environment, [])
            self.incidents.resolve_by_deployment(restored, entry.moment)
            self.released(deployment)
        if not self._settled(deployment):
            replaced = self.owing.get(deployment.id)
            if replaced is not None:
                self._unindex(replaced)
            self.owing[deployment.id] = deployment
            for rfc in deployment.rfcs:
                self._owing_by_rfc.setdefault(rfc, set()).add(deployment.id)
        else:
            self._unindex(deployment)
        return deployment

    def released(self, deployment: Deployment) -> None:
        """A deployment finished successfully: its release owes its closure (domain.closure) where it went
        to production."""
        assert deployment.finished_at is not None
        if (
            self.environment_kind is not None
            and self.environment_kind(deployment.environment) != "production"
        ):
            return
        self.closures.finished(
            Release(
                deployment.id,
                deployment.finished_seq,
                deployment.rfcs,
                deployment.change_type,
                deployment.environment,
                deployment.commit,
                deployment.actor,
                deployment.finished_at,
            )
        )

    def closure(self, entry: Entry[Any]) -> Release | None:
        """Fold a closure record or test evidence bound to a deployment; the release it is about (None: it
        names none this history holds as finished successfully)."""
        signed = None if self.attest is None else self.attest(entry)
        release = self.closures.add(entry, signed)
        # A closure that counts for the role holders the fold knows settles the release: the rules stop
        # reading it (memory and time stay bounded on a long ledger). Unknown holders settle nothing here.
        if (
            release is not None
            and self.policy is not None
            and isinstance(entry.payload, ChangeClosed)
            and (self.members is not None or not self.policy.closure.closers)
            and judge(self.policy, self.grade, release, entry.moment, self.members, self.requesters).closed
        ):
            self.closures.settle(release.id, closed=True)
        return release

    def closure_states(
        self,
        at: datetime,
        members: Mapping[Role, frozenset[str]] | None,
        environment: str | None = None,
        since: datetime | None = None,
    ) -> tuple[ClosureState, ...]:
        """The closure of the releases (of `environment`, finished since `since`) past the pack's deadline at
        `at` and not closed, judged for these role holders (`rules.closure.judge`): the oldest
        `CLOSURE_REPORTED` of them, enough for the rules to block and to name what waits."""
        if self.policy is None:
            return ()
        chosen = members if members is not None else self.members
        due = at - timedelta(days=self.policy.closure.deadline_days)
        if since is not None:
            self.closures.expire(since)  # readers ask at later and later times (the audit's fold)
        found: list[ClosureState] = []
        for release in self.closures.releases.values():
            if release.finished_at >= due or (since is not None and release.finished_at < since):
                continue
            if environment is not None and release.environment != environment:
                continue
            state = judge(self.policy, self.grade, release, at, chosen, self.requesters)
            if not state.closed:
                found.append(state)
                if len(found) >= CLOSURE_REPORTED:
                    break
        return tuple(found)

    def pir(self, entry: Entry[Pir]) -> bool:
        """Fold a PIR record; whether it counts as far as the fold can tell (who recorded it, and how:
        `rules.deploy.pir_refusal`). Where the role holders are not known here, a deployment's debt stays
        open for `pir_state` to judge with the holders each check passes."""
        if self.attest is not None:
            self._signed[entry.seq] = self.attest(entry)
        for rfc in entry.rfcs:
            held = self.pirs.setdefault(rfc, {})
            kind = _pir_kind(entry, self._signed.get(entry.seq))
            held.pop(kind, None)
            held[kind] = entry
            self._pir_cache.pop(rfc, None)
        if self._pir_refusal(entry, self.members) is not None:
            return False
        if self.policy is not None and self.members is None and self.policy.deploy.pir_reviewers:
            return True  # counted by the non-role criteria; the debt is released by `pir_state` only
        for rfc in entry.rfcs:
            self.pir_done.add(rfc)
            for deployment_id in self._owing_by_rfc.pop(rfc, set()):
                deployment = self.owing.get(deployment_id)
                if deployment is not None and self._settled(deployment):
                    self._release(deployment)
        return True

    def _pir_refusal(
        self, entry: Entry[Pir], members: Mapping[Role, frozenset[str]] | None
    ) -> tuple[str, str] | None:
        if self.policy is None:
            return None
        attested = self._signed.get(entry.seq)
        return pir_refusal(
            self.policy, self.grade, members, entry.actor, entry.actor_source, entry.payload, attested
        )

    def pir_state(
        self, rfcs: Iterable[str], members: Mapping[Role, frozenset[str]] | None
    ) -> tuple[frozenset[str], dict[str, tuple[str, str]]]:
        """Of `rfcs`, those with a PIR that counts for these role holders, and why the latest PIR of each
        other one does not count (en, ko)."""
        chosen = members if members is not None else self.members
        key = _members_key(chosen)
        done: set[str] = set()
        refused: dict[str, tuple[str, str]] = {}
        for rfc in rfcs:
            cached = self._pir_cache.get(rfc) if self.cache else None
            if cached is not None and cached[0] == key:
                reason = cached[1]
            else:
                reason = self._pir_reason(rfc, chosen)
                if self.cache:
                    self._pir_cache[rfc] = (key, reason)
            if reason is None:
                if rfc in self.pirs:
                    done.add(rfc)
            else:
                refused[rfc] = reason
        return frozenset(done), refused

    def _pir_reason(self, rfc: str, members: Mapping[Role, frozenset[str]] | None) -> tuple[str, str] | None:
        """None when a PIR of the RFC counts for these role holders (or it has none); else why its latest
        PIR does not."""
        refused = None
        for entry in self.pirs.get(rfc, {}).values():
            reason = self._pir_refusal(entry, members)
            if reason is None:
                return None
            refused = reason
        return refused

    def incident(self, rfcs: tuple[str, ...], payload: IncidentOpened) -> Deployment | None:
        """The failed deployment an incident answers for (by the deployment id it names), if one waits."""
        if payload.deployment_id is not None:
            return self.failed.pop(payload.deployment_id, None)
        return None

    def opened_incident(self, entry: Entry[IncidentOpened]) -> Deployment | None:
        """Fold an `incident.opened` record; the failed deployment it answers for, if one waited."""
        state = self.incidents.add(entry)
        if state is not None:
            state.by_failure = self.opened_by_failure(entry.payload)
            state.signed = None if self.attest is None else self.attest(entry)
        return self.incident(entry.rfcs, entry.payload)

    def opened_by_failure(self, payload: IncidentOpened) -> bool:
        """Whether an incident names a deployment that failed or was rolled back (else it is a defect found
        after a deployment)."""
        return payload.deployment_id is not None and payload.deployment_id in self.failed_ids

    def _settled(self, deployment: Deployment) -> bool:
        """A closed deployment owes nothing any more: no PIR is owed (or every RFC has one), and it is no
        emergency change (those owe an after-the-fact review whose latest decision may still change)."""
        if deployment.change_type is ChangeType.EMERGENCY:
            return False
        if self.policy is None or self.grade is None or deployment.finished_at is None:
            return self.policy is None
        requirement = pir_requirement(self.policy, self.grade, deployment.past(deployment.finished_at))
        return requirement is None or all(rfc in self.pir_done for rfc in deployment.rfcs)

    def _release(self, deployment: Deployment) -> None:
        released = self.owing.pop(deployment.id, None)
        if released is not None:
            self._unindex(released)
        for rfc in deployment.rfcs:
            waiting = self._owing_by_rfc.get(rfc)
            if waiting is not None:
                waiting.discard(deployment.id)
                if not waiting:
                    del self._owing_by_rfc[rfc]

    def _unindex(self, deployment: Deployment) -> None:
        """Drop a deployment that is neither open nor owing any more from the environment index."""
        held = self._by_environment.get(deployment.environment)
        if held is not None and held.get(deployment.seq) is deployment:
            del held[deployment.seq]
            if not held:
                del self._by_environment[deployment.environment]

    def forget_before(self, moment: datetime) -> None:
        """Let go of what no check at `moment` or later can read (evidence past its horizon)."""
        self.evidence.prune(moment - EVIDENCE_HORIZON)

    # -- reading ----------------------------------------------------------------------------------------

    def latest(self, rfc: str) -> tuple[ApprovalDecision, ...]:
        """The decisions on the RFC the approval rules tell apart, in ledger order."""
        found = []
        for slot in self.decisions.get(rfc, {}).values():
            if slot.approved is not None:
                found.append(slot.approved)
            found += slot.rejections
            found += slot.ignored
            found += slot.votes
        return tuple(sorted(found, key=lambda d: d.seq))

    def ignored(self, rfc: str) -> tuple[ApprovalDecision, ...]:
        """The decisions on the RFC the approval rules never count (a workstation record where the pack
        refuses them, an attestation that does not verify), in ledger order."""
        found = [d for slot in self.decisions.get(rfc, {}).values() for d in slot.ignored]
        return tuple(sorted(found, key=lambda d: d.seq))

    def approved_steps(
        self, rfc: str, members: Mapping[Role, frozenset[str]] | None = None
    ) -> frozenset[str]:
        """The steps whose latest counted decision is approve, for these role holders."""
        if self.policy is None:
            return frozenset(s for s, slot in self.decisions.get(rfc, {}).items() if slot.approved)
        if not self.cache:
            return approved_steps(self.latest(rfc), self.context, members)
        key = _members_key(members)
        cached = self._steps_cache.get(rfc)
        if cached is not None and cached[0] == key:
            return cached[1]
        found = approved_steps(self.latest(rfc), self.context, members)
        self._steps_cache[rfc] = (key, found)
        return found

    def deployments(self, environment: str | None = None) -> Iterable[Deployment]:
        """The deployments still open or still owing, oldest first."""
        if environment is not None and self.cache:
            return sorted(self._by_environment.get(environment, {}).values(), key=_seq)
        found = sorted([*self.open.values(), *self.owing.values()], key=_seq)
        return [d for d in found if environment is None or d.environment == environment]

    def _counted_notices(
        self, rfc: str, members: Mapping[Role, frozenset[str]] | None
    ) -> tuple[list[Entry[Notice]], tuple[str, str] | None]:
        """The RFC's notices that tell (`rules.deploy.notice_refusal`, for these role holders), and why the
        latest one that does not tell does not (en, ko)."""
        chosen = members if members is not None else self.members
        counted, refused = [], None
        for entry in self.notices.get(rfc, ()):
            reason = None
            if self.policy is not None:
                attested = self._signed.get(entry.seq)
                reason = notice_refusal(
                    self.policy, self.grade, chosen, entry.actor, entry.actor_source, attested
                )
            if reason is None:
                counted.append(entry)
            else:
                refused = msg(
                    "notice record {seq}: {reason}", seq=entry.seq, reason=reason[0], reason_ko=reason[1]
                ).pair
        return counted, refused

    def noticed(self, rfc: str, members: Mapping[Role, frozenset[str]] | None = None) -> bool:
        return bool(self._counted_notices(rfc, members)[0])

    def notified(self, rfc: str, members: Mapping[Role, frozenset[str]] | None = None) -> frozenset[str]:
        """Every party the RFC's notices that count named, casefolded."""
        counted = self._counted_notices(rfc, members)[0]
        return frozenset(p.strip().casefold() for e in counted for p in e.payload.to)

    def notice_refused(
        self, rfc: str, members: Mapping[Role, frozenset[str]] | None = None
    ) -> tuple[str, str] | None:
        """Why the RFC's latest notice that does not count does not (en, ko); None when none was refused."""
        return self._counted_notices(rfc, members)[1]

    def facts_at(
        self,
        at: datetime,
        *,
        environment: str,
        rfcs: Iterable[RfcEntry],
        head: str,
        identities: frozenset[str] = frozenset(),
        members: Mapping[Role, frozenset[str]] | None = None,
        digests: Mapping[str, str] | None = None,
        platform: Callable[[tuple[ApprovalFacts, ...]], tuple[ApprovalFacts, ...]] | None = None,
        vouched: frozenset[int] | None = frozenset(),
    ) -> LedgerFacts:
        """The rules' facts at `at` for a deployment of `rfcs` (with `head`) to `environment`: approvals of
        each valid RFC bound to its digest (`digests` overrides the RFC's current digest: the content that
        was deployed), this environment's deployments of the last year, the evidence of the last 90 days.
        `vouched`: evidence seqs a deployment's gate recorded as counted (its own workspace reports, or
        records it verified): the audit takes them as the gate did, whatever their signature says. None:
        every record, for a deployment recorded before its gate kept what it counted (nor signed evidence)."""
        entries = tuple(rfcs)
        deployed = digests or {}
        items = tuple(
            replace(e, signed=None) if e.signed is not None and (vouched is None or e.seq in vouched) else e
            for e in self.evidence.at(head, at, EVIDENCE_HORIZON)
        )
        head_evidence = tuple(
            (str(e.kind), e.seq, e.signed) for e in items if head and same_commit(e.commit, head)
        )
        approvals = tuple(
            ApprovalFacts(
                e.id,
                e.rfc.requester,
                deployed[e.id] if e.id in deployed else e.digest,  # noqa: SIM401 - digest is costly
                self.latest(e.id),
                identities,
                members or {},
                head=head,
                evidence=head_evidence,
                delegations=tuple(self.delegations),
            )
            for e in entries
            if e.rfc is not None
        )
        if platform is not None and approvals:
            approvals = platform(approvals)
        since = at - DEBT_HORIZON
        self.incidents.prune(since)  # what older incidents owe is the audit's business, as older debts are
        past = tuple(
            d.past(at) if self.cache else d.view(at)
            for d in self.deployments(environment)
            if since <= d.started_at <= at
        )
        pending = {rfc for d in past for rfc in d.rfcs}
        approved = {r: self.approved_steps(r, members) for r in pending}
        pir_done, pir_refused = self.pir_state(sorted(pending), members)
        deploy = DeployFacts(
            system=self.system,
            rfcs=tuple(e.id for e in entries),
            deployments=past,
            cab_reviewed=frozenset(r for r in pending if str(Step.CAB) in approved[r]),
            pir_done=pir_done,
            pir_refused=pir_refused,
            retro_approved={r: approved[r] for r in sorted(pending)},
            linked={e.id: linked_parties(e.rfc.impact, self.system) for e in entries if e.rfc is not None},
            noticed=frozenset(e.id for e in entries if self.noticed(e.id, members)),
            notified={e.id: self.notified(e.id, members) for e in entries},
            notice_refused={
                e.id: r for e in entries if (r := self.notice_refused(e.id, members)) is not None
            },
            agencies={e.id: e.rfc.impact.agencies for e in entries if e.rfc is not None},
            incidents=self.incidents,
            emergency_incidents=emergency_incidents(entries),
            members=members,
            closures=self.closure_states(at, members, environment, since),
            unsigned=tuple(u for u in self.unsigned.values() if since <= u.moment <= at),
        )
        evidence = EvidenceFacts(
            head,
            items,
            tuple(e.id for e in entries if e.rfc is not None and e.rfc.impact.performance),
        )
        return LedgerFacts(approvals, deploy, evidence)


def _pir_kind(entry: Entry[Pir], signed: bool | None) -> tuple[str, str, str, bool, bool | None]:
    """All `rules.deploy.pir_refusal` reads of a PIR record, its signature included: two records alike in
    these count alike (and give the same reason) whoever holds the roles, so an unsigned copy of a signed
    PIR never stands in for it."""
    return (
        entry.actor,
        entry.actor_source,
        entry.payload.result,
        bool(entry.payload.follow_up.strip()),
        signed,
    )


def _seq(deployment: Deployment) -> int:
    return deployment.seq


def _members_key(members: Mapping[Role, frozenset[str]] | None) -> Any:
    """A hashable stand-in for who holds each role (answers cached per RFC are for one such key)."""
    return None if members is None else frozenset((r, frozenset(v)) for r, v in members.items())


def emergency_incidents(entries: Iterable[RfcEntry]) -> dict[str, str]:
    """RFC -> the incident it names, for the emergency RFCs among `entries` (an emergency RFC validates
    only with one)."""
    return {
        e.id: e.rfc.incident or ""
        for e in entries
        if e.rfc is not None and e.rfc.type is ChangeType.EMERGENCY
    }


@dataclass(frozen=True)
class LedgerFacts:
    """What the ledger tells the rules about one deployment."""

    approvals: tuple[ApprovalFacts, ...]
    deploy: DeployFacts
    evidence: EvidenceFacts


CLOSURE_KINDS = (RecordKind.RELEASE_ACCEPTED, RecordKind.RELEASE_REVIEWED, RecordKind.CHANGE_CLOSED)
INCIDENT_KINDS = (
    RecordKind.INCIDENT_OPENED,
    RecordKind.INCIDENT_UPDATED,
    RecordKind.INCIDENT_CLOSED,
    RecordKind.PROBLEM_OPENED,
)
KINDS = (
    RecordKind.APPROVAL,
    RecordKind.TEST_EVIDENCE,
    RecordKind.DEPLOYMENT_STARTED,
    RecordKind.DEPLOYMENT_FINISHED,
    RecordKind.PIR,
    RecordKind.NOTICE,
    *INCIDENT_KINDS,
    *CLOSURE_KINDS,
    RecordKind.DELEGATION,
)


def counted_deployments(
    records: Iterable[Any], attest: Callable[[Entry[Any]], bool] | None, level: str
) -> list[Any]:
    """Of the deployment records `records` (starts and results, in seq order), those that count
    (`History.deployment_counts`, with the pack's `level` of attestation): what a reader that does not fold
    a history (the baseline's deployed artefacts) may rest on."""
    from gatekeeper.domain.records import entry_of

    history = History(None, None, attest=attest, deployment_attestation=level)
    return [record for record in records if history.deployment_counts(entry_of(record))]
