"""The SOP verification checklist (SOP.md audit checklists for CHG, REL, TST, CFG), answered from facts.

`AuditBuilder` reads ledger records once, in seq order (`feed`; SQL backends hand over a reduced stream
that gives the same answers: `feed_events`, `gatekeeper.ledger.sql_audit`). A deployment's approvals and test
evidence are judged when its `deployment.started` record is read — at that point exactly the records
written before it have been seen — so nothing but the still-open questions (failures waiting for their
incident, changes waiting for their PIR) is held while the rest of the ledger streams by. `checklist` then
adds the facts from outside the ledger (RFC files, commits, the baseline, the hash chain) and answers every
item conform, nonconform or not-applicable, with evidence: `seq:N` for a ledger record, `commit:SHA` for a
commit, `rfc:ID` for a change request, `item:ID` for a configuration item, `artifact:NAME` for a deployed
artefact.

Everything here is pure; `gatekeeper.commands.audit` gathers the facts.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol, cast

from gatekeeper.checks.kpi import deployment_id, test_counts
from gatekeeper.config.models import Policy, Rfc
from gatekeeper.domain import ActorSource, ChangeType, DeploymentResult, Grade, RecordKind, Severity
from gatekeeper.domain.calendar import BusinessCalendar, CalendarUnavailable
from gatekeeper.facts.baseline import DriftFacts
from gatekeeper.ledger import Record, VerifyResult
from gatekeeper.rules.approval import login_key, repeated_approvers
from gatekeeper.rules.deploy import linked_parties
from gatekeeper.rules.rfc import is_real_plan

CONFORM = "conform"
NONCONFORM = "nonconform"
NOT_APPLICABLE = "not-applicable"
MAX_EVIDENCE = 50
_CHANGE_TYPES = frozenset(ChangeType)
APPROVE = "approve"

# id -> (area, SOP clause, question en, question ko). The order is the order of the report.
ITEMS: dict[str, tuple[str, str, str, str]] = {
    "change.rfc-registered": (
        "change",
        "CHG-P1",
        "Did every deployment name a registered change request (RFC)?",
        "모든 배포에 등록된 변경요청서(RFC)가 있는가?",
    ),
    "change.plan-complete": (
        "change",
        "CHG-PLAN",
        "Was every deployed change plan complete (reason, work plan, rollback plan, test plan for software)?",
        "배포된 변경계획서가 완전한가 (사유, 작업계획, 원상복구계획, 소프트웨어 변경의 테스트계획)?",
    ),
    "change.approvals": (
        "change",
        "CHG-P3",
        "Did every deployment have its required approvals, in order, before it started?",
        "모든 배포가 시작 전에 필요한 승인을 순서대로 받았는가?",
    ),
    "change.business-hours": (
        "change",
        "CHG-P3",
        "Was every change that the pack keeps out of business hours (weekdays 09–18 on business days) "
        "deployed outside them?",
        "업무시간(업무일 평일 09~18시) 배포가 제한되는 변경이 모두 업무시간 외에 배포되었는가?",
    ),
    "change.emergency-review": (
        "change",
        "CHG-P1",
        "Was every emergency change reviewed and approved after the fact within its deadline?",
        "모든 긴급변경이 기한 내에 사후 검토·승인되었는가?",
    ),
    "change.pir": (
        "change",
        "CHG-P3",
        "Did every CAB-reviewed change that needs one get its post-implementation review (PIR)?",
        "변경관리위원회 심의를 거친 변경에 대해 이행 후 검토(PIR)를 수행하였는가?",
    ),
    "change.history-recorded": (
        "change",
        "CHG-P2",
        "Is the result of every deployment, including failed ones, recorded?",
        "실패를 포함한 모든 배포의 결과가 기록되었는가?",
    ),
    "release.tested": (
        "release",
        "REL-P1",
        "Did every deployment have passing test evidence recorded before it started?",
        "모든 배포 전에 테스트를 통과한 결과가 기록되었는가?",
    ),
    "release.rollback-plan": (
        "release",
        "REL-P4",
        "Did every deployment have a rollback plan?",
        "모든 배포에 원상복구계획이 있었는가?",
    ),
    "release.notice": (
        "release",
        "REL-NOTICE",
        "Was a prior notice recorded before every deployment of a change that affects linked systems or "
        "agencies?",
        "연계시스템·기관에 영향을 주는 변경의 배포 전에 사전 공지가 기록되었는가?",
    ),
    "release.failure-incident": (
        "release",
        "REL-P4",
        "Was every failed or rolled-back deployment escalated to an incident record?",
        "실패하거나 원상복구된 모든 배포가 장애로 등록되었는가?",
    ),
    "test.success-rate": (
        "test",
        "TST-KPI",
        "Does the recorded test success rate meet the pack's threshold?",
        "기록된 테스트 성공률이 기준을 충족하는가?",
    ),
    "test.recorded": (
        "test",
        "TST-P4",
        "Does every test record name the commit tested, the test kind and the counts?",
        "모든 테스트 기록에 대상 커밋, 테스트 종류, 결과 건수가 있는가?",
    ),
    "configuration.commit-rfc": (
        "configuration",
        "CFG-P3",
        "Does every commit name its change request ID?",
        "모든 커밋(체크인)에 변경요청ID가 기록되었는가?",
    ),
    "configuration.baseline": (
        "configuration",
        "CFG-P1",
        "Is a configuration baseline recorded and current (no change without an RFC)?",
        "형상 베이스라인이 등록되어 있고 최신인가 (변경요청 없는 변경이 없는가)?",
    ),
    "configuration.ledger-integrity": (
        "configuration",
        "CHG-P2",
        "Is the change and deployment ledger intact (hash chain verifies)?",
        "변경·배포 원장이 위변조 없이 보존되었는가 (해시 체인 검증)?",
    ),
}


@dataclass(frozen=True)
class AuditItem:
    id: str
    area: str
    sop: str
    question: str
    result: str
    evidence: tuple[str, ...]
    notes: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "area": self.area,
            "question": self.question,
            "result": self.result,
            "evidence": list(self.evidence),
        }


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


@dataclass(frozen=True)
class CommitFact:
    sha: str
    subject: str
    rfcs: tuple[str, ...]
    is_merge: bool = False


@dataclass
class _Check:
    """Evidence gathered for one item: what was checked and what failed."""

    checked: int = 0
    good: list[str] = field(default_factory=list)
    bad: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    bad_count: int = 0

    def ok(self, ref: str) -> None:
        self.checked += 1
        if len(self.good) < MAX_EVIDENCE:
            self.good.append(ref)

    def fail(self, ref: str, note: str) -> None:
        self.checked += 1
        self.bad_count += 1
        if len(self.bad) < MAX_EVIDENCE:
            self.bad.append(ref)
            self.notes.append(note)


class RecordView(Protocol):
    """What the checklist reads of a record: a `Record`, or a `Stored` handed over by a SQL backend."""

    @property
    def seq(self) -> int: ...
    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def rfcs(self) -> tuple[str, ...]: ...
    @property
    def data(self) -> Mapping[str, Any]: ...
    @property
    def moment(self) -> datetime: ...


# The events a SQL backend hands over are not frozen: a frozen dataclass's __init__ costs about three
# times as much, and an audit of a large ledger makes a million of them.


@dataclass(slots=True)
class Stored:
    """A record as a SQL backend hands it over (`gatekeeper.ledger.sql_audit`): only the members the checklist
    reads of it."""

    seq: int
    id: str
    kind: str
    rfcs: tuple[str, ...]
    moment: datetime
    data: Mapping[str, Any]


@dataclass(slots=True)
class Evidence:
    """The members of a `test.evidence` record the checklist reads; `kind` and `commit` are None unless
    they are strings, `run` and `passed` are `kpi.test_counts` of its data."""

    seq: int
    moment: datetime
    rfcs: tuple[str, ...]
    kind: str | None
    commit: str | None
    run: int
    passed: int

    @classmethod
    def of(cls, seq: int, moment: datetime, rfcs: tuple[str, ...], data: Mapping[str, Any]) -> Evidence:
        """From a record's `data`, read as the checklist reads it."""
        run, passed = test_counts(data)
        kind, commit = data.get("kind"), data.get("commit")
        return cls(
            seq,
            moment,
            rfcs,
            kind if isinstance(kind, str) else None,
            commit if isinstance(commit, str) else None,
            run,
            passed,
        )


