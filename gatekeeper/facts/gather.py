"""The gate's facts: gathered once through the adapters, then handed to the pure rules (`checks.gate`).

`gather` talks to git, the RFC store, the ledger, the workspace's test reports and the calendar. Each of
those steps either yields its facts or a `GatherFailure` naming what failed; `checks.gate.evaluate` turns
every failure into a `gate.error` finding, so the gate never passes because it could not look (DESIGN §1).

The ledger is read through indexed `find` queries — by RFC for approvals, PIRs and notices, by kind,
system and a time horizon for deployments and evidence — and what they return is folded into one
`History` (`facts.history`), the same fold the audit runs over the whole ledger: so the audit, re-running
the rules at a deployment, reads the facts the gate read. `decision_facts` is what `deploy start` records
of them.
"""

from __future__ import annotations

import hashlib
import subprocess
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from functools import partial
from pathlib import Path
from typing import Any, TypeVar

from gatekeeper.config.models import Config, Policy
from gatekeeper.domain import ChangeType, EvidenceKind, Grade, Outcome, RecordKind, Role, SystemRelease
from gatekeeper.domain.baseline import DriftFacts
from gatekeeper.domain.environments import EnvironmentKind, job_environment_conflict
from gatekeeper.domain.governance import GovernanceChange
from gatekeeper.domain.records import (
    CountedApproval,
    DecisionFacts,
    DeploymentStarted,
    Entry,
    RecordedFinding,
    TestEvidence,
    entry_of,
)
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.domain.standard import StandardCheck, effective_types
from gatekeeper.errors import GatekeeperError, InputError, LedgerIntegrityError
from gatekeeper.facts.baseline import baseline_judge, gather_drift
from gatekeeper.facts.history import (
    CLOSURE_KINDS,
    DEBT_HORIZON,
    EVIDENCE_HORIZON,
    INCIDENT_KINDS,
    History,
)
from gatekeeper.facts.history import emergency_incidents as _emergency_incidents
from gatekeeper.ledger import LedgerReader, Record, canonical_json
from gatekeeper.ledger.checkpoint import CheckpointFile, confirm_chain
from gatekeeper.messages import msg
from gatekeeper.rules import RuleContext
from gatekeeper.rules.approval import ApprovalFacts, RoleResolver, latest_decisions, login_key
from gatekeeper.rules.calendar import CollisionFacts
from gatekeeper.rules.deploy import DeployFacts, deployment_attestation
from gatekeeper.rules.tests import Evidence, EvidenceFacts, RefusedReport, counted_seqs
from gatekeeper.rules.window import WindowFacts

DEFAULT_ENVIRONMENT = "production"

T = TypeVar("T")


@dataclass(frozen=True)
class GateRequest:
    environment: str = DEFAULT_ENVIRONMENT
    rfc_ids: tuple[str, ...] = ()
    at: datetime | None = None
    evidence: tuple[tuple[EvidenceKind, str], ...] = ()  # extra (kind, glob) report paths
    # The artefacts being deployed, NAME -> `sha256:<hex>` (`--artifact`): what release approvals certified.
    artifacts: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class GatherFailure:
    what: str  # "the ledger", "test evidence reports/unit/a.xml", ...
    error: str
    error_ko: str = ""  # the error and its fix in Korean, where the error says them ("": as `error`)


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
    # Who wrote the change (authors, committers, co-authors, the change request's author) and who held
    # each role: facts from outside the ledger that `deploy start` records (`decision_facts`).
    identities: frozenset[str] = frozenset()
    members: Mapping[Role, frozenset[str]] = field(default_factory=dict)
    # The declared environment's kind (which rules apply), the standard RFCs checked against the
    # catalogue, and the RFCs judged as normal changes because their standard claim does not hold.
    environment_kind: EnvironmentKind = EnvironmentKind.PRODUCTION
    standard: tuple[StandardCheck, ...] = ()
    downgraded: frozenset[str] = frozenset()
    # The governance files the change alters (`rules.governance`), and in CI the default branch and commit
    # whose configuration decided ("main@<sha>"; "" on a workstation, which reads its work tree).
    governance: GovernanceChange | None = None
    governed_by: str = ""
    # The deployment's place on the change calendar, and the other RFCs planned then (`rules.calendar`).
    calendar: CollisionFacts | None = None
    # The artefacts being deployed (`--artifact`), NAME -> `sha256:<hex>`: recorded by `deploy start`.
    artifacts: Mapping[str, str] = field(default_factory=dict)

    def rfc_type(self, entry: RfcEntry) -> ChangeType:
        if entry.id in self.downgraded:
            return ChangeType.NORMAL
        return entry.rfc.type if entry.rfc is not None else self.change_type


