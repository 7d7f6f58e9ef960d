"""The SOP verification checklist (SOP.md audit checklists for CHG, REL, TST, CFG), answered from facts.

The audit judges each deployment by the gate's own rules, from the facts the gate recorded. `AuditBuilder`
folds the ledger's typed records once, in seq order, into the same `History` the gate reads
(`facts.history`); at each `deployment.started` record — when exactly the records written before it have
been seen — it rebuilds the gate's facts at the deployment's time: the ledger's approvals, evidence,
deployments, PIRs and notices from the history, and from the record itself what the gate saw outside the
ledger (`DecisionFacts`: the platform's approvals, who wrote the change, who held each role, the RFC digest
deployed). It then runs `checks.gate.evaluate` — the gate itself — and files every finding under the
checklist item its rule names (`domain.catalogue`): an error makes the item nonconform for that deployment,
a warning is a note. So a deployment the gate allowed is conform, and one it would have blocked is not.

A deployment recorded before `deploy start` kept its facts is judged from the ledger alone: the rules that
need what only the gate knew (`approval.self`, `approval.unauthorized`, `approval.stale`) are not applied
to it, and the item says so.

Debts are settled when the stream ends (`close`): PIRs and after-the-fact reviews are judged by the gate's
own `deploy.pir-overdue` and `deploy.retro-review-overdue` rules at the audit's time, over every deployment
of the period. `checklist` then adds the facts from outside the ledger (commits, the baseline, the hash
chain) and answers every item conform, nonconform or not-applicable, with evidence: `seq:N` for a ledger
record, `commit:SHA` for a commit, `rfc:ID` for a change request, `item:ID` for a configuration item,
`artifact:NAME` for a deployed artefact.

Everything here is pure; `gatekeeper.commands.audit` gathers the facts. SQL backends hand over the records
with only the members the checklist reads (`gatekeeper.ledger.sql_read`), which `feed_events` folds the
same way.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from gatekeeper.config.models import Policy, Rfc
from gatekeeper.domain import ChangeType, Finding, Grade, Role, Severity
from gatekeeper.domain.baseline import DriftFacts
from gatekeeper.domain.calendar import BusinessCalendar, CalendarUnavailable
from gatekeeper.domain.catalogue import CHECKLIST, RULES
from gatekeeper.domain.closure import CLOSURE_PAYLOADS, Release
from gatekeeper.domain.environments import DEFAULT_ENVIRONMENTS, Environments
from gatekeeper.domain.incident import Incidents
from gatekeeper.domain.records import (
    Approval,
    DecisionFacts,
    Delegation,
    DeploymentFinished,
    DeploymentStarted,
    Entry,
    IncidentClosed,
    IncidentOpened,
    IncidentUpdated,
    Malformed,
    Notice,
    PayloadError,
    Pir,
    ProblemOpened,
    TestEvidence,
    read,
)
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.facts.commits import JudgedCommit
from gatekeeper.facts.history import KINDS as HISTORY_KINDS
from gatekeeper.facts.history import Deployment, History, evidence_of
from gatekeeper.ledger import Record, VerifyResult, chain_reason_ko
from gatekeeper.messages import in_language, tr
from gatekeeper.rules import RuleContext
from gatekeeper.rules.approval import ApprovalDecision, ApprovalFacts, after_ledger
from gatekeeper.rules.baseline import baseline_drift, ignored_text
from gatekeeper.rules.closure import CLOSURE_RULES, STEP_NAMES, ClosureState, judge
from gatekeeper.rules.deploy import (
    DeployFacts,
    earlier_systems,
    owes_pir,
    pir_overdue,
    pir_requirement,
    retro_review_overdue,
)
from gatekeeper.rules.incident import problem_missing, report_missing
from gatekeeper.rules.rfc import is_real_plan
from gatekeeper.rules.window import WindowFacts, window_facts

CONFORM = "conform"
NONCONFORM = "nonconform"
NOT_APPLICABLE = "not-applicable"
MAX_EVIDENCE = 50
# Rules that need what only the gate knew when it ran: not applied to deployments that did not record it.
# Those deployments also predate release approvals that name their commit (`approval.other-commit`).
LEGACY_UNJUDGED = frozenset(
    {"approval.self", "approval.unauthorized", "approval.stale", "approval.other-commit"}
)
# Items a deployment is checked on one RFC at a time (evidence `rfc:ID`), not once per deployment.
PER_RFC = frozenset({"change.plan-complete", "release.rollback-plan"})
# Items about debts: a deployment made while one was overdue is nonconform; they are settled at the end.
DEBTS = frozenset({"change.pir", "change.emergency-review", "incident.reported", "incident.problem"})
# Closing each release (rules.closure): debts too, judged at the audit's time for the period's releases.
CLOSURE_ITEMS = {
    "release.acceptance": "acceptance",
    "release.production-tests": "tests",
    "release.closure": "closure",
}
DEBTS = DEBTS | frozenset(CLOSURE_ITEMS)
# Items whose rules look at what is outside the ledger now (the tree against the baseline, the commits of
# the period judged by `facts.commits`): answered from those facts in `checklist`, not at each deployment.
NOT_RECORDED = frozenset({"configuration.baseline", "configuration.commit-rfc"})
# The kinds of record the checklist reads.
KINDS = tuple(str(kind) for kind in HISTORY_KINDS)


ITEMS = CHECKLIST


@dataclass(frozen=True)
class AuditItem:
    id: str
    area: str
    sop: str
    question: str
    result: str
    evidence: tuple[str, ...]
    notes: tuple[str, ...] = ()  # why each nonconform piece of evidence is (in the order of `evidence`)
    remarks: tuple[str, ...] = ()  # what the auditor should know besides: warnings, how it was judged

    def as_dict(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "id": self.id,
            "area": self.area,
            "question": self.question,
            "result": self.result,
            "evidence": list(self.evidence),
        }
        if self.remarks:
            body["remarks"] = list(self.remarks)
        return body


@dataclass(frozen=True)
class AuditResult:
    system: str
    since: datetime | None
    until: datetime | None
    items: tuple[AuditItem, ...]

    @property
    def ok(self) -> bool:
        return all(item.result != NONCONFORM for item in self.items)

    def counts(self) -> dict[str, int]:
        out = {CONFORM: 0, NONCONFORM: 0, NOT_APPLICABLE: 0}
        for item in self.items:
            out[item.result] += 1
        return out

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "system": self.system,
            "period": {
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
            },
            "summary": self.counts(),
            "items": [item.as_dict() for item in self.items],
        }


@dataclass
class _Check:
    """Evidence gathered for one item: what was checked, what failed and why, and remarks."""

    checked: int = 0
    good: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    remarks: dict[str, None] = field(default_factory=dict)  # ordered, each once
    bad_count: int = 0

    def ok(self, ref: str) -> None:
        self.checked += 1
        if len(self.good) < MAX_EVIDENCE:
            self.good.append(ref)

    def fail(self, ref: str, note: str) -> None:
        if ref in self.bad:  # one more reason for evidence already named
            at = self.bad.index(ref)
            self.notes[at] = f"{self.notes[at]}; {note}"
            return
        self.checked += 1
        self.bad_count += 1
        if len(self.bad) < MAX_EVIDENCE:
            self.bad.append(ref)
            self.notes.append(note)

    def remark(self, text: str) -> None:
        if len(self.remarks) < MAX_EVIDENCE:
            self.remarks.setdefault(text, None)


def _entry_of(rfc_id: str, value: RfcEntry | Rfc | None) -> RfcEntry:
    if isinstance(value, RfcEntry):
        return value
    if value is None:
        return RfcEntry(rfc_id, rfc_id, None, "its content is not a valid RFC")
    return RfcEntry(rfc_id, rfc_id, value)


@dataclass
class AuditBuilder:
    """Folds ledger records and answers the ledger-side questions (pure; see the module docstring)."""

    policy: Policy
    grade: Grade
    now: datetime
    rfcs: Mapping[str, RfcEntry | Rfc | None]  # the RFC store's entries (an Rfc, or None when invalid)
    since: datetime | None = None
    until: datetime | None = None
    lang: str = "en"
    # Business days and hours; without one the window items are not answered (not applicable).
    calendar: BusinessCalendar | None = None
    system: str = ""  # the audited system: an RFC's impact on it is no impact on a linked system
    # Whether an approval record's attestation, or a test record's signature, verifies
    # (`adapters.oidc.Attestor`); None: not checked.
    attest: Callable[[Entry[Any]], bool] | None = None
    # Why a record `attest` did not count does not, where the verifier says (en, ko): a key the issuer no
    # longer publishes, for the notes of the items its deployments answer (`adapters.oidc.refusal_of`).
    explain: Callable[[Entry[Any]], tuple[str, str] | None] | None = None
    # Who holds each role now: whose rejections count for the debts settled at the end (None: anyone's).
    members: Mapping[Role, frozenset[str]] | None = None
    # The declared environments: recorded names are read as their canonical names, kinds pick the rules.
    environments: Environments = DEFAULT_ENVIRONMENTS
    checks: dict[str, _Check] = field(default_factory=lambda: {k: _Check() for k in ITEMS})
    tests_run: int = 0
    tests_passed: int = 0
    history: History = field(init=False)
    _entries: dict[str, RfcEntry] = field(init=False)
    _planned: set[str] = field(default_factory=set)  # RFCs whose plan was checked
    _deployed: set[str] = field(default_factory=set)  # ids of the deployments started in the period
    _failed: dict[str, tuple[int, tuple[str, ...]]] = field(default_factory=dict)  # waiting for an incident
    _incident_rfcs: set[str] = field(default_factory=set)
    _pir_waiting: dict[str, int] = field(default_factory=dict)  # RFC -> seq of the finish that owes a PIR
    _applies: dict[ChangeType, frozenset[str]] = field(default_factory=dict)
    _legacy: int = 0
    _retired: list[int] = field(default_factory=list)  # finish seqs of closed releases taken as they closed

    def __post_init__(self) -> None:
        self.history = History(
            self.policy,
            self.grade,
            self.system,
            attest=self.attest,
            explain=self.explain,
            environment_name=self.environments.canonical,
            members=self.members,
        )
        self._entries = {rfc_id: _entry_of(rfc_id, value) for rfc_id, value in self.rfcs.items()}
        self.history.requesters = self._requester
        self.history.environment_kind = self.environments.kind
        self.history.closures.retire = self._retire_release

    def _said(self, exc: PayloadError) -> str:
        """Why a payload does not read, in the run's language."""
        return in_language(self.lang, str(exc), exc.ko)

    def _inside(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)

    # -- streaming -------------------------------------------------------------------------------------

    def feed(self, records: Iterable[Record]) -> AuditBuilder:
        for record in records:
            if self.until is not None and record.moment >= self.until:
                continue
            if self.system and record.system != self.system:
                continue  # a ledger shared by systems: another system's records answer for that system
            try:
                entry = read(record)
            except PayloadError as exc:
                self.malformed(record.seq, record.kind, self._said(exc), record.moment)
                continue
            self.add(entry)
        return self

    def feed_events(self, events: Iterable[Entry[Any] | ApprovalRow | Malformed]) -> AuditBuilder:
        """The SQL backends' stream, in seq order and before `until` (`gatekeeper.ledger.sql_read`): typed
        entries, approvals as the members the database extracted, and records whose payload could not be
        read. The answers are those `feed` gives for all the records."""
        approval = self.approval
        for event in events:  # approvals first: a million-record ledger passes through here
            if type(event) is tuple:
                approval(*event)
            elif isinstance(event, Malformed):
                said = in_language(self.lang, event.reason, event.reason_ko or event.reason)
                self.malformed(event.seq, event.kind, said, event.moment)
            else:
                self.add(event)  # type: ignore[arg-type]
        return self

    def approval(
        self,
        seq: int,
        rfcs: tuple[str, ...],
        step: Any,
        decision: Any,
        rfc_digest: Any,
        digest: Any,
        actor: Any,
        source: Any,
        commit: Any = None,
    ) -> None:
        """An approval record from its members (what the SQL backends extract of one; None: absent)."""
        try:
            payload = Approval.from_members(step, decision, rfc_digest, digest, commit)
        except PayloadError as exc:
            said = tr(self.lang, "approval record {seq}: {reason}", seq=seq, reason=self._said(exc))
            self.malformed(seq, "approval", said)  # its time is not read
            return
        # The SQL readers hand over whole every approval that carries an attestation: one handed over as
        # members carries none, and is unattested wherever this audit verifies attestations (as `add` finds).
        attested = None if self.attest is None else False
        self.history.approval(seq, "", rfcs, payload, str(actor or ""), str(source or ""), "", attested)

    def malformed(self, seq: int, kind: str, reason: str, moment: datetime | None = None) -> None:
        """A record whose payload cannot be read (`reason`, in the run's language): the ledger holds
        something no pipeline wrote."""
        if kind == "test.evidence":
            if moment is None or self._inside(moment):
                self.checks["test.recorded"].fail(
                    f"seq:{seq}",
                    tr(
                        self.lang,
                        "test record {seq} lacks its commit, kind or counts ({reason})",
                        seq=seq,
                        reason=reason,
                    ),
                )
            return
        self.checks["configuration.ledger-integrity"].fail(
            f"seq:{seq}",
            tr(self.lang, "record {seq} cannot be read: {reason}", seq=seq, reason=reason),
        )

    def add(self, entry: Entry[Any]) -> None:
        payload = entry.payload
        if isinstance(payload, Approval):
            self.history.add(entry)
        elif isinstance(payload, TestEvidence):
            self._evidence(entry)
        elif isinstance(payload, DeploymentStarted):
            self._started(entry)
        elif isinstance(payload, DeploymentFinished):
            self._finished(entry)
        elif isinstance(payload, IncidentOpened):
            self._incident(entry)
        elif isinstance(payload, Pir):
            self._pir(entry)
        elif isinstance(payload, Notice | IncidentUpdated | IncidentClosed | ProblemOpened | Delegation):
            self.history.add(entry)
        elif isinstance(payload, CLOSURE_PAYLOADS):
            self.history.closure(entry)

    # -- record handlers ------------------------------------------------------------------------------

    def _evidence(self, entry: Entry[TestEvidence]) -> None:
        if self._inside(entry.moment):
            counts = entry.payload.counts
            self.tests_run += counts.executed
            self.tests_passed += counts.passed
            check = self.checks["test.recorded"]
            if counts.executed > 0:
                check.ok(entry.ref)
            else:
                check.fail(
                    entry.ref,
                    tr(self.lang, "test record {seq} counts no test that ran", seq=entry.seq),
                )
        signed = None if self.attest is None else self.attest(entry)
        self.history.add_evidence(evidence_of(entry, signed), entry.moment)
        if entry.payload.deployment:  # tests of a production deployment, bound to it (rules.closure)
            self.history.closures.add(entry, signed)

    def _started(self, entry: Entry[DeploymentStarted]) -> None:
        self.history.deployment_counts(entry)  # a start counts whatever its signature says: it binds
        self._unsigned(entry)
        inside = self._inside(entry.moment)
        if inside:
            self._judge(entry)  # the history holds exactly the records before this one
            self.history.forget_before(entry.moment)
        deployment = self.history.started(entry, entry.payload)
        if inside:
            self._deployed.add(deployment.id)

    def _finished(self, entry: Entry[DeploymentFinished]) -> None:
        counted = self.history.deployment_counts(entry)
        self._unsigned(entry)
        if not counted and not self.history.ends_unverified(entry):
            return
        # An unverified result ends its deployment without a result (`History.deployment_counts`): it is
        # no failure and records no history, but the deployment owes its PIR.
        deployment = self.history.finished(entry, entry.payload, verified=counted)
        started_inside = deployment is not None and deployment.id in self._deployed
        if not self._inside(entry.moment) and not started_inside:
            return
        if counted:
            self.checks["change.history-recorded"].ok(entry.ref)
        if deployment is None:
            return
        if deployment.result is not None and deployment.result.value in ("failure", "rolled-back"):
            self._failed[deployment.id] = (entry.seq, deployment.rfcs)
        requirement = pir_requirement(self.policy, self.grade, deployment.past(entry.moment))
        if requirement is None or not self._owing(deployment):
            return
        facts = self._debts([deployment], entry.moment)
        for rfc in deployment.rfcs:
            if owes_pir(requirement, rfc, facts):
                self._pir_waiting[rfc] = entry.seq
            elif rfc in facts.pir_done:
                self.checks["change.pir"].ok(f"rfc:{rfc}")

    def _unsigned(self, entry: Entry[Any]) -> None:
        """A deployment record whose signature does not verify, or an unsigned result of a signed
        deployment (`History.deployment_counts`): a nonconformity of the ledger's integrity (no CI job is
        shown to have written it) where the pack requires the signature, else a remark."""
        found = self.history.unsigned.get(entry.seq)
        if found is None or not self._inside(entry.moment):
            return
        said = {"kind": entry.kind, "seq": entry.seq, "deployment": found.deployment}
        reason = in_language(self.lang, *found.reasons)
        if found.ends:  # its reason says what is and is not shown
            note = tr(
                self.lang,
                "{kind} record {seq} of deployment {deployment} counts for nothing as a result: {reason}",
                **said,
                reason=reason,
            )
        elif found.counted:
            note = tr(
                self.lang,
                "{kind} record {seq} of deployment {deployment} counts: no CI job of this repository is "
                "shown to have written it ({reason})",
                **said,
                reason=reason,
            )
        else:
            note = tr(
                self.lang,
                "{kind} record {seq} of deployment {deployment} counts for nothing: no CI job of this "
                "repository is shown to have written it ({reason})",
                **said,
                reason=reason,
            )
        check = self.checks["configuration.ledger-integrity"]
        if self.history.deployment_level == "required":
            check.fail(entry.ref, note)
        else:
            check.remark(note)

    def _pir(self, entry: Entry[Pir]) -> None:
        if not self.history.pir(entry):  # a PIR that settles nothing for the gate settles nothing here
            return
        for rfc in entry.rfcs:
            if self._pir_waiting.pop(rfc, None) is not None:
                self.checks["change.pir"].ok(f"rfc:{rfc}")

    def _incident(self, entry: Entry[IncidentOpened]) -> None:
        caused_by = self.history.opened_incident(entry)
        if caused_by is not None and caused_by.id in self._failed:
            seq, _ = self._failed.pop(caused_by.id)
            self.checks["release.failure-incident"].ok(f"seq:{seq}")
        self._incident_rfcs.update(entry.rfcs)

    # -- one deployment, by the gate's rules ------------------------------------------------------------

    def _judge(self, entry: Entry[DeploymentStarted]) -> None:
        from gatekeeper.checks.gate import evaluate
        from gatekeeper.facts.gather import GateFacts

        payload = entry.payload
        try:
            recorded = payload.facts
        except PayloadError as exc:  # judged from the ledger alone, and the record is reported
            reason = self._said(exc)
            said = tr(
                self.lang, "{kind} record {seq}: {reason}", kind=entry.kind, seq=entry.seq, reason=reason
            )
            self.malformed(entry.seq, entry.kind, said, entry.moment)
            recorded = None
        # The deployment's time in the system's zone, whichever offset the backend hands over.
        at = self.calendar.local(entry.moment) if self.calendar is not None else entry.moment
        self._check_registered(entry)
        known = tuple(self._entries[r] for r in entry.rfcs if r in self._entries)
        members = (
            {Role(r): logins for r, logins in recorded.members.items() if r in _ROLES} if recorded else None
        )
        ledger = self.history.facts_at(
            at,
            environment=self.environments.canonical(payload.environment),
            rfcs=known,
            head=payload.commit,
            identities=recorded.identities if recorded else frozenset(),
            members=members,
            digests=recorded.rfc_digests if recorded else None,
            platform=_replay(recorded) if recorded is not None and recorded.platform_approvals else None,
            # A deployment recorded by an earlier version is judged as then: its evidence by content.
            vouched=frozenset(recorded.evidence) if recorded is not None else None,
        )
        approvals = ledger.approvals
        if payload.artifacts:  # what the release approvals certified, against what was deployed
            approvals = tuple(dataclasses.replace(a, artifacts=dict(payload.artifacts)) for a in approvals)
        window = self._window(entry, at, payload.change_type)
        environment = self.environments.canonical(payload.environment)
        facts = GateFacts(
            system=self.system,
            grade=self.grade,
            policy=self.policy,
            at=at,
            environment=environment,
            change_type=payload.change_type,
            head=payload.commit,
            rfcs=known,
            window=window,
            approvals=approvals,
            evidence=ledger.evidence,
            deploy=ledger.deploy,
            environment_kind=self.environments.kind(environment),
            # The standard RFCs the gate judged as normal changes (its recorded standard.* findings).
            downgraded=frozenset(
                f.subject for f in (recorded.findings if recorded else ()) if f.rule.startswith("standard.")
            ),
        )
        findings = evaluate(facts, self.lang).findings + self._findings_as_recorded(recorded)
        self._mark_deputies(entry, ledger.approvals, at, payload.change_type)
        if recorded is None:
            self._legacy += 1
            findings = tuple(f for f in findings if f.rule not in LEGACY_UNJUDGED)
        self._file(entry, payload.change_type, findings, known, window is not None, ledger.deploy)
        self._check_plan_details(known)

    def _mark_deputies(
        self, entry: Entry[Any], approvals: tuple[ApprovalFacts, ...], at: datetime, change_type: ChangeType
    ) -> None:
        """The approvals a deputy gave for the deployment, marked under `change.approvals` (issue 19)."""
        from gatekeeper.rules import RuleContext
        from gatekeeper.rules.approval import deputy_approvals, deputy_label

        ctx = RuleContext(self.policy, self.grade, change_type, at, self.lang)
        for facts in approvals:
            if not facts.delegations:
                continue
            for d in deputy_approvals(facts, ctx):
                who = deputy_label(d.actor, d.deputy_for, self.lang)
                self.checks["change.approvals"].remark(
                    tr(
                        self.lang,
                        "deployment {seq}: {rfc_id} {step} was approved by {who} (ledger record {seq2})",
                        seq=entry.seq,
                        rfc_id=facts.rfc_id,
                        step=d.step,
                        who=who,
                        seq2=d.seq,
                    )
                )

    def _findings_as_recorded(self, recorded: DecisionFacts | None) -> tuple[Finding, ...]:
        """The gate's standard-change, governance, change-calendar and deployment-order findings, as it
        recorded them: the catalogue, the protected base, the commits' files, the other RFCs' plans and the
        other systems' deployments they were read from are not in this system's history."""
        found = []
        for f in recorded.findings if recorded is not None else ():
            if f.rule.startswith("standard.") and f.rule in RULES:
                found.append(
                    Finding(
                        f.rule,
                        f.severity,
                        RULES[f.rule].sop,
                        tr(
                            self.lang,
                            "RFC {subject} was judged as a normal change: {summary}",
                            subject=f.subject,
                            summary=in_language(self.lang, RULES[f.rule].summary, RULES[f.rule].summary_ko),
                        ),
                        "",
                        f.subject,
                    )
                )
            elif f.rule in ("config.changed", "calendar.collision", "deploy.sequence"):
                found.append(
                    Finding(
                        f.rule,
                        f.severity,
                        RULES[f.rule].sop,
                        tr(
                            self.lang,
                            "{summary} ({subject})",
                            summary=in_language(self.lang, RULES[f.rule].summary, RULES[f.rule].summary_ko),
                            subject=f.subject,
                        ),
                        "",
                        f.subject,
                    )
                )
        return tuple(found)

    def _window(
        self, entry: Entry[DeploymentStarted], at: datetime, change_type: ChangeType
    ) -> WindowFacts | None:
        """The window facts at the deployment's start; None (and a nonconformity) when the calendar cannot
        tell, as the gate fails closed on it."""
        if self.calendar is None:
            return None
        try:
            return window_facts(self.calendar, at, change_type, self.grade)
        except CalendarUnavailable as exc:
            if (
                RuleContext(self.policy, self.grade, change_type, entry.moment).severity(
                    "window.business-hours"
                )
                is not Severity.OFF
            ):
                self.checks["change.business-hours"].fail(
                    entry.ref, tr(self.lang, "deployment {seq}: {exc}", seq=entry.seq, exc=exc)
                )
            return None

    def _applicable(self, change_type: ChangeType) -> frozenset[str]:
        """The items a deployment of this change type is checked on: those with a rule the pack applies."""
        found = self._applies.get(change_type)
        if found is None:
            ctx = RuleContext(self.policy, self.grade, change_type, self.now)
            found = self._applies[change_type] = frozenset(
                info.item
                for info in RULES.values()
                if info.item
                and info.item not in DEBTS | NOT_RECORDED
                and ctx.severity(info.id) is not Severity.OFF
            )
        return found

    def _file(
        self,
        entry: Entry[DeploymentStarted],
        change_type: ChangeType,
        findings: Iterable[Finding],
        known: tuple[RfcEntry, ...],
        windowed: bool,
        deploy: DeployFacts,
    ) -> None:
        """File the findings of one deployment under their checklist items."""
        by_item: dict[str, list[Finding]] = {}
        for finding in findings:
            item = RULES[finding.rule].item
            if item:
                by_item.setdefault(item, []).append(finding)
        applicable = set(self._applicable(change_type))
        if not windowed:
            applicable -= {"change.business-hours", "change.freeze"}
        if not any((deploy.linked or {}).values()):
            applicable.discard("release.notice")
        if not any(earlier_systems(e.rfc.systems, self.system) for e in known if e.rfc is not None):
            applicable.discard("release.sequential")  # only the second and later systems of an RFC wait
        prefix = tr(self.lang, "deployment {seq}: ", seq=entry.seq)
        for item in sorted(applicable | set(by_item), key=list(ITEMS).index):
            check, found = self.checks[item], by_item.get(item, [])
            if item in PER_RFC:
                self._file_per_rfc(check, found, known)
                continue
            errors = [f.message for f in found if f.severity is Severity.ERROR]
            if errors:
                check.fail(entry.ref, prefix + "; ".join(dict.fromkeys(errors)))
            elif item not in DEBTS and item != "change.rfc-registered":  # `_check_registered` counts it
                check.ok(entry.ref)
            for warning in (f for f in found if f.severity is Severity.WARNING):
                check.remark(prefix + warning.message)

    def _file_per_rfc(self, check: _Check, found: list[Finding], known: tuple[RfcEntry, ...]) -> None:
        for entry in known:
            if entry.id in self._planned:
                continue
            mine = [f for f in found if f.subject == entry.id]
            errors = [f.message for f in mine if f.severity is Severity.ERROR]
            if errors:
                check.fail(f"rfc:{entry.id}", "; ".join(errors))
            else:
                check.ok(f"rfc:{entry.id}")
            for warning in (f for f in mine if f.severity is Severity.WARNING):
                check.remark(warning.message)

    def _check_plan_details(self, known: tuple[RfcEntry, ...]) -> None:
        """CHG-PLAN beyond the gate's rules: the plan gives its reason and a real work plan."""
        check = self.checks["change.plan-complete"]
        for entry in known:
            if entry.id in self._planned:
                continue
            self._planned.add(entry.id)
            rfc = entry.rfc
            if rfc is None:
                continue
            lacking = []
            if not rfc.reason.strip():
                lacking.append(tr(self.lang, "reason"))
            if not is_real_plan(rfc.work_plan, self.policy.plans):
                lacking.append(tr(self.lang, "work plan"))
            if rfc.type is ChangeType.NORMAL and not rfc.worker:  # CHG-PLAN: the plan names its worker
                lacking.append(tr(self.lang, "worker"))
            if lacking:
                check.fail(
                    f"rfc:{entry.id}",
                    tr(
                        self.lang,
                        "RFC {id} lacks: {lacking}",
                        id=entry.id,
                        lacking=", ".join(lacking),
                    ),
                )

    def _check_registered(self, entry: Entry[DeploymentStarted]) -> None:
        check = self.checks["change.rfc-registered"]
        unknown = [r for r in entry.rfcs if r not in self._entries]
        if not entry.rfcs:
            check.fail(
                entry.ref,
                tr(self.lang, "deployment {seq} names no RFC", seq=entry.seq),
            )
        elif unknown:
            names = ", ".join(unknown)
            check.fail(
                entry.ref,
                tr(
                    self.lang,
                    "deployment {seq} names unregistered RFC(s) {names}",
                    seq=entry.seq,
                    names=names,
                ),
            )
        else:
            check.ok(entry.ref)

    # -- closing --------------------------------------------------------------------------------------

    def _owing(self, deployment: Deployment) -> bool:
        """Whether a deployment can leave debts: the pack applies the debt rules in its environment's kind
        (a deployment to staging owes no PIR)."""
        applies = self.policy.rules_in(self.environments.kind(deployment.environment))
        return applies is None or bool({"deploy.pir-overdue", "deploy.retro-review-overdue"} & applies)

    def _debts(self, deployments: Iterable[Deployment], at: datetime) -> DeployFacts:
        """The deploy rules' facts about earlier deployments at `at`, from the history."""
        past = tuple(d.past(at) for d in deployments)
        rfcs = {rfc for d in past for rfc in d.rfcs}
        approved = {r: self.history.approved_steps(r, self.members) for r in rfcs}
        return DeployFacts(
            system=self.system,
            rfcs=(),
            deployments=past,
            cab_reviewed=frozenset(r for r in rfcs if "cab" in approved[r]),
            pir_done=self.history.pir_state(sorted(rfcs), self.members)[0],
            retro_approved={r: approved[r] for r in sorted(rfcs)},
        )

    def close(self) -> None:
        """Settle the questions still open when the stream ends."""
        stale = timedelta(hours=self.policy.deploy.lock_stale_hours)
        # Of the period's deployments, only those still open or owing are held (the history lets go of
        # the rest): those are the ones the debts and the unrecorded results are about.
        waiting = [d for d in self.history.deployments() if d.id in self._deployed]
        for deployment in waiting:
            if deployment.finish is None and self.now - deployment.started_at >= stale:
                self.checks["change.history-recorded"].fail(
                    f"seq:{deployment.seq}",
                    tr(
                        self.lang,
                        "deployment {id} (record {seq}) has no recorded result",
                        id=deployment.id,
                        seq=deployment.seq,
                    ),
                )
        for dep, (seq, rfcs) in self._failed.items():
            if rfcs and all(r in self._incident_rfcs for r in rfcs):
                self.checks["release.failure-incident"].ok(f"seq:{seq}")
                continue
            self.checks["release.failure-incident"].fail(
                f"seq:{seq}",
                tr(
                    self.lang,
                    "failed deployment {dep} (record {seq}) has no incident record",
                    dep=dep,
                    seq=seq,
                ),
            )
        # The debts of the period's deployments, judged at the audit's time by the gate's own rules.
        facts = self._debts([d for d in waiting if self._owing(d)], self.now)
        ctx = RuleContext(self.policy, self.grade, ChangeType.NORMAL, self.now, self.lang)
        for rule, item in ((pir_overdue, "change.pir"), (retro_review_overdue, "change.emergency-review")):
            owed: dict[str, list[str]] = {}  # RFC -> why, one line per deployment of it
            for finding in rule(facts, ctx):
                if finding is None:
                    continue
                if finding.severity is Severity.ERROR:
                    owed.setdefault(finding.subject, []).append(finding.message)
                else:
                    self.checks[item].remark(finding.message)
            for rfc, why in owed.items():
                self.checks[item].fail(f"rfc:{rfc}", "; ".join(why))
        self._close_incidents(ctx)
        self._close_releases(ctx)
        approved = facts.retro_approved or {}
        for past in facts.deployments:
            if past.change_type is not ChangeType.EMERGENCY:
                continue
            for review in self.policy.approvals.retro_review:
                if review.matches(self.grade, ChangeType.EMERGENCY):
                    steps = {str(s) for s in review.steps}
                    for rfc in past.rfcs:
                        if steps <= approved.get(rfc, frozenset()):
                            self.checks["change.emergency-review"].ok(f"rfc:{rfc}")
                    break
        if self.history.legacy:
            seqs = ", ".join(str(seq) for seq in self.history.legacy[:10])
            more = "…" if len(self.history.legacy) > 10 else ""
            self.checks["change.history-recorded"].remark(
                tr(
                    self.lang,
                    "{legacy_count} deployment record(s) (seq {seqs}{more}) carry no CI signature "
                    "(written by an earlier version, on a workstation or by a job without an ID "
                    "token): judged by their content, as before",
                    legacy_count=len(self.history.legacy),
                    seqs=seqs,
                    more=more,
                )
            )
        if self._legacy:
            note = tr(
                self.lang,
                "{legacy} deployment(s) were recorded before `deploy start` kept the facts it "
                "decided on: they are judged from the ledger alone (self-approval, role holders "
                "and the RFC digest deployed are not known for them)",
                legacy=self._legacy,
            )
            self.checks["change.approvals"].remark(note)

    def _requester(self, rfc_id: str) -> str | None:
        entry = self._entries.get(rfc_id)
        return str(entry.rfc.requester) if entry is not None and entry.rfc is not None else None

    def _audited(self, release: Release) -> bool:
        """Whether the checklist reads this release: a successful production deployment of the period."""
        return release.id in self._deployed and self.environments.kind(release.environment) == "production"

    def _retire_release(self, release: Release) -> bool:
        """A release whose closure counted as it was recorded: closed it stays, whatever comes later, and
        each of its closure items is conform (`_close_releases` says so in ledger order). Taking that now
        keeps the fold's memory bounded on a long ledger. A release the checklist does not read is let go."""
        if not self._audited(release):
            return True
        if not judge(self.policy, self.grade, release, self.now, self.members, self._requester).closed:
            return False
        self._retired.append(release.seq)
        return True

    def _close_releases(self, ctx: RuleContext) -> None:
        """Each successful production deployment of the period: accepted, tested in production, reviewed
        and closed (rules.closure), by the gate's own rules at the audit's time; one not yet due is a
        remark."""
        releases = [r for r in self.history.closures.of(settled=True) if self._audited(r)]
        states = {
            r.id: judge(self.policy, self.grade, r, self.now, self.members, self._requester) for r in releases
        }
        facts = DeployFacts(system=self.system, rfcs=(), closures=tuple(states.values()))
        if self.calendar is not None:  # the deadlines in the system's time zone, as the gate says them
            ctx = replace(ctx, now=self.calendar.local(self.now))
        done: dict[str, Callable[[ClosureState], bool]] = {
            "acceptance": lambda s: s.acceptance == "accepted" or s.closed,
            "tests": lambda s: not s.missing_tests(self.policy) or s.closed,
            "closure": lambda s: s.closed,
        }
        for item, part in CLOSURE_ITEMS.items():
            rule = next(r for r, info in RULES.items() if info.item == item)
            found = {f.subject: f for f in CLOSURE_RULES[rule](facts, ctx) if f is not None}
            check = self.checks[item]
            held = {r.seq: r for r in releases}
            for seq in sorted([*held, *self._retired]):
                ref = f"seq:{seq}"
                release = held.get(seq)
                if release is None:  # closed as it was recorded (`_retire_release`)
                    check.ok(ref)
                    continue
                state = states[release.id]
                finding = found.get(release.id)
                if finding is not None and finding.severity is Severity.ERROR:
                    check.fail(ref, finding.message)
                elif done[part](state):
                    check.ok(ref)
                elif finding is not None:
                    check.remark(finding.message)
                else:
                    deadline = release.finished_at + timedelta(days=self.policy.closure.deadline_days)
                    check.remark(
                        tr(
                            self.lang,
                            "deployment {id} (record {seq}): {step} is due by {deadline}",
                            id=release.id,
                            seq=release.seq,
                            step=STEP_NAMES[part],
                            deadline=deadline.isoformat(timespec="minutes"),
                        )
                    )

    def _close_incidents(self, ctx: RuleContext) -> None:
        """INC and PRB over the period's incidents, by the gate's own rules at the audit's time."""
        folded = self.history.incidents
        inside = {i: s for i, s in folded.by_id.items() if self._inside(s.start)}
        period = Incidents(inside, dict(folded.aliases), dict(inside))
        facts = DeployFacts(system=self.system, rfcs=(), incidents=period, members=self.members)
        grades = self.policy.incidents.report_grades
        asked = (
            (report_missing, "incident.reported", lambda s: s.grade in grades),
            (problem_missing, "incident.problem", lambda s: s.cause_unknown),
        )
        for rule, item, applies in asked:
            found = {f.subject: f for f in rule(facts, ctx) if f is not None}
            for ident, state in period.by_id.items():
                if not applies(state):
                    continue
                finding = found.get(ident)
                if finding is not None and finding.severity is Severity.ERROR:
                    self.checks[item].fail(f"incident:{ident}", finding.message)
                    continue
                self.checks[item].ok(f"incident:{ident}")
                if finding is not None:
                    self.checks[item].remark(finding.message)