@dataclass(slots=True)
class Approval:
    """An `approval` record's RFCs, step and decision (None unless they are strings), who gave it and
    where it was recorded (`actor`, `actor_source`)."""

    seq: int
    rfcs: tuple[str, ...]
    step: str | None
    decision: str | None
    actor: str | None
    source: str | None


Event = Stored | Evidence | Approval


def _ref(record: RecordView | Evidence) -> str:
    return f"seq:{record.seq}"


@dataclass
class AuditBuilder:
    """Streams ledger records and answers the ledger-side questions (pure; see the module docstring)."""

    policy: Policy
    grade: Grade
    now: datetime
    rfcs: Mapping[str, Rfc | None]  # RFC id -> its content; None when the file does not validate
    since: datetime | None = None
    until: datetime | None = None
    lang: str = "en"
    # Business days and hours; without one the business-hours item is not answered (not applicable).
    calendar: BusinessCalendar | None = None
    system: str = ""  # the audited system: an RFC's impact on it is no impact on a linked system
    checks: dict[str, _Check] = field(default_factory=lambda: {k: _Check() for k in ITEMS})
    # RFC -> step -> (seq of the latest counted decision, decision, the approver's login key)
    _approvals: dict[str, dict[str, tuple[int, str, str]]] = field(default_factory=dict)
    # key (RFC, or `commit:` and the first 7 hex digits) -> kind -> (seq, passed, full commit)
    _evidence: dict[str, dict[str, tuple[int, bool, str]]] = field(default_factory=dict)
    _open: dict[str, tuple[int, datetime]] = field(default_factory=dict)  # started, not finished
    _failed: dict[str, tuple[int, tuple[str, ...]]] = field(default_factory=dict)  # waiting for an incident
    _incident_rfcs: set[str] = field(default_factory=set)
    _pir_due: dict[str, tuple[int, datetime]] = field(default_factory=dict)  # RFC -> (seq, deadline)
    _pir_done: set[str] = field(default_factory=set)
    _retro_due: dict[str, tuple[int, datetime, tuple[str, ...]]] = field(default_factory=dict)
    _cab: set[str] = field(default_factory=set)
    _planned_rfcs: set[str] = field(default_factory=set)
    _change_types: dict[str, str] = field(default_factory=dict)  # open deployment -> change type
    tests_run: int = 0
    tests_passed: int = 0
    # change type -> (required steps, the same in approval order) / required evidence kinds
    _steps: dict[ChangeType, tuple[list[str], list[str]]] = field(default_factory=dict)
    _kinds: dict[ChangeType, list[str]] = field(default_factory=dict)
    _noticed: set[str] = field(default_factory=set)  # RFCs with a `notice` record so far
    _linked: dict[str, tuple[str, ...]] = field(default_factory=dict)  # RFC -> linked systems, agencies
    _severities: dict[tuple[str, ChangeType], Severity] = field(default_factory=dict)

    def _t(self, en: str, ko: str) -> str:
        return ko if self.lang == "ko" else en

    def _inside(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)

    def feed(self, records: Iterable[Record]) -> AuditBuilder:
        for record in records:
            if self.until is not None and record.moment >= self.until:
                continue
            if record.kind == RecordKind.TEST_EVIDENCE:
                self._test_evidence(Evidence.of(record.seq, record.moment, record.rfcs, record.data))
            elif record.kind == RecordKind.APPROVAL:
                self._approval(record)
            else:
                self._record(record)
        return self

    def feed_events(self, events: Iterable[Event]) -> AuditBuilder:
        """The SQL backends' reduced stream, in seq order and before `until`
        (`gatekeeper.ledger.sql_audit`): the
        deployment, incident and PIR records, test evidence and approvals, each with only the members the
        checklist reads. The answers are those `feed` gives for all the records."""
        decision, evidence, record = self._decision, self._test_evidence, self._record
        for event in events:  # the commonest kinds first: a million-record ledger passes through here
            kind = type(event)
            if kind is Approval:
                approval = cast(Approval, event)
                decision(
                    approval.seq,
                    approval.rfcs,
                    approval.step,
                    approval.decision,
                    approval.actor,
                    approval.source,
                )
            elif kind is Evidence:
                evidence(cast(Evidence, event))
            else:
                record(cast(Stored, event))
        return self

    def _record(self, record: RecordView) -> None:
        kind = record.kind
        if kind == RecordKind.DEPLOYMENT_STARTED:
            self._started(record)
        elif kind == RecordKind.DEPLOYMENT_FINISHED:
            self._finished(record)
        elif kind == RecordKind.INCIDENT_OPENED:
            self._incident(record)
        elif kind == RecordKind.NOTICE:
            self._noticed.update(record.rfcs)
        elif kind == RecordKind.PIR:
            for rfc in record.rfcs:
                self._pir_done.add(rfc)
                if self._pir_due.pop(rfc, None) is not None:
                    self.checks["change.pir"].ok(f"rfc:{rfc}")

    # -- record handlers ------------------------------------------------------------------------------

    def _approval(self, record: Record) -> None:
        step, decision = record.data.get("step"), record.data.get("decision")
        self._decision(
            record.seq,
            record.rfcs,
            step if isinstance(step, str) else None,
            decision if isinstance(decision, str) else None,
            record.actor,
            record.actor_source,
        )

    def _decision(
        self,
        seq: int,
        rfcs: tuple[str, ...],
        step: str | None,
        decision: str | None,
        actor: str | None,
        source: str | None,
    ) -> None:
        if step is None or decision is None:
            return
        # As the gate counts them (`rules.approval.counts`): a workstation's decision counts only for the
        # grades the pack allows.
        if source == ActorSource.LOCAL and self.grade not in self.policy.approvals.local_actor_grades:
            return
        who = login_key(actor) if actor is not None else ""
        for rfc in rfcs:
            self._approvals.setdefault(rfc, {})[step] = (seq, decision, who)
            if step == "cab" and decision == APPROVE:
                self._cab.add(rfc)
            waiting = self._retro_due.get(rfc)
            if waiting and all(self._approved(rfc, s) for s in waiting[2]):
                self._retro_due.pop(rfc)

    def _approved(self, rfc: str, step: str) -> bool:
        latest = self._approvals.get(rfc, {}).get(step)
        return latest is not None and latest[1] == APPROVE

    def _test_evidence(self, record: Evidence) -> None:
        run, passed, kind, commit = record.run, record.passed, record.kind, record.commit
        if self._inside(record.moment):
            self.tests_run += run
            self.tests_passed += passed
            if kind is not None and commit and run > 0:
                self.checks["test.recorded"].ok(_ref(record))
            else:
                self.checks["test.recorded"].fail(
                    _ref(record),
                    self._t(
                        f"test record {record.seq} lacks its commit, kind or counts",
                        f"테스트 기록 {record.seq}에 커밋, 종류 또는 건수가 없습니다",
                    ),
                )
        if kind is None:
            return
        ok = run > 0 and passed == run
        sha = commit.lower() if commit is not None and len(commit) >= 7 else ""
        for key in [*record.rfcs, *([f"commit:{sha[:7]}"] if sha else [])]:
            self._evidence.setdefault(key, {})[kind] = (record.seq, ok, sha)

    def _evidence_for(self, rfcs: tuple[str, ...], commit: str) -> dict[str, tuple[int, bool, str]]:
        """The latest evidence per kind recorded for the deployment's RFCs or for its commit."""
        found: dict[str, tuple[int, bool, str]] = {}
        commit = commit.lower()
        keys = [*rfcs, *([f"commit:{commit[:7]}"] if len(commit) >= 7 else [])]
        for key in keys:
            for kind, value in self._evidence.get(key, {}).items():
                sha = value[2]
                if key.startswith("commit:") and not (sha.startswith(commit) or commit.startswith(sha)):
                    continue
                if kind not in found or value[0] > found[kind][0]:
                    found[kind] = value
        return found

    def _required_steps(self, change_type: ChangeType) -> list[str]:
        """The steps the pack requires for this change type, in the pack's approval order."""
        found = self._steps.get(change_type)
        if found is None:
            order = [str(s) for s in self.policy.approvals.order]
            required = [
                str(r.step)
                for r in self.policy.approvals.required
                if r.matches(self.grade, change_type) and r.severity is not Severity.OFF
            ]
            ordered = sorted(required, key=lambda s: order.index(s) if s in order else 99)
            found = self._steps[change_type] = (required, ordered)
        return found[0]

    def _required_kinds(self, change_type: ChangeType) -> list[str]:
        found = self._kinds.get(change_type)
        if found is None:
            kinds: dict[str, None] = {}
            for requirement in self.policy.tests.required:
                if requirement.matches(self.grade, change_type) and requirement.severity is not Severity.OFF:
                    for kind in requirement.kinds:
                        kinds.setdefault(str(kind), None)
            found = self._kinds[change_type] = list(kinds)
        return found

    def _started(self, record: RecordView) -> None:
        dep = record.id
        self._open[dep] = (record.seq, record.moment)
        raw_type = str(record.data.get("change_type", ChangeType.NORMAL.value))
        change_type = ChangeType(raw_type) if raw_type in _CHANGE_TYPES else ChangeType.NORMAL
        self._change_types[dep] = change_type.value
        if not self._inside(record.moment):
            return
        ref = _ref(record)
        self._check_registered(record, ref)
        self._check_plans(record, ref)
        self._check_approvals(record, ref, change_type)
        self._check_window(record, ref, change_type)
        self._check_tests(record, ref, change_type)
        self._check_notice(record, ref, change_type)
        if change_type is ChangeType.EMERGENCY:
            for review in self.policy.approvals.retro_review:
                if review.matches(self.grade, ChangeType.EMERGENCY):
                    deadline = record.moment + timedelta(hours=review.deadline_hours)
                    steps = tuple(str(s) for s in review.steps)
                    for rfc in record.rfcs:
                        if not all(self._approved(rfc, s) for s in steps):
                            self._retro_due[rfc] = (record.seq, deadline, steps)
                        else:
                            self.checks["change.emergency-review"].ok(f"rfc:{rfc}")
                    break

    def _check_registered(self, record: RecordView, ref: str) -> None:
        check = self.checks["change.rfc-registered"]
        unknown = [r for r in record.rfcs if r not in self.rfcs]
        if not record.rfcs:
            check.fail(
                ref,
                self._t(f"deployment {record.seq} names no RFC", f"배포 {record.seq}에 변경요청이 없습니다"),
            )
        elif unknown:
            names = ", ".join(unknown)
            check.fail(
                ref,
                self._t(
                    f"deployment {record.seq} names unregistered RFC(s) {names}",
                    f"배포 {record.seq}의 변경요청 {names}이(가) 등록되어 있지 않습니다",
                ),
            )
        else:
            check.ok(ref)

    def _check_plans(self, record: RecordView, ref: str) -> None:
        plans = self.policy.plans
        for rfc_id in record.rfcs:
            if rfc_id not in self.rfcs or rfc_id in self._planned_rfcs:
                continue
            self._planned_rfcs.add(rfc_id)
            rfc = self.rfcs[rfc_id]
            rollback = rfc is not None and is_real_plan(rfc.rollback_plan, plans)
            if rollback:
                self.checks["release.rollback-plan"].ok(f"rfc:{rfc_id}")
            else:
                self.checks["release.rollback-plan"].fail(
                    f"rfc:{rfc_id}",
                    self._t(
                        f"RFC {rfc_id} has no rollback plan", f"변경요청 {rfc_id}에 원상복구계획이 없습니다"
                    ),
                )
            lacking = []
            if rfc is None:
                lacking.append(self._t("a valid RFC file", "유효한 변경요청서"))
            else:
                if not rfc.reason.strip():
                    lacking.append(self._t("reason", "사유"))
                if not is_real_plan(rfc.work_plan, plans):
                    lacking.append(self._t("work plan", "작업계획"))
                if not rollback:
                    lacking.append(self._t("rollback plan", "원상복구계획"))
                if rfc.software and not is_real_plan(rfc.test_plan, plans):
                    lacking.append(self._t("test plan", "테스트계획"))
            if lacking:
                self.checks["change.plan-complete"].fail(
                    f"rfc:{rfc_id}",
                    self._t(
                        f"RFC {rfc_id} lacks: {', '.join(lacking)}",
                        f"변경요청 {rfc_id} 누락: {', '.join(lacking)}",
                    ),
                )
            else:
                self.checks["change.plan-complete"].ok(f"rfc:{rfc_id}")

    def _check_approvals(self, record: RecordView, ref: str, change_type: ChangeType) -> None:
        required = self._required_steps(change_type)
        if not required:
            return
        in_order = self._steps[change_type][1]
        check = self.checks["change.approvals"]
        problems = []
        for rfc in record.rfcs:
            decisions = self._approvals.get(rfc, {})
            missing = [s for s in required if decisions.get(s, (0, ""))[1] != APPROVE]
            if missing:
                problems.append(
                    self._t(f"{rfc} lacks {', '.join(missing)}", f"{rfc} 승인 누락: {', '.join(missing)}")
                )
                continue
            seqs = [decisions[s][0] for s in in_order]
            if seqs != sorted(seqs):
                problems.append(self._t(f"{rfc} approved out of order", f"{rfc} 승인 순서 위반"))
            if self._severity("approval.same-person", change_type) is not Severity.OFF:
                problems.extend(self._same_person(rfc, decisions))
        if problems:
            check.fail(
                ref, self._t(f"deployment {record.seq}: ", f"배포 {record.seq}: ") + "; ".join(problems)
            )
        else:
            check.ok(ref)

    def _severity(self, rule: str, change_type: ChangeType) -> Severity:
        found = self._severities.get((rule, change_type))
        if found is None:
            found = self._severities[(rule, change_type)] = self.policy.severity(
                rule, self.grade, change_type
            )
        return found

    def _check_window(self, record: RecordView, ref: str, change_type: ChangeType) -> None:
        """CHG-P3: the pack's `window.business-hours` rule, applied to when the deployment started."""
        if self.calendar is None or self._severity("window.business-hours", change_type) is Severity.OFF:
            return
        check = self.checks["change.business-hours"]
        try:
            inside = self.calendar.in_business_hours(record.moment)
        except CalendarUnavailable as exc:  # cannot tell is no answer: the item is not conform
            check.fail(ref, self._t(f"deployment {record.seq}: {exc}", f"배포 {record.seq}: {exc}"))
            return
        if not inside:
            check.ok(ref)
            return
        local = self.calendar.local(record.moment)
        stamp = f"{local:%Y-%m-%d %H:%M} {self.calendar.timezone}"
        check.fail(
            ref,
            self._t(
                f"deployment {record.seq} of a {change_type.value} change started {stamp}, in business hours",
                f"배포 {record.seq}({change_type.value} 변경)가 업무시간({stamp})에 시작되었습니다",
            ),
        )

    def _linked_to(self, rfc_id: str) -> tuple[str, ...]:
        """The linked systems and agencies the RFC says it affects (as the gate reads them)."""
        found = self._linked.get(rfc_id)
        if found is None:
            rfc = self.rfcs.get(rfc_id)
            found = self._linked[rfc_id] = linked_parties(rfc.impact, self.system) if rfc is not None else ()
        return found

    def _check_notice(self, record: RecordView, ref: str, change_type: ChangeType) -> None:
        """REL-NOTICE: a deployment of a change affecting linked systems follows a `notice` record."""
        if self._severity("integration.notice-missing", change_type) is Severity.OFF:
            return
        affecting = [rfc for rfc in record.rfcs if self._linked_to(rfc)]
        if not affecting:
            return
        lacking = [rfc for rfc in affecting if rfc not in self._noticed]
        if not lacking:
            self.checks["release.notice"].ok(ref)
            return
        names = "; ".join(f"{rfc} ({', '.join(self._linked_to(rfc))})" for rfc in lacking)
        self.checks["release.notice"].fail(
            ref,
            self._t(
                f"deployment {record.seq}: no prior notice recorded for {names}",
                f"배포 {record.seq}: 사전 공지 기록 없음 — {names}",
            ),
        )

    def _same_person(self, rfc: str, decisions: Mapping[str, tuple[int, str, str]]) -> list[str]:
        """CHG-P3, TST-P3: one person gave two approved steps of the change (as `approval.same-person`)."""
        approved = [
            (step, seq, who)
            for step, (seq, decision, who) in decisions.items()
            if decision == APPROVE and who
        ]
        if len({who for _, _, who in approved}) == len(approved):  # the common case: nobody gave two steps
            return []
        return [
            self._t(
                f"{rfc}: {who} gave both {first} and {step}",
                f"{rfc}: {who}님이 {first} 단계와 {step} 단계를 모두 승인",
            )
            for who, first, step in repeated_approvers(approved, self.policy.approvals.order)
        ]

    def _check_tests(self, record: RecordView, ref: str, change_type: ChangeType) -> None:
        check = self.checks["release.tested"]
        commit = str(record.data.get("commit") or "")
        evidence = self._evidence_for(record.rfcs, commit)
        required = self._required_kinds(change_type) or sorted(evidence)
        if not required:
            check.fail(
                ref,
                self._t(
                    f"deployment {record.seq} has no test evidence",
                    f"배포 {record.seq}에 테스트 결과가 없습니다",
                ),
            )
            return
        missing = [k for k in required if k not in evidence]
        failing = [k for k in required if k in evidence and not evidence[k][1]]
        if missing or failing:
            parts = []
            if missing:
                parts.append(self._t(f"no {', '.join(missing)} evidence", f"{', '.join(missing)} 결과 없음"))
            if failing:
                parts.append(
                    self._t(f"failing {', '.join(failing)} tests", f"{', '.join(failing)} 테스트 실패")
                )
            check.fail(ref, self._t(f"deployment {record.seq}: ", f"배포 {record.seq}: ") + ", ".join(parts))
        else:
            check.ok(ref)

    def _finished(self, record: RecordView) -> None:
        dep = deployment_id(record)
        opened = self._open.pop(dep, None)
        change_type = self._change_types.pop(dep, str(record.data.get("change_type", "normal")))
        if not self._inside(record.moment) and (opened is None or not self._inside(opened[1])):
            return
        result = str(record.data.get("result", ""))
        self.checks["change.history-recorded"].ok(_ref(record))
        if result in (DeploymentResult.FAILURE, DeploymentResult.ROLLED_BACK):
            self._failed[dep] = (record.seq, record.rfcs)
        if result == DeploymentResult.SUCCESS:
            self._due_pir(record, change_type)

    def _due_pir(self, record: RecordView, change_type: str) -> None:
        for requirement in self.policy.deploy.pir:
            if not requirement.matches(
                self.grade, ChangeType(change_type) if change_type in _CHANGE_TYPES else ChangeType.NORMAL
            ):
                continue
            deadline = record.moment + timedelta(days=requirement.deadline_days)
            for rfc in record.rfcs:
                if rfc in self._pir_done:
                    self.checks["change.pir"].ok(f"rfc:{rfc}")
                elif not requirement.only_after_cab or rfc in self._cab:
                    self._pir_due[rfc] = (record.seq, deadline)
            break

    def _incident(self, record: RecordView) -> None:
        caused_by = record.data.get("deployment_id")
        if isinstance(caused_by, str) and caused_by in self._failed:
            seq, _ = self._failed.pop(caused_by)
            self.checks["release.failure-incident"].ok(f"seq:{seq}")
        self._incident_rfcs.update(record.rfcs)

    # -- closing --------------------------------------------------------------------------------------

    def close(self) -> None:
        """Settle the questions still open when the stream ends."""
        stale = timedelta(hours=self.policy.deploy.lock_stale_hours)
        for dep, (seq, started) in self._open.items():
            if self._inside(started) and self.now - started >= stale:
                self.checks["change.history-recorded"].fail(
                    f"seq:{seq}",
                    self._t(
                        f"deployment {dep} (record {seq}) has no recorded result",
                        f"배포 {dep}(기록 {seq})의 결과가 기록되지 않았습니다",
                    ),
                )
        for dep, (seq, rfcs) in self._failed.items():
            if rfcs and all(r in self._incident_rfcs for r in rfcs):
                self.checks["release.failure-incident"].ok(f"seq:{seq}")
                continue
            self.checks["release.failure-incident"].fail(
                f"seq:{seq}",
                self._t(
                    f"failed deployment {dep} (record {seq}) has no incident record",
                    f"실패한 배포 {dep}(기록 {seq})에 장애 기록이 없습니다",
                ),
            )
        for rfc, (seq, deadline) in sorted(self._pir_due.items()):
            if self.now > deadline:
                self.checks["change.pir"].fail(
                    f"rfc:{rfc}",
                    self._t(
                        f"RFC {rfc} (deployed in record {seq}) has no PIR; it was due by {deadline.date()}",
                        f"변경요청 {rfc}(기록 {seq})의 이행 후 검토가 "
                        f"{deadline.date()}까지 수행되지 않았습니다",
                    ),
                )
        for rfc, (seq, deadline, steps) in sorted(self._retro_due.items()):
            steps = tuple(s for s in steps if not self._approved(rfc, s))
            if self.now > deadline:
                self.checks["change.emergency-review"].fail(
                    f"rfc:{rfc}",
                    self._t(
                        f"emergency change {rfc} (record {seq}) lacks its after-the-fact {', '.join(steps)}",
                        f"긴급변경 {rfc}(기록 {seq})의 사후 승인({', '.join(steps)})이 없습니다",
                    ),
                )