def combined_type(types: Iterable[ChangeType]) -> ChangeType:
    """A deployment carrying several RFCs follows the strictest of them; with none, a normal change."""
    kinds = set(types)
    if not kinds or ChangeType.NORMAL in kinds:
        return ChangeType.NORMAL
    return ChangeType.STANDARD if ChangeType.STANDARD in kinds else ChangeType.EMERGENCY


def role_members(
    roles: Mapping[Role, Sequence[str]], resolver: RoleResolver | None = None
) -> dict[Role, frozenset[str]]:
    """Each role's members as login keys, with teams and groups expanded through `resolver`.

    Without a resolver a team cannot be checked: that is an error (the gate fails closed), never an empty
    team.
    """
    members: dict[Role, frozenset[str]] = {}
    for role, entries in roles.items():
        logins: set[str] = set()
        for entry in entries:
            if "/" not in entry:
                logins.add(login_key(entry))
                continue
            if resolver is None:
                raise InputError(
                    msg(
                        "role {role!s} names the team or group {entry!r}, and no platform adapter is "
                        "available here to read its members",
                        role=role,
                        entry=entry,
                    ),
                    hint=msg("run the gate in GitHub Actions or GitLab CI with an API token, or list logins"),
                )
            logins.update(login_key(login) for login in resolver(entry))
        members[Role(role)] = frozenset(logins)
    return members


# ---------------------------------------------------------------------------------------------- sources


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
    reader: LedgerReader, read_records: Iterable[Record], checkpoints: CheckpointFile | None, now: datetime
) -> None:
    if not all(callable(getattr(reader, name, None)) for name in ("verify", "extent", "stored")):
        raise LedgerIntegrityError(
            msg("this ledger cannot verify its hash chain"), hint=msg("use a ledger backend")
        )
    confirm_chain(reader, read_records, checkpoints, now)  # type: ignore[arg-type]


@dataclass
class _Collector:
    failures: list[GatherFailure] = field(default_factory=list)

    def attempt(self, what: str, step: Callable[[], T]) -> T | None:
        """Run one gathering step; an expected failure is recorded (→ gate.error), never ignored."""
        try:
            return step()
        except GatekeeperError as exc:
            self.failures.append(GatherFailure(what, exc.render(), exc.render("ko") if exc.ko else ""))
        except (OSError, ValueError, subprocess.SubprocessError) as exc:
            self.failures.append(GatherFailure(what, f"{type(exc).__name__}: {exc}"))
        return None


# Approvals given on GitHub/GitLab (`gate_hook` of gatekeeper.adapters.platforms.github / .gitlab): takes
# the ledger's approval facts and the head commit, returns them with the platform's decisions merged in.
PlatformHook = Callable[[tuple[ApprovalFacts, ...], str], tuple[ApprovalFacts, ...]]


@dataclass(frozen=True)
class Sources:
    """The adapters the gate reads; commands build them from the runtime, tests may pass their own."""

    root: Path
    env: Mapping[str, str]
    ledger: Callable[[], LedgerReader]
    role_resolver: RoleResolver | None = None
    platform_approvals: PlatformHook | None = None
    # The platform accounts behind commits' emails (`adapters.platforms.<name>.commit_logins`), as login keys.
    commit_logins: Callable[[Sequence[Any]], set[str]] | None = None
    # Where this machine keeps the ledger's verification checkpoint (None: verify the whole chain).
    checkpoints: CheckpointFile | None = None
    # The configuration file's name in `root` (a governance file of its own).
    config_file: str = ".gatekeeper.yml"


# ---------------------------------------------------------------------------------------------- gather


