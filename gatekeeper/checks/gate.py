"""The deploy gate: gather every fact once (adapters), then run every rule registry over them (pure).

`gather` talks to git, the RFC store, the ledger, the workspace's test reports and the calendar. Each of
those steps either yields its facts or a `GatherFailure` naming what failed; `evaluate` turns every
failure into a `gate.error` finding, so the gate never passes because it could not look (DESIGN §1).
`evaluate` itself is pure: the same facts always give the same outcome, which is what `--at` relies on.

The ledger is read through indexed `find` queries — by RFC for approvals and notices, by kind, system and
a time horizon for deployments and evidence — so the gate's cost does not grow with the ledger's age.
"""

from __future__ import annotations

import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from gatekeeper.adapters.rfcstore import RfcEntry
from gatekeeper.config.models import Config, Policy
from gatekeeper.domain import ChangeType, EvidenceKind, Finding, Grade, Outcome, RecordKind, Role, Step
from gatekeeper.errors import GatekeeperError, LedgerIntegrityError
from gatekeeper.facts.baseline import DriftFacts, gather_drift
from gatekeeper.ledger import LedgerReader, Record
from gatekeeper.ledger.checkpoint import CheckpointFile, confirm_chain
from gatekeeper.rules import RuleContext
from gatekeeper.rules.approval import (
    APPROVAL_RULES,
    ApprovalDecision,
    ApprovalFacts,
    RoleResolver,
    approved_steps,
    role_members,
)
from gatekeeper.rules.baseline import RULES as BASELINE_RULES
from gatekeeper.rules.deploy import (
    DEPLOY_RULES,
    DeployFacts,
    PastDeployment,
    deployments_from_records,
    linked_parties,
)
from gatekeeper.rules.rfc import RFC_RULES
from gatekeeper.rules.tests import TEST_RULES, Evidence, EvidenceFacts
from gatekeeper.rules.window import WINDOW_RULES, WindowFacts

# Debts (PIR, retro review) and open deployments are looked for among this system's deployments of the
# last year; test evidence among the records of the last 90 days. Older debts are the audit's business.
DEBT_HORIZON = timedelta(days=366)
EVIDENCE_HORIZON = timedelta(days=90)
DEFAULT_ENVIRONMENT = "production"

T = TypeVar("T")


@dataclass(frozen=True)
class GateRequest:
    environment: str = DEFAULT_ENVIRONMENT
    rfc_ids: tuple[str, ...] = ()
    at: datetime | None = None
    evidence: tuple[tuple[EvidenceKind, str], ...] = ()  # extra (kind, glob) report paths


@dataclass(frozen=True, slots=True)
class GatherFailure:
    what: str  # "the ledger", "test evidence reports/unit/a.xml", ...
    error: str


@dataclass(frozen=True)
class GateFacts:
    """Everything the rules look at, gathered once. Absent facts (None) always come with a failure."""

    system: str
    grade: Grade
    policy: Policy
    at: datetime
    environment: str
    change_type: ChangeType
    head: str
    rfcs: tuple[RfcEntry, ...] = ()
    window: WindowFacts | None = None
    approvals: tuple[ApprovalFacts, ...] = ()
    evidence: EvidenceFacts | None = None
    deploy: DeployFacts | None = None
    drift: DriftFacts | None = None
    failures: tuple[GatherFailure, ...] = ()

    def rfc_type(self, entry: RfcEntry) -> ChangeType:
        return entry.rfc.type if entry.rfc is not None else self.change_type


def combined_type(types: Iterable[ChangeType]) -> ChangeType:
    """A deployment carrying several RFCs follows the strictest of them; with none, a normal change."""
    kinds = set(types)
    if not kinds or ChangeType.NORMAL in kinds:
        return ChangeType.NORMAL
    return ChangeType.STANDARD if ChangeType.STANDARD in kinds else ChangeType.EMERGENCY


# ---------------------------------------------------------------------------------------------- evaluate