def _item(item_id: str, check: _Check, lang: str) -> AuditItem:
    area, sop, en, ko = ITEMS[item_id]
    question = ko if lang == "ko" else en
    if check.bad_count:
        extra = check.bad_count - len(check.bad)
        notes = tuple(check.notes) + ((f"… +{extra}",) if extra > 0 else ())
        return AuditItem(item_id, area, sop, question, NONCONFORM, tuple(check.bad), notes)
    if check.checked == 0:
        return AuditItem(item_id, area, sop, question, NOT_APPLICABLE, ())
    return AuditItem(item_id, area, sop, question, CONFORM, tuple(check.good), tuple(check.notes))


def checklist(
    builder: AuditBuilder,
    *,
    system: str,
    commits: Iterable[CommitFact] = (),
    drift: DriftFacts | None = None,
    chain: VerifyResult | None = None,
) -> AuditResult:
    """Every checklist item answered, from the streamed ledger and the facts from outside it."""
    builder.close()
    t = builder._t
    checks = builder.checks

    rate = checks["test.success-rate"]
    if builder.tests_run:
        value = 100.0 * builder.tests_passed / builder.tests_run
        threshold = builder.policy.tests.min_success_rate
        ref = f"tests:{builder.tests_passed}/{builder.tests_run}"
        if value >= threshold:
            rate.ok(ref)
            rate.notes.append(t(f"{value:.1f} % ≥ {threshold:g} %", f"{value:.1f}% ≥ {threshold:g}%"))
        else:
            rate.fail(
                ref, t(f"{value:.1f} % is below {threshold:g} %", f"{value:.1f}%로 기준 {threshold:g}% 미달")
            )

    commit_check = checks["configuration.commit-rfc"]
    for commit in commits:
        if commit.is_merge and not commit.rfcs:
            continue
        if commit.rfcs:
            commit_check.ok(f"commit:{commit.sha}")
        else:
            commit_check.fail(
                f"commit:{commit.sha}",
                t(
                    f"{commit.sha[:10]} names no RFC: {commit.subject[:80]}",
                    f"{commit.sha[:10]} 변경요청ID 없음: {commit.subject[:80]}",
                ),
            )

    base = checks["configuration.baseline"]
    if drift is not None and drift.items_declared:
        if drift.diff is None:
            base.fail(
                "item:*",
                t("no configuration baseline is recorded", "형상 베이스라인이 등록되어 있지 않습니다"),
            )
        else:
            for item in drift.diff.items:
                if item.drifted:
                    paths = ", ".join(c.path for c in item.drifted[:5])
                    base.fail(
                        f"item:{item.id}",
                        t(
                            f"{item.id} changed without an RFC since baseline {drift.diff.label}: {paths}",
                            f"{item.id}이(가) 베이스라인 {drift.diff.label} 이후 "
                            f"변경요청 없이 변경됨: {paths}",
                        ),
                    )
                else:
                    base.ok(f"item:{item.id}")
            for artifact in drift.diff.artifacts:
                if artifact.explained:
                    base.ok(f"artifact:{artifact.name}")
                    continue
                base.fail(
                    f"artifact:{artifact.name}",
                    t(
                        f"{artifact.name} was deployed without an RFC since baseline {drift.diff.label}",
                        f"{artifact.name}이(가) 베이스라인 {drift.diff.label} 이후 변경요청 없이 배포됨",
                    ),
                )

    integrity = checks["configuration.ledger-integrity"]
    if chain is not None:
        if chain.ok:
            integrity.ok(f"records:{chain.count}")
        else:
            integrity.fail(
                f"seq:{chain.first_bad_seq}",
                t(
                    f"the chain breaks at record {chain.first_bad_seq}: {chain.reason}",
                    f"기록 {chain.first_bad_seq}에서 해시 체인이 끊어짐: {chain.reason}",
                ),
            )

    items = tuple(_item(item_id, checks[item_id], builder.lang) for item_id in ITEMS)
    return AuditResult(system, builder.since, builder.until, items)


def configuration_integrity(drift: DriftFacts | None) -> dict[str, int]:
    """What `audit.run` records for the configuration-integrity KPI: items checked and items intact."""
    if drift is None or drift.diff is None:
        return {"items": 0, "intact": 0}
    total = len(drift.diff.items)
    return {"items": total, "intact": total - len(drift.diff.drifted)}


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