def gather(
    config: Config, policy: Policy, request: GateRequest, sources: Sources, now: datetime
) -> GateFacts:
    at = request.at or now
    # One environment, one name: an undeclared one is an input error (exit 2), before anything is read.
    environment = config.declared_environments().resolve(request.environment)
    collect = _Collector()
    conflict = job_environment_conflict(config.declared_environments(), environment, sources.env)
    if conflict:
        collect.failures.append(GatherFailure("the job's environment", conflict))
    system, grade = config.system.id, config.system.grade

    ci = collect.attempt("the CI context", lambda: _ci(sources))
    head = ci.head if ci is not None else ""
    commits = (
        collect.attempt("the commits being deployed", lambda: _commits(sources.root, ci, config))
        if ci
        else None
    )
    ids = list(request.rfc_ids)
    change: list[Any] = list(commits or ())  # the commits whose people may not approve it
    if commits is not None:
        from gatekeeper.domain.rfcid import find_ids

        for commit in commits:
            ids.extend(i for i in find_ids(config.rfc.id_pattern, commit.message) if i not in ids)
    if not ids and commits is not None:
        collect.failures.append(
            GatherFailure(
                "the RFCs of this deployment", "no commit in the range names an RFC and --rfc was not given"
            )
        )
    if ci is not None and ids:
        # Separation of duties covers the whole change: every commit naming its RFCs, not only this range.
        whole = collect.attempt("the change's commits", lambda: _change_commits(sources.root, ci.head, ids))
        change.extend(whole or ())
    from gatekeeper.adapters.git import identities as commit_people

    identities = frozenset(commit_people(change))
    logins_of = sources.commit_logins
    if change and logins_of is not None:
        # The platform's own account behind each commit email: no other spelling of an author escapes.
        logins = collect.attempt("the platform accounts of the change's authors", lambda: logins_of(change))
        identities = identities.union(logins or ())
    if config.people:
        from gatekeeper.adapters.identity import joined

        identities = joined(identities, config.people)
    stores: list[Any] = []  # the RFC store, opened once: the deployed RFCs and the change calendar read it
    entries = collect.attempt("the RFC store", lambda: _rfcs(config, sources, ids, stores)) or ()
    standard = collect.attempt(
        "the standard-change catalogue", lambda: _standard(config, sources, entries, commits, at)
    )
    altered = (
        collect.attempt("the governance files the change alters", lambda: _governance(config, sources, ci))
        if ci is not None
        else None
    )
    base = config.governing_base
    governance = (
        GovernanceChange(altered, tuple(entries), f"{base.branch} {base.commit[:10]}" if base else "")
        if altered is not None
        else None
    )
    checks = {c.rfc_id: c for c in standard or ()}
    types = effective_types(entries, checks)
    change_type = combined_type(types.values())

    window = collect.attempt("the business calendar", lambda: _window(config, policy, at, change_type))
    planned = (
        collect.attempt("the change calendar", lambda: _planned(config, sources, entries, at, stores))
        if entries
        else None
    )
    members = collect.attempt("the role members", lambda: role_members(config.roles, sources.role_resolver))
    reader = collect.attempt("the ledger", sources.ledger)
    history: History | None = None
    drift: DriftFacts | None = None
    sequence: dict[str, tuple[SystemRelease, ...]] | None = None
    if reader is not None:
        witness = _Witness(reader)
        try:
            if ci is not None:
                verifier = attestor(config, sources, now, witness)
                drift = collect.attempt(
                    "the configuration baseline",
                    lambda: gather_drift(
                        sources.root,
                        config,
                        witness,
                        ci.head,
                        verifier,
                        deployment_attestation(policy, config.system.grade),
                        baseline_judge(policy, config.system.grade, members, verifier),
                    ),
                )
            history = collect.attempt(
                "the ledger records",
                lambda: ledger_history(
                    witness,
                    config,
                    policy,
                    at,
                    entries,
                    attest=attestor(config, sources, now, witness),
                    members=members,
                    requesters=_requesters(config, sources, stores),
                ),
            )
            sequence = collect.attempt(
                "the deployments of the RFCs' other systems",
                lambda: release_sequence(
                    witness,
                    config,
                    entries,
                    at,
                    sequence_verifier(config, policy, sources.root, sources.env, now, witness),
                ),
            )
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
    approvals: tuple[ApprovalFacts, ...] = ()
    deploy: DeployFacts | None = None
    evidence = None
    workspace = collect.attempt(
        "the test evidence in the workspace", lambda: _workspace(config, request, sources, head, collect)
    )
    if history is not None:
        ledger_facts = history.facts_at(
            at,
            environment=environment.name,
            rfcs=entries,
            head=head,
            identities=identities,
            members=members or {},
        )
        approvals, deploy = ledger_facts.approvals, ledger_facts.deploy
        if sequence is not None:
            deploy = replace(deploy, sequence=sequence)
        hook = sources.platform_approvals
        if hook is not None and approvals:
            merged = collect.attempt("the platform approvals", lambda: hook(approvals, head))
            if merged is not None:
                approvals = merged
                identities = identities.union(*(a.identities for a in merged))
        if request.artifacts:  # what the release approvals certified is compared with what is deployed
            approvals = tuple(replace(a, artifacts=dict(request.artifacts)) for a in approvals)
        if ci is not None and workspace is not None:
            produced, refused = workspace
            evidence = replace(
                ledger_facts.evidence, items=(*produced, *ledger_facts.evidence.items), refused=refused
            )
    return GateFacts(
        system=system,
        grade=grade,
        policy=policy,
        at=at,
        environment=environment.name,
        change_type=change_type,
        head=head,
        rfcs=tuple(entries),
        window=window,
        approvals=approvals if members is not None else (),
        evidence=evidence,
        deploy=deploy,
        drift=drift,
        failures=tuple(collect.failures),
        identities=identities,
        members=members or {},
        environment_kind=environment.kind,
        standard=standard or (),
        downgraded=frozenset(i for i, c in checks.items() if not c.holds),
        governance=governance,
        governed_by=f"{base.branch}@{base.commit}" if base is not None else "",
        artifacts=dict(request.artifacts),
        calendar=planned,
    )