def evaluate(facts: GateFacts, lang: str = "en") -> Outcome:
    """Run every rule registry over the facts; pure."""
    base = RuleContext(facts.policy, facts.grade, facts.change_type, facts.at, lang)
    found: list[Finding | None] = []
    for failure in facts.failures:
        found.append(
            base.finding(
                "gate.error",
                subject=failure.what,
                message=base.text(
                    f"could not read {failure.what}: {failure.error}",
                    f"{failure.what}을(를) 읽을 수 없습니다: {failure.error}",
                ),
                remediation=base.text(
                    "fix the cause and run the gate again; the gate blocks whenever it cannot look",
                    "원인을 해결한 뒤 다시 실행하세요. 확인할 수 없으면 배포는 차단됩니다",
                ),
            )
        )
    for entry in facts.rfcs:
        rfc_ctx = RuleContext(facts.policy, facts.grade, facts.rfc_type(entry), facts.at, lang)
        for rfc_rule in RFC_RULES.values():
            found.extend(rfc_rule(entry, rfc_ctx))
    if facts.window is not None:
        for window_rule in WINDOW_RULES.values():
            found.extend(window_rule(facts.window, base))
    types = {entry.id: facts.rfc_type(entry) for entry in facts.rfcs}
    for approval in facts.approvals:
        rfc_ctx = RuleContext(
            facts.policy, facts.grade, types.get(approval.rfc_id, facts.change_type), facts.at, lang
        )
        for approval_rule in APPROVAL_RULES.values():
            found.extend(approval_rule(approval, rfc_ctx))
    if facts.evidence is not None:
        for test_rule in TEST_RULES.values():
            found.extend(test_rule(facts.evidence, base))
    if facts.deploy is not None:
        for deploy_rule in DEPLOY_RULES.values():
            found.extend(deploy_rule(facts.deploy, base))
    if facts.drift is not None:
        for baseline_rule in BASELINE_RULES.values():
            found.extend(baseline_rule(facts.drift, base))
    return Outcome(
        system=facts.system,
        grade=int(facts.grade),
        change_type=str(facts.change_type),
        rfcs=tuple(entry.id for entry in facts.rfcs),
        findings=tuple(f for f in found if f is not None),
    )


# ---------------------------------------------------------------------------------------------- gather


class _Witness:
    """A ledger reader that remembers every record it hands out: the gate checks each of them."""

    def __init__(self, reader: LedgerReader) -> None:
        self.reader = reader
        self.read: dict[int, Record] = {}

    def _seen(self, records: Iterable[Record]) -> Iterator[Record]:
        for record in records:
            self.read.setdefault(record.seq, record)
            yield record

    def head(self) -> Record | None:
        record = self.reader.head()
        return None if record is None else next(self._seen([record]))

    def records(self, start_seq: int = 1) -> Iterator[Record]:
        return self._seen(self.reader.records(start_seq))

    def find(self, **filters: Any) -> Iterator[Record]:
        return self._seen(self.reader.find(**filters))


def _confirmed(
    reader: LedgerReader, read: Iterable[Record], checkpoints: CheckpointFile | None, now: datetime
) -> None:
    if not all(callable(getattr(reader, name, None)) for name in ("verify", "extent", "stored")):
        raise LedgerIntegrityError("this ledger cannot verify its hash chain", hint="use a ledger backend")
    confirm_chain(reader, read, checkpoints, now)  # type: ignore[arg-type]


@dataclass
class _Collector:
    failures: list[GatherFailure] = field(default_factory=list)

    def attempt(self, what: str, step: Callable[[], T]) -> T | None:
        """Run one gathering step; an expected failure is recorded (→ gate.error), never ignored."""
        try:
            return step()
        except GatekeeperError as exc:
            self.failures.append(GatherFailure(what, exc.render()))
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            self.failures.append(GatherFailure(what, f"{type(exc).__name__}: {exc}"))
        return None


@dataclass(frozen=True)
class Sources:
    """The adapters the gate reads; commands build them from the runtime, tests may pass their own."""

    root: Path
    env: Mapping[str, str]
    ledger: Callable[[], LedgerReader]
    role_resolver: RoleResolver | None = None
    # Approvals given on GitHub/GitLab (`gate_hook` of gatekeeper.adapters.platforms.github / .gitlab):
    # takes the
    # ledger's approval facts and the head commit, returns them with the platform's decisions merged in.
    platform_approvals: Callable[[tuple[ApprovalFacts, ...], str], tuple[ApprovalFacts, ...]] | None = None
    # Where this machine keeps the ledger's verification checkpoint (None: verify the whole chain).
    checkpoints: CheckpointFile | None = None