_ROLES = frozenset(r.value for r in Role)


def _replay(recorded: DecisionFacts) -> Any:
    """The gate's merge of the platform's decisions, replayed from what the deployment recorded."""

    def merge(approvals: tuple[ApprovalFacts, ...]) -> tuple[ApprovalFacts, ...]:
        out = []
        for facts in approvals:
            given = [
                ApprovalDecision(
                    0,
                    p.source,
                    facts.rfc_id,
                    p.step,
                    p.decision,
                    p.actor,
                    p.actor_source,
                    p.digest,
                    p.at,
                    True,
                    commit=p.commit,
                )
                for p in recorded.platform_approvals
                if p.rfc == facts.rfc_id
            ]
            out.append(replace(facts, decisions=after_ledger(facts.decisions, given)) if given else facts)
        return tuple(out)

    return merge


# (seq, rfcs, step, decision, rfc_digest, digest, actor, actor_source): an approval as SQL extracts it.
ApprovalRow = tuple[int, tuple[str, ...], Any, Any, Any, Any, Any, Any]


def _item(item_id: str, check: _Check, lang: str) -> AuditItem:
    area, sop, asked = ITEMS[item_id]
    question = asked.said(lang)
    remarks = tuple(check.remarks)
    if check.bad_count:
        extra = check.bad_count - len(check.bad)
        notes = tuple(check.notes) + ((f"… +{extra}",) if extra > 0 else ())
        return AuditItem(item_id, area, sop, question, NONCONFORM, tuple(check.bad), notes, remarks)
    if check.checked == 0:
        return AuditItem(item_id, area, sop, question, NOT_APPLICABLE, (), (), remarks)
    return AuditItem(item_id, area, sop, question, CONFORM, tuple(check.good), tuple(check.notes), remarks)