def ledger_history(
    reader: LedgerReader,
    config: Config,
    policy: Policy,
    at: datetime,
    entries: Sequence[RfcEntry],
    *,
    attest: Callable[[Any], bool] | None = None,
    members: Mapping[Role, frozenset[str]] | None = None,
    requesters: Callable[[str], str | None] | None = None,
) -> History:
    """This system's records that can bear on a deployment at `at`, folded into a `History`: its
    deployments of the last year, the approvals and PIRs of their RFCs and of the RFCs deployed now, the
    notices of those, and the test evidence of the last 90 days. Raises LedgerIntegrityError naming a
    record whose payload is malformed."""
    system = config.system.id
    found: dict[int, Record] = {}

    def take(records: Iterable[Record]) -> list[Record]:
        # `--at` asks about a moment: records written after it did not exist yet.
        kept = [r for r in records if r.system == system and r.moment <= at]
        for record in kept:
            found[record.seq] = record
        return kept

    since = at - DEBT_HORIZON
    started = take(reader.find(kind=str(RecordKind.DEPLOYMENT_STARTED), system=system, since=since))
    take(reader.find(kind=str(RecordKind.DEPLOYMENT_FINISHED), system=system, since=since))
    deployed = sorted({rfc for record in started for rfc in record.rfcs})
    for rfc in deployed:
        take(reader.find(rfc=rfc, kind=str(RecordKind.PIR)))
    # RFCs whose PIR counts (`rules.deploy.pir_refusal`, as the history judges it) owe no PIR any more.
    reviewed = {
        rfc
        for r in found.values()
        if r.kind == RecordKind.PIR and _counted_pir(r, policy, config.system.grade, members, attest)
        for rfc in r.rfcs
    }
    emergency = {
        rfc for r in started if entry_of(r).payload.change_type is ChangeType.EMERGENCY for rfc in r.rfcs
    }
    # Approvals bear on the RFCs deployed now and on earlier RFCs that may still carry a debt: deployed
    # without their PIR, or emergency changes (reviewed after the fact).
    wanted = [e.id for e in entries] + [r for r in deployed if r not in reviewed or r in emergency]
    for rfc in dict.fromkeys(wanted):
        take(reader.find(rfc=rfc, kind=str(RecordKind.APPROVAL)))
    for entry in entries:
        take(reader.find(rfc=entry.id, kind=str(RecordKind.NOTICE)))
    take(reader.find(kind=str(RecordKind.TEST_EVIDENCE), system=system, since=at - EVIDENCE_HORIZON))
    for kind in INCIDENT_KINDS:  # the incidents an emergency names, and their reports and problems
        take(reader.find(kind=str(kind), system=system, since=since))
    for kind in CLOSURE_KINDS:  # the acceptance, review and closure of the deployments of the last year
        take(reader.find(kind=str(kind), system=system, since=since))
    take(reader.find(kind=str(RecordKind.DELEGATION), system=system))  # who may act as a deputy

    history = History(policy, config.system.grade, system, attest=attest, members=members)
    history.explain = _refusals(attest)
    history.requesters = requesters
    history.environment_kind = config.declared_environments().kind
    history.environment_name = config.declared_environments().canonical
    for seq in sorted(found):
        history.add(entry_of(found[seq]))
    return history