def gather(
    config: Config, policy: Policy, request: GateRequest, sources: Sources, now: datetime
) -> GateFacts:
    at = request.at or now
    collect = _Collector()
    system, grade = config.system.id, config.system.grade

    ci = collect.attempt("the CI context", lambda: _ci(sources))
    head = ci.head if ci is not None else ""
    commits = (
        collect.attempt("the commits being deployed", lambda: _commits(sources.root, ci)) if ci else None
    )
    ids = list(request.rfc_ids)
    identities: frozenset[str] = frozenset()
    if commits is not None:
        from gatekeeper.adapters.git import identities as commit_people
        from gatekeeper.domain.rfcid import find_ids

        for commit in commits:
            ids.extend(i for i in find_ids(config.rfc.id_pattern, commit.message) if i not in ids)
        identities = frozenset(commit_people(commits))
    if not ids and commits is not None:
        collect.failures.append(
            GatherFailure(
                "the RFCs of this deployment", "no commit in the range names an RFC and --rfc was not given"
            )
        )
    entries = collect.attempt("the RFC store", lambda: _rfcs(config, sources, ids)) or ()
    change_type = combined_type(e.rfc.type for e in entries if e.rfc is not None)

    window = collect.attempt("the business calendar", lambda: _window(config, policy, at, change_type))
    members = collect.attempt("the role members", lambda: role_members(config.roles, sources.role_resolver))
    reader = collect.attempt("the ledger", sources.ledger)
    approvals: tuple[ApprovalFacts, ...] = ()
    deploy: DeployFacts | None = None
    drift: DriftFacts | None = None
    ledger_evidence: list[Evidence] = []
    if reader is not None:
        witness = _Witness(reader)
        try:
            if ci is not None:
                drift = collect.attempt(
                    "the configuration baseline", lambda: gather_drift(sources.root, config, witness, ci.head)
                )
            ledger_facts = collect.attempt(
                "the ledger records",
                lambda: _ledger_facts(
                    witness,
                    config,
                    policy,
                    at,
                    request.environment,
                    entries,
                    identities,
                    members or {},
                    change_type,
                ),
            )
            if ledger_facts is not None:
                approvals, deploy, ledger_evidence = ledger_facts
            # A ledger whose history was edited by hand cannot vouch for approvals or evidence: every record
            # read is checked against the chain, and the chain against the checkpoint (or in whole).
            collect.attempt(
                "the ledger's hash chain",
                lambda: _confirmed(reader, witness.read.values(), sources.checkpoints, now),
            )
        finally:
            close = getattr(reader, "close", None)
            if callable(close):
                close()
    hook = sources.platform_approvals
    if hook is not None and approvals:
        approvals = collect.attempt("the platform approvals", lambda: hook(approvals, head)) or approvals
    workspace = collect.attempt(
        "the test evidence in the workspace", lambda: _workspace(config, request, sources, head, collect)
    )
    evidence = None
    if ci is not None and workspace is not None and reader is not None:
        evidence = EvidenceFacts(
            head,
            (*workspace, *ledger_evidence),
            tuple(e.id for e in entries if e.rfc is not None and e.rfc.impact.performance),
        )
    return GateFacts(
        system=system,
        grade=grade,
        policy=policy,
        at=at,
        environment=request.environment,
        change_type=change_type,
        head=head,
        rfcs=tuple(entries),
        window=window,
        approvals=approvals if members is not None else (),
        evidence=evidence,
        deploy=deploy,
        drift=drift,
        failures=tuple(collect.failures),
    )


def _ci(sources: Sources) -> Any:
    from gatekeeper.adapters.ci.context import detect_ci

    return detect_ci(sources.env, sources.root)


def _commits(root: Path, ci: Any) -> list[Any]:
    from gatekeeper.adapters.git import iter_commits, resolve_range

    commit_range = resolve_range(root, ci.base, ci.head, ref=ci.ref)
    return list(iter_commits(root, commit_range.revisions))


def _rfcs(config: Config, sources: Sources, ids: list[str]) -> tuple[RfcEntry, ...]:
    from gatekeeper.adapters.rfcstore import open_store
    from gatekeeper.errors import InputError

    store = open_store(sources.root, config, sources.env)
    entries = []
    for rfc_id in ids:
        entry = store.get(rfc_id)
        if entry is None:
            raise InputError(f"RFC {rfc_id} does not exist in the {config.rfc.store} RFC store")
        entries.append(entry)
    return tuple(entries)


def _window(config: Config, policy: Policy, at: datetime, change_type: ChangeType) -> WindowFacts:
    from gatekeeper.domain.calendar import BusinessCalendar
    from gatekeeper.rules.window import window_facts

    return window_facts(BusinessCalendar.from_config(config, policy), at, change_type, config.system.grade)


def _by_rfc(reader: LedgerReader, kind: RecordKind, rfc: str) -> Iterator[Record]:
    return reader.find(rfc=rfc, kind=str(kind))


def _upto(records: Iterable[Record], at: datetime) -> list[Record]:
    # `--at` asks about a moment: records written after it did not exist yet.
    return [r for r in records if r.moment <= at]