def checklist(
    builder: AuditBuilder,
    *,
    system: str,
    commits: Iterable[JudgedCommit] = (),
    drift: DriftFacts | None = None,
    chain: VerifyResult | None = None,
) -> AuditResult:
    """Every checklist item answered, from the streamed ledger and the facts from outside it."""
    builder.close()
    checks = builder.checks

    rate = checks["test.success-rate"]
    if builder.tests_run:
        value = 100.0 * builder.tests_passed / builder.tests_run
        threshold = builder.policy.tests.min_success_rate
        ref = f"tests:{builder.tests_passed}/{builder.tests_run}"
        if value >= threshold:
            rate.ok(ref)
            rate.notes.append(
                tr(builder.lang, "{value:.1f} % ≥ {threshold:g} %", value=value, threshold=threshold)
            )
        else:
            rate.fail(
                ref,
                tr(builder.lang, "{value:.1f} % is below {threshold:g} %", value=value, threshold=threshold),
            )

    # The commits of the period, judged by `check-commits`' own rules (`facts.commits`). An RFC's status
    # today says nothing of its status when the commit was made (changes are closed after they land), so
    # `commit.rfc-inactive` is a remark here, never a nonconformity.
    commit_check = checks["configuration.commit-rfc"]
    for commit in commits:
        ref = f"commit:{commit.sha}"
        failed = False
        for said in commit.findings:
            if said.severity is Severity.ERROR and said.rule != "commit.rfc-inactive":
                commit_check.fail(ref, f"{said.rule}: {said.message}")  # a second reason joins the first
                failed = True
            else:
                commit_check.remark(f"{commit.sha[:10]} {said.rule}: {said.message}")
        if not failed:
            commit_check.ok(ref)

    base = checks["configuration.baseline"]
    if drift is not None and drift.items_declared:
        if drift.unreadable:
            base.fail("item:*", drift.unreadable)
        elif drift.diff is None and drift.ignored:
            base.fail(
                "item:*",
                tr(
                    builder.lang,
                    "no approved configuration baseline: no recorded baseline counts ({ignored})",
                    ignored=ignored_text(builder.lang, drift.ignored),
                ),
            )
        elif drift.diff is None:
            base.fail(
                "item:*",
                tr(builder.lang, "no configuration baseline is recorded"),
            )
        else:
            # The gate's own `baseline.drift` rule, at the audit's time.
            ctx = RuleContext(builder.policy, builder.grade, ChangeType.NORMAL, builder.now, builder.lang)
            drifted = {f.subject: f for f in baseline_drift(drift, ctx) if f is not None}
            refs = [(f"item:{i.id}", i.id) for i in drift.diff.items]
            refs += [(f"artifact:{a.name}", a.name) for a in drift.diff.artifacts]
            for ref, subject in refs:
                finding = drifted.get(subject)
                if finding is not None and finding.severity is Severity.ERROR:
                    base.fail(ref, finding.message)
                    continue
                base.ok(ref)
                if finding is not None:
                    base.remark(finding.message)

    integrity = checks["configuration.ledger-integrity"]
    if chain is not None:
        if chain.ok:
            integrity.ok(f"records:{chain.count}")
        else:
            integrity.fail(
                f"seq:{chain.first_bad_seq}",
                tr(
                    builder.lang,
                    "the chain breaks at record {first_bad_seq}: {reason}",
                    first_bad_seq=chain.first_bad_seq,
                    reason=in_language(builder.lang, chain.reason, chain_reason_ko(chain.reason)),
                ),
            )

    items = tuple(_item(item_id, checks[item_id], builder.lang) for item_id in ITEMS)
    return AuditResult(system, builder.since, builder.until, items)