def release_sequence(
    reader: LedgerReader,
    config: Config,
    entries: Sequence[RfcEntry],
    at: datetime,
    verify: Callable[[Entry[Any], str], tuple[str, str] | None] | None = None,
) -> dict[str, tuple[SystemRelease, ...]]:
    """For each RFC deployed now whose `systems` list names other systems before this one (CHG-PLAN:
    deployed one after another): how each one's latest production deployment of the RFC stands at `at`
    (`verify`: see `system_states`)."""
    from gatekeeper.rules.deploy import earlier_systems

    found: dict[str, tuple[SystemRelease, ...]] = {}
    for entry in entries:
        earlier = earlier_systems(entry.rfc.systems, config.system.id) if entry.rfc is not None else ()
        if earlier:
            found[entry.id] = system_states(reader, config, entry.id, earlier, at, verify)
    return found


def system_states(
    reader: LedgerReader,
    config: Config,
    rfc: str,
    systems: Sequence[str],
    at: datetime,
    verify: Callable[[Entry[Any], str], tuple[str, str] | None] | None = None,
) -> tuple[SystemRelease, ...]:
    """How the latest production deployment of `rfc` to each of `systems` stands at `at`, read from the
    ledger the systems share (every record carries its system): "none", "open" or its result. `verify`:
    where the pack requires deployment records signed by the deploying job, why a record does not verify
    against its system's repository (`systems:` registry; en, ko; None when it does): such a record counts for
    nothing, and a system whose repository is not registered is "unverified"."""
    from gatekeeper.domain.environments import EnvironmentKind

    environments = config.declared_environments()
    # The repository whose jobs sign each other system's records; None: unknown. This system's own records
    # are not checked here: its gate reads them through `facts.history.History.deployment_counts`.
    repositories: dict[str, str | None] = {s.id: s.repository for s in config.systems}
    repositories[config.system.id] = ""
    ignored: dict[str, tuple[str, str]] = {}

    def counts(record: Record, entry: Entry[Any]) -> bool:
        if verify is None or record.system == config.system.id:
            return True
        why = verify(entry, repositories.get(record.system) or "")
        if why is not None:
            ignored[record.system] = msg(
                "{kind} record {seq} was ignored: {why}",
                kind=record.kind,
                seq=record.seq,
                why=why[0],
                why_ko=why[1],
            ).pair
        return why is None

    latest: dict[str, Record] = {}
    for record in reader.find(rfc=rfc, kind=str(RecordKind.DEPLOYMENT_STARTED)):
        if record.system not in systems or record.moment > at:
            continue
        if verify is not None and repositories.get(record.system) is None:
            continue  # judged "unverified" below
        entry = entry_of(record)
        if environments.kind(entry.payload.environment) is not EnvironmentKind.PRODUCTION:
            continue
        if (record.system not in latest or record.seq > latest[record.system].seq) and counts(record, entry):
            latest[record.system] = record
    results = {}
    for record in reader.find(rfc=rfc, kind=str(RecordKind.DEPLOYMENT_FINISHED)):
        if record.system in latest and record.moment <= at:
            entry = entry_of(record)
            if entry.payload.started == latest[record.system].id and counts(record, entry):
                results[entry.payload.started] = str(entry.payload.result)
    found = []
    for system in systems:
        if verify is not None and repositories.get(system) is None:
            found.append(SystemRelease(system, "unverified"))
        elif system not in latest:
            en, ko = ignored.get(system, ("", ""))
            found.append(SystemRelease(system, "none", ignored=en, ignored_ko=ko))
        else:
            start = latest[system]
            state = results.get(start.id, "open")
            en, ko = ignored.get(system, ("", ""))
            found.append(SystemRelease(system, state, start.id, en, ko))
    return tuple(found)