def _ledger_facts(
    reader: LedgerReader,
    config: Config,
    policy: Policy,
    at: datetime,
    environment: str,
    entries: tuple[RfcEntry, ...],
    identities: frozenset[str],
    members: Mapping[Role, frozenset[str]],
    change_type: ChangeType,
) -> tuple[tuple[ApprovalFacts, ...], DeployFacts, list[Evidence]]:
    system = config.system.id
    since = at - DEBT_HORIZON

    def decisions(rfc: str) -> tuple[ApprovalDecision, ...]:
        found = _upto(_by_rfc(reader, RecordKind.APPROVAL, rfc), at)
        return tuple(ApprovalDecision.from_record(r, rfc) for r in found if r.system == system)

    approvals = tuple(
        ApprovalFacts(e.id, e.rfc.requester, e.digest, decisions(e.id), identities, members)
        for e in entries
        if e.rfc is not None
    )
    started = _upto(reader.find(kind=str(RecordKind.DEPLOYMENT_STARTED), system=system, since=since), at)
    finished = _upto(reader.find(kind=str(RecordKind.DEPLOYMENT_FINISHED), system=system, since=since), at)
    deployments = [d for d in deployments_from_records(started, finished) if d.environment == environment]
    past_rfcs = sorted({rfc for d in deployments for rfc in d.rfcs})
    pir_done = frozenset(
        rfc
        for rfc in past_rfcs
        if any(r.system == system for r in _upto(_by_rfc(reader, RecordKind.PIR, rfc), at))
    )
    # Only RFCs that may carry a debt need their approvals read: deployed, not yet reviewed.
    pending = sorted(
        {
            rfc
            for d in deployments
            for rfc in d.rfcs
            if rfc not in pir_done or d.change_type is ChangeType.EMERGENCY
        }
    )
    grade = config.system.grade
    cab_reviewed: set[str] = set()
    retro: dict[str, frozenset[str]] = {}
    for rfc in pending:
        rfc_decisions = decisions(rfc)
        normal_ctx = RuleContext(policy, grade, ChangeType.NORMAL, at)
        if str(Step.CAB) in approved_steps(rfc_decisions, normal_ctx):
            cab_reviewed.add(rfc)
        retro[rfc] = approved_steps(rfc_decisions, RuleContext(policy, grade, ChangeType.EMERGENCY, at))
    noticed = frozenset(
        e.id
        for e in entries
        if any(r.system == system for r in _upto(_by_rfc(reader, RecordKind.NOTICE, e.id), at))
    )
    own = config.system.id
    linked = {e.id: linked_parties(e.rfc.impact, own) for e in entries if e.rfc is not None}
    deploy = DeployFacts(
        system=system,
        rfcs=tuple(e.id for e in entries),
        deployments=tuple(deployments),
        cab_reviewed=frozenset(cab_reviewed),
        pir_done=pir_done,
        retro_approved=retro,
        linked=linked,
        noticed=noticed,
    )
    evidence_records = _upto(
        reader.find(kind=str(RecordKind.TEST_EVIDENCE), system=system, since=at - EVIDENCE_HORIZON), at
    )
    return approvals, deploy, [evidence_from_record(r) for r in evidence_records]


def evidence_from_record(record: Record) -> Evidence:
    """A `test.evidence` record as evidence (raises ValueError naming the record when it is malformed)."""
    data: Mapping[str, Any] = record.data
    # `evidence add` stores the sums over its files under `totals`.
    totals = data.get("totals", data)
    try:
        counts = {name: totals[name] for name in ("tests", "passed", "failed", "errors", "skipped")}
        kind = EvidenceKind(data["kind"])
        commit = data["commit"]
    except (KeyError, TypeError, ValueError):
        raise ValueError(f"test.evidence record {record.seq} lacks kind, commit or counts") from None
    if not isinstance(commit, str) or not all(
        isinstance(v, int) and not isinstance(v, bool) for v in counts.values()
    ):
        raise ValueError(f"test.evidence record {record.seq} has a malformed commit or counts")
    return Evidence(kind, f"ledger record {record.seq}", commit, digest=str(data.get("digest", "")), **counts)


def _workspace(
    config: Config, request: GateRequest, sources: Sources, head: str, collect: _Collector
) -> tuple[Evidence, ...]:
    """Reports in the workspace: produced by this job, so they belong to the commit checked out."""
    from gatekeeper.adapters.evidence import parse_report

    wanted = [(s.kind, p, s.format) for s in config.evidence for p in s.paths]
    wanted += [(kind, pattern, "auto") for kind, pattern in request.evidence]
    items: list[Evidence] = []
    root = sources.root.resolve()
    for kind, pattern, report_format in wanted:
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            raise ValueError(f"evidence path {pattern!r} must be relative to the repository, without '..'")
        for path in sorted(root.glob(pattern)):
            if not path.is_file() or not path.resolve().is_relative_to(root):
                continue
            shown = str(path.relative_to(root))
            summary = collect.attempt(f"test evidence {shown}", partial(parse_report, path, report_format))
            if summary is not None:
                items.append(
                    Evidence(
                        kind,
                        shown,
                        head,
                        summary.tests,
                        summary.passed,
                        summary.failed,
                        summary.errors,
                        summary.skipped,
                        summary.digest,
                    )
                )
    return tuple(items)


__all__ = [
    "DEFAULT_ENVIRONMENT",
    "GateFacts",
    "GateRequest",
    "GatherFailure",
    "PastDeployment",
    "Sources",
    "combined_type",
    "evaluate",
    "gather",
]