def configuration_integrity(drift: DriftFacts | None) -> dict[str, int]:
    """What `audit.run` records for the configuration KPIs: items checked and items intact (integrity),
    items changed since the baseline and, of those, the errors detected (a change no RFC explains: the
    error detection rate, seed 002:1024)."""
    if drift is None or drift.diff is None:
        return {"items": 0, "intact": 0}
    total, errors = len(drift.diff.items), len(drift.diff.drifted)
    return {"items": total, "intact": total - errors, "changed": len(drift.diff.changed), "errors": errors}


def run_record_data(result: AuditResult, drift: DriftFacts | None) -> dict[str, Any]:
    """The `data` of the `audit.run` record: enough to trend audits without re-running them."""
    return {
        "ok": result.ok,
        "since": result.since.isoformat() if result.since else None,
        "until": result.until.isoformat() if result.until else None,
        "summary": result.counts(),
        "nonconform": [i.id for i in result.items if i.result == NONCONFORM],
        "configuration": configuration_integrity(drift),
    }


def feed_from_database(builder: AuditBuilder, ledger: object, system: str) -> bool:
    """Feed `builder` with the records the checklist reads, as the ledger's database extracts them
    (`ledger.sql_read`); False when the backend has no SQL or the reading stepped aside."""
    from gatekeeper.ledger.sql_read import read_database

    return read_database(ledger, builder.feed_events, system=system, kinds=KINDS, until=builder.until)