def sequence_verifier(
    config: Config, policy: Policy, root: Path, env: Mapping[str, str], now: datetime, reader: LedgerReader
) -> Callable[[Entry[Any], str], tuple[str, str] | None] | None:
    """Where the pack requires deployment records signed by the deploying job (`rules.deploy.
    deployment_attestation`): why another system's deployment record does not verify against that
    system's repository (en, ko; None when it does; `adapters.oidc.Attestor.vouches`). None: not
    required."""
    from gatekeeper.adapters.oidc import Attestor

    if deployment_attestation(policy, config.system.grade) != "required":
        return None
    verifier = Attestor(config, root, env, now, ledger=reader)

    def why(entry: Entry[Any], repository: str) -> tuple[str, str] | None:
        verdict = verifier.vouches(entry, repository)
        return None if verdict.ok else verdict.reasons

    return why


def _counted_pir(
    record: Record,
    policy: Policy,
    grade: Grade,
    members: Mapping[Role, frozenset[str]] | None,
    attest: Callable[[Any], bool] | None,
) -> bool:
    from gatekeeper.rules.deploy import pir_refusal

    entry = entry_of(record)
    attested = None if attest is None else attest(entry)
    return (
        pir_refusal(policy, grade, members, entry.actor, entry.actor_source, entry.payload, attested) is None
    )


def attestor(config: Config, sources: Sources, now: datetime, reader: LedgerReader) -> Callable[[Any], bool]:
    """The verifier of records' attestations and signatures (`adapters.oidc.Attestor`) for records read
    from `reader`."""
    from gatekeeper.adapters.oidc import Attestor

    return Attestor(config, sources.root, sources.env, now, ledger=reader)


def _refusals(attest: Callable[[Any], bool] | None) -> Callable[[Any], tuple[str, str] | None] | None:
    """Why a record the attestor did not count does not, where its key is the reason
    (`adapters.oidc.refusal_of`)."""
    if attest is None:
        return None
    from gatekeeper.adapters.oidc import refusal_of

    return refusal_of(attest)


def _change_commits(root: Path, head: str, rfc_ids: Sequence[str]) -> list[Any]:
    """Every commit of the change: reachable from `head`, naming one of its RFCs (`adapters.git`)."""
    from gatekeeper.adapters.git import change_commits

    return change_commits(root, head, rfc_ids)


def _ci(sources: Sources) -> Any:
    from gatekeeper.adapters.ci.context import detect_ci

    return detect_ci(sources.env, sources.root)


def _commits(root: Path, ci: Any, config: Config) -> list[Any]:
    """The commits being deployed, without the history before governance started (`facts.adoption`):
    their authors may not approve the change, and the RFCs they name are the deployment's."""
    from gatekeeper.adapters.git import iter_commits, resolve_range
    from gatekeeper.facts.adoption import governed_revisions, known_adoption_commit

    commit_range = resolve_range(root, ci.base, ci.head, ref=ci.ref)
    if config.adoption is not None:
        known_adoption_commit(root, config.adoption)
    return list(iter_commits(root, governed_revisions(config.adoption, commit_range.revisions)))


def _governance(config: Config, sources: Sources, ci: Any) -> tuple[str, ...]:
    """The governance files the deployed change alters: against the protected base in CI, and in each
    commit of the deployed range (`adapters.governance`)."""
    from gatekeeper.adapters.git import resolve_range
    from gatekeeper.adapters.governance import governance_changes, scope_for
    from gatekeeper.facts.adoption import governed_revisions

    scope = scope_for(sources.root, config, sources.config_file)
    commit_range = resolve_range(sources.root, ci.base, ci.head, ref=ci.ref)
    base = config.governing_base
    return governance_changes(
        scope,
        base=base.commit if base is not None else None,
        head=ci.head,
        revisions=governed_revisions(config.adoption, commit_range.revisions),
    )


def _store(config: Config, sources: Sources, stores: list[Any]) -> Any:
    """The RFC store, opened on first use and kept in `stores` (one listing of a platform's issues)."""
    from gatekeeper.adapters.rfcstore import open_store

    if not stores:
        stores.append(open_store(sources.root, config, sources.env))
    return stores[0]


def _requesters(config: Config, sources: Sources, stores: list[Any]) -> Callable[[str], str | None]:
    """The requester of an RFC of the store (who may accept its release: rules.closure), None when the store
    holds no valid RFC of that ID or cannot be read."""
    found: dict[str, str | None] = {}

    def requester(rfc_id: str) -> str | None:
        if rfc_id not in found:
            try:
                entry = _store(config, sources, stores).get(rfc_id)
            except Exception:  # an unreadable store names no requester; the roles still count
                entry = None
            found[rfc_id] = str(entry.rfc.requester) if entry is not None and entry.rfc is not None else None
        return found[rfc_id]

    return requester


def _rfcs(config: Config, sources: Sources, ids: list[str], stores: list[Any]) -> tuple[RfcEntry, ...]:
    store = _store(config, sources, stores)
    entries = []
    for rfc_id in ids:
        entry = store.get(rfc_id)
        if entry is None:
            raise InputError(
                msg(
                    "RFC {rfc_id} does not exist in the {store} RFC store",
                    rfc_id=rfc_id,
                    store=config.rfc.store,
                ),
                hint=msg("check the ID, or create the RFC with `gatekeeper rfc new`"),
            )
        entries.append(entry)
    return tuple(entries)


def _planned(
    config: Config, sources: Sources, entries: Sequence[RfcEntry], at: datetime, stores: list[Any]
) -> CollisionFacts:
    """The collisions of this deployment with the other active RFCs of the store (`rules.calendar`)."""
    from zoneinfo import ZoneInfo

    from gatekeeper.rules.calendar import collision_facts

    store = _store(config, sources, stores)
    deployed = [(e.id, e.rfc) for e in entries if e.rfc is not None]
    others = [(e.id, e.rfc) for e in store.entries() if e.rfc is not None]
    return collision_facts(deployed, others, at, ZoneInfo(config.timezone))


def _standard(
    config: Config, sources: Sources, entries: Sequence[RfcEntry], commits: Any, at: datetime
) -> tuple[StandardCheck, ...]:
    from gatekeeper.facts.standard import gather_standard

    return gather_standard(sources.root, config, entries, commits, at)


def _window(config: Config, policy: Policy, at: datetime, change_type: ChangeType) -> WindowFacts:
    from gatekeeper.domain.calendar import BusinessCalendar
    from gatekeeper.rules.window import window_facts

    return window_facts(BusinessCalendar.from_config(config, policy), at, change_type, config.system.grade)


def _workspace(
    config: Config, request: GateRequest, sources: Sources, head: str, collect: _Collector
) -> tuple[tuple[Evidence, ...], tuple[RefusedReport, ...]]:
    """Reports in the workspace that this job produced — so they belong to the commit checked out — and the
    ones it did not: a file git tracks was committed, not produced; a file older than the checkout was left
    by an earlier job (REL-P1: evidence is produced by this job)."""
    from gatekeeper.adapters.evidence import parse_report
    from gatekeeper.adapters.git import checkout_time, tracked

    wanted = [(s.kind, p, s.format) for s in config.evidence for p in s.paths]
    wanted += [(kind, pattern, "auto") for kind, pattern in request.evidence]
    root = sources.root.resolve()
    found: list[tuple[EvidenceKind, Path, str, str]] = []
    for kind, pattern, report_format in wanted:
        if Path(pattern).is_absolute() or ".." in Path(pattern).parts:
            raise ValueError(f"evidence path {pattern!r} must be relative to the repository, without '..'")
        for path in sorted(root.glob(pattern)):
            if not path.is_file() or not path.resolve().is_relative_to(root):
                continue
            found.append((kind, path, path.relative_to(root).as_posix(), report_format))
    if not found:
        return (), ()
    committed = tracked(root, [shown for _, _, shown, _ in found])
    checked_out = checkout_time(root)
    items: list[Evidence] = []
    refused: list[RefusedReport] = []
    for kind, path, shown, form in found:
        if shown in committed:
            refused.append(RefusedReport(kind, shown, "tracked"))
            continue
        if checked_out is not None and path.stat().st_mtime < checked_out:
            refused.append(RefusedReport(kind, shown, "older"))
            continue
        summary = collect.attempt(f"test evidence {shown}", partial(parse_report, path, form))
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
    return tuple(items), tuple(refused)


# ---------------------------------------------------------------------------------------------- recording


def model_digest(model: Any) -> str:
    """SHA-256 over the canonical JSON of a validated configuration or policy: what was in force."""
    body = canonical_json(model.model_dump(mode="json"))
    return "sha256:" + hashlib.sha256(body.encode("utf-8")).hexdigest()


def workspace_evidence(facts: GateFacts) -> list[TestEvidence]:
    """The workspace reports the gate counted, as `test.evidence` payloads for `deploy start` to record
    before the deployment, each report once (one the ledger holds already with the same digest and counts
    is not recorded again: `deploy start` names that record)."""
    if facts.evidence is None:
        return []
    recorded: set[tuple[str, str, str]] = set()
    out = []
    for item in facts.evidence.for_head():
        key = (str(item.kind), item.commit.lower(), item.digest)
        if item.seq or key in recorded:
            continue
        recorded.add(key)
        files = ({"path": item.source, "digest": item.digest, **item.counts.dump()},)
        out.append(
            TestEvidence(item.kind, item.commit.lower(), item.counts, files, item.digest, None, "workspace")
        )
    return out


def decision_facts(
    facts: GateFacts, outcome: Outcome, evidence_seqs: Iterable[int], config: Config, policy: Policy
) -> DecisionFacts:
    """What `deploy start` records of the facts it decided on (see `DecisionFacts`)."""
    ctx = RuleContext(facts.policy, facts.grade, facts.change_type, facts.at)
    counted: list[CountedApproval] = []
    for approval in facts.approvals:
        latest = latest_decisions(approval.decisions, ctx)
        for decision in approval.decisions:
            # Every platform decision (the audit replays them after the ledger's, as the gate merged
            # them); of the ledger's, those that decided a step.
            if decision.on_platform or latest.get(decision.step) is decision:
                counted.append(
                    CountedApproval(
                        approval.rfc_id,
                        decision.step,
                        decision.decision,
                        decision.actor,
                        decision.actor_source,
                        decision.at,
                        decision.digest,
                        0 if decision.on_platform else decision.seq,
                        decision.record_id if decision.on_platform else "",
                        decision.commit,
                    )
                )
    return DecisionFacts(
        at=facts.at,
        rfc_digests={e.id: e.digest for e in facts.rfcs if e.rfc is not None},
        approvals=tuple(counted),
        evidence=tuple(sorted(set(evidence_seqs))),
        identities=facts.identities,
        members={str(role): logins for role, logins in facts.members.items()},
        config_digest=model_digest(config),
        policy=policy.name,
        policy_digest=model_digest(policy),
        findings=tuple(RecordedFinding(f.rule, f.severity, f.subject) for f in outcome.findings),
    )


def started_payload(
    facts: GateFacts, outcome: Outcome, recorded: Iterable[int], config: Config, policy: Policy
) -> DeploymentStarted:
    """The `deployment.started` payload `deploy start` records for an allowed deployment: what it decided
    on, naming the evidence it counted from the ledger and the reports it recorded (`recorded`: seqs)."""
    # The ledger evidence the test rules counted (as `checks.gate` runs them: the deployment's change type).
    ctx = RuleContext(facts.policy, facts.grade, facts.change_type, facts.at)
    counted = counted_seqs(facts.evidence, ctx) if facts.evidence is not None else []
    return DeploymentStarted(
        environment=facts.environment,
        change_type=facts.change_type,
        commit=facts.head,
        warnings=tuple(sorted({f.rule for f in outcome.findings})),
        decided=decision_facts(facts, outcome, [*counted, *recorded], config, policy),
        incident=next(iter(_emergency_incidents(facts.rfcs).values()), ""),
        artifacts=dict(facts.artifacts),
    )
