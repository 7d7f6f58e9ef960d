"""SOP KPIs and the four DORA keys, computed from ledger records (DESIGN §3 ids, contract).

The computation has two halves. `Tally` holds additive counters for one system and one month; a
`TallyBuilder` fills tallies from a stream of typed records in seq order, keeping only what is still open
(failed deployments not yet restored, incidents not yet resolved), so memory does not grow with the ledger.
SQL backends only extract the records (`gatekeeper.ledger.sql_read`, `sql_tallies`): the definitions are
these, once. Deployments and test evidence, most of what the tallies read, are read as summaries (only
the members counted, `domain.records.parse_summary`) by every reader alike.
`evaluate` then turns summed tallies into KPI values with the pack's targets. Everything here is pure:
records and facts in, values out.

Definitions (per system, per month of the system's time zone), each the seed's formula (seed 002; the
README's KPI table cites the line of each, `domain.catalogue.KPI_FORMULAS`):
- a *deployment* is a `deployment.finished` record whose result is not `aborted` (an aborted deployment
  changed nothing); success rate = successes ÷ deployments (002:552); rollback rate = rolled-back ÷
  deployments (002:554);
- deployment failure rate = deployments after which an incident occurred ÷ deployments (002:553: 장애 발생
  배포 수): those that failed or were rolled back, and successful ones an incident then named — by its
  `deployment_id` (the environment's latest successful deployment) or by an RFC (the latest successful
  deployment of that RFC) — each deployment once, in its own month;
- a *post-deployment defect* is an `incident.opened` record not opened by a failed deployment;
  defect rate = defects ÷ all deployments (002:555);
- MTTR = the mean 장애 시간 of the incidents resolved (SOP INC, seed 002 장애관리 line ~1235 and 불임1
  ~1389–1391: from 장애 발생일시 to 장애 종료일시), counted in the month the incident occurred: one figure,
  `domain.incident.recovery_minutes` over the incident as the one history folds it (`facts.history`):
  occurred at `occurred_at` (else detected, else recorded), resolved by `incident close` (or the
  `resolved_at` it was opened with, as a rollback is), else — for an incident a failed deployment opened —
  by the environment's next successful deployment. The 장애보고서 shows the same minutes;
- change on-time rate = change requests whose first successful deployment finished by the end of their
  requested day ÷ change requests due (002:391: 변경 요청 건수), in the month of the requested day: every
  RFC with a requested date in the period, deployed or not, once its day has ended by the end of the
  period (`until`, else the injected `now`; neither: every one); one deployed in time counts at once;
- test success rate = passed ÷ (passed + failed + errors) over `test.evidence` (002:742);
- test coverage = functional coverage (002:743: 테스트 수행 가능 수 / 전체 기능 수): of the RFCs first
  deployed successfully in the month, the test cases executed ÷ the test cases their RFCs plan
  (`tests.planned`, per kind), where the cases executed of a kind are the most any one `test.evidence`
  record naming the RFC ran (before the end of the period, acceptance in production included), at most
  the plan;
- audit execution rate = audits performed ÷ audits planned (002:1022): `audit_plan` plans `count` audits
  per month, quarter or year (counted in the period's last month, once it has ended or has an audit), and
  the `audit.run` records of the period count up to that; without a plan, one audit in each month with
  deployments;
- configuration integrity = intact ÷ checked configuration items of the month's last audit (002:1023);
  configuration error detection rate = configuration errors the audit detected (changed items no RFC
  explains) ÷ changed items of the month's last audit (002:1024);
- DORA: deployment frequency = successful deployments; lead time = mean hours from commit to successful
  deployment; change failure rate = deployments that caused a failure in production ÷ deployments (the
  deployment failure rate's count: one figure); time to restore service = MTTR (DORA's time to restore is
  the time to recover from a failure or defect in production: the SOP's 장애 시간, so one figure, not a
  second computation).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gatekeeper.config.models import AuditPlan, KpiTarget, Policy
from gatekeeper.domain import DeploymentResult, RecordKind
from gatekeeper.domain.catalogue import KPI_CATALOGUE
from gatekeeper.domain.incident import IncidentState
from gatekeeper.domain.records import (
    AuditRun,
    DeploymentFinished,
    DeploymentStarted,
    Entry,
    IncidentClosed,
    IncidentOpened,
    IncidentUpdated,
    PayloadError,
    TestEvidence,
    read,
)
from gatekeeper.facts.history import History
from gatekeeper.ledger import Record
from gatekeeper.rules.deploy import UnsignedDeployment

FAILED = frozenset({DeploymentResult.FAILURE, DeploymentResult.ROLLED_BACK})


@dataclass
class Tally:
    """Additive counters for one system and one month."""

    deployments: int = 0
    successes: int = 0
    failures: int = 0  # failure + rolled-back
    failed_after: int = 0  # successful deployments an incident then named
    rollbacks: int = 0
    incidents: int = 0
    defects: int = 0
    recover_minutes: float = 0.0
    recovered: int = 0
    lead_hours: float = 0.0
    lead_count: int = 0
    changes_due: int = 0
    changes_on_time: int = 0
    tests_run: int = 0
    tests_passed: int = 0
    cases_planned: int = 0
    cases_executed: int = 0
    audits: int = 0
    audits_planned: int = 0
    audits_performed: int = 0
    items_checked: int = 0
    items_intact: int = 0
    items_changed: int = 0
    items_errors: int = 0

    def add(self, other: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))


@dataclass(frozen=True)
class KpiValue:
    id: str
    value: float | None
    unit: str
    target: str | None
    met: bool | None
    sop: str
    numerator: float | None
    denominator: float | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "value": self.value,
            "unit": self.unit,
            "target": self.target,
            "met": self.met,
            "sop": self.sop,
            "numerator": self.numerator,
            "denominator": self.denominator,
        }

    def label(self, lang: str) -> str:
        return KPI_CATALOGUE[self.id][2].said(lang)


@dataclass(frozen=True)
class KpiReport:
    system: str
    since: datetime | None
    until: datetime | None
    kpis: tuple[KpiValue, ...]
    months: tuple[tuple[str, str, tuple[KpiValue, ...]], ...]  # (system, YYYY-MM, values)
    # The deployment results of the period that count in no KPI, where the pack requires the deploying
    # job's signature (`History.deployment_counts`), and why.
    unverified: tuple[UnsignedDeployment, ...] = ()

    @property
    def ok(self) -> bool:
        return all(k.met is not False for k in self.kpis)

    def as_dict(self) -> dict[str, Any]:
        return {
            "ok": self.ok,
            "period": {
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
            },
            "system": self.system,
            "kpis": [k.as_dict() for k in self.kpis],
            "months": [
                {"system": system, "month": month, "kpis": [k.as_dict() for k in values]}
                for system, month, values in self.months
            ],
            "unverified": [
                {
                    "seq": u.seq,
                    "kind": u.kind,
                    "deployment": u.deployment,
                    "at": u.moment.isoformat(),
                    "reason": u.reason,
                    "reason_ko": u.reasons[1],
                }
                for u in self.unverified
            ],
        }


# ------------------------------------------------------------------------------------------ reading records


def month_of(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m")


CommitTimes = Callable[[str], datetime | None]


def _no_commit_times(_sha: str) -> datetime | None:
    return None


@dataclass(slots=True)
class _Deployed:
    """A successful deployment an incident may still name: its tally key, and whether one already did."""

    id: str
    key: tuple[str, str]
    named: bool = False


def _next_month(year: int, month: int) -> tuple[int, int]:
    return (year + month // 12, month % 12 + 1)


PERIOD_MONTHS = {"month": 1, "quarter": 3, "year": 12}


@dataclass
class TallyBuilder:
    """Fills per-(system, month) tallies from typed records in seq order, holding only what is still open.
    Deployments are paired, and failures told from other incidents, by the one history (`facts.history`).
    What it keeps per RFC (first successful deployment, latest successful deployment, tests executed) is
    bounded by the RFCs, not by the records."""

    zone: ZoneInfo
    since: datetime | None = None
    until: datetime | None = None
    due: Mapping[str, datetime] = field(default_factory=dict)  # RFC id -> requested date/time
    commit_time: CommitTimes = _no_commit_times
    # RFC id -> test kind -> test cases its plan defines (`tests.planned`)
    planned: Mapping[str, Mapping[str, int]] = field(default_factory=dict)
    now: datetime | None = None  # the injected clock: the end of an open period
    audit_plan: AuditPlan | None = None
    system: str = ""  # the system the tallies are of ("": the first record's)
    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)
    # Deployments are paired by this history; one given a verifier and the pack's deployment attestation
    # (`kpi_history`) counts a deployment's result only where the gate does (`History.deployment_counts`).
    history: History = field(default_factory=lambda: History(None, None))
    _unresolved: dict[str, IncidentState] = field(default_factory=dict)  # incident ID -> not yet resolved
    _first_success: dict[str, datetime] = field(default_factory=dict)  # RFC -> its first successful finish
    _last_success: dict[str, _Deployed] = field(default_factory=dict)  # RFC -> latest successful deployment
    _env_success: dict[str, _Deployed] = field(default_factory=dict)  # environment -> the same
    _executed: dict[str, dict[str, int]] = field(default_factory=dict)  # RFC -> kind -> most executed
    _last_audit: dict[tuple[str, str], tuple[int, int, int, int]] = field(default_factory=dict)
    # The last month looked up: [start, end) in UTC and its label. Records come in seq order, so nearly
    # every record falls in the month of the one before; `month_of` formats only when the month changes.
    _month: tuple[datetime, datetime, str] | None = None

    def _month_of(self, moment: datetime) -> str:
        last = self._month
        if last is not None and last[0] <= moment < last[1]:
            return last[2]
        local = moment.astimezone(self.zone)
        # In UTC: a record's time compares with them without asking the zone for its offset.
        start = datetime(local.year, local.month, 1, tzinfo=self.zone).astimezone(UTC)
        end = datetime(*_next_month(local.year, local.month), 1, tzinfo=self.zone).astimezone(UTC)
        label = month_of(moment, self.zone)
        self._month = (start, end, label)
        return label

    def _tally(self, system: str, moment: datetime) -> Tally:
        return self._at((system, self._month_of(moment)))

    def _at(self, key: tuple[str, str]) -> Tally:
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally()
        return tally

    def _inside(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)

    def feed(self, records: Iterable[Record]) -> TallyBuilder:
        """Whole records, deployments and test evidence read as summaries (`records.parse_summary`: what
        the tallies read); one whose payload does not read counts for nothing (the audit reports it)."""
        summary = not verifies(self.history)  # signed records are verified whole
        for record in records:
            if self.until is not None and record.moment >= self.until:
                continue
            try:
                entry = read(record, summary=summary)
            except PayloadError:
                continue
            self.add(entry)
        return self

    def feed_events(self, events: Iterable[Any]) -> TallyBuilder:
        """What a SQL backend hands over (`ledger.sql_read`): typed entries, and records that do not read."""
        for event in events:
            if isinstance(event, Entry):
                self.add(event)
        return self

    def add(self, entry: Entry[Any]) -> None:
        if not self.system:
            self.system = entry.system
        payload = entry.payload
        kind = type(payload)
        if kind is DeploymentStarted:
            self.history.deployment_counts(entry)  # a signed start: only a signed result closes it
            self.history.started(entry, payload)
        elif kind is DeploymentFinished:
            if self.history.deployment_counts(entry):  # a forged result counts in no KPI
                self._finished(entry, payload)
            elif self.history.ends_unverified(entry):
                self._unverified(entry, payload)
        elif kind is TestEvidence:
            self._evidence(entry, payload)
        elif kind is IncidentOpened:
            self._incident(entry, payload)
        elif kind is IncidentClosed or kind is IncidentUpdated:
            self.history.add(entry)
            self._recovered()
        elif kind is AuditRun:
            self._audit(entry, payload)

    def _finished(self, entry: Entry[Any], payload: DeploymentFinished) -> None:
        deployment = self.history.finished(entry, payload)
        result, moment = payload.result, entry.moment
        inside = self._inside(moment)
        if result is DeploymentResult.SUCCESS:
            self._recovered()  # the history resolved the incidents this deployment restored
            for rfc in entry.rfcs:
                self._first_success.setdefault(rfc, moment)
        if not inside or result is DeploymentResult.ABORTED:
            return
        tally = self._tally(entry.system, moment)
        tally.deployments += 1
        if result is DeploymentResult.SUCCESS:
            tally.successes += 1
            started_commit = deployment.commit if deployment is not None else ""
            self._lead_time(tally, payload, moment, started_commit)
            deployed = _Deployed(payload.started, (entry.system, self._month_of(moment)))
            for rfc in entry.rfcs:
                self._last_success[rfc] = deployed
            environment = deployment.environment if deployment is not None else ""
            self._env_success[environment] = deployed
        else:
            tally.failures += 1
            tally.rollbacks += result is DeploymentResult.ROLLED_BACK

    def _unverified(self, entry: Entry[Any], payload: DeploymentFinished) -> None:
        """A result that ends a deployment no job is shown to have started, where the pack requires
        signatures (`History.deployment_counts`). A success or an abort counts in no KPI (nothing shows it
        happened). A failure or rollback counts as a failed deployment all the same: a real failure reported
        by a job without an ID token must not vanish and flatter the rates, and a forged one only makes them
        worse. It opens no incident of its own (the incident record does) and restores no service."""
        ended = self.history.finished(entry, payload, verified=False)
        if ended is None or not self._inside(entry.moment) or payload.result not in FAILED:
            return
        tally = self._tally(entry.system, entry.moment)
        tally.deployments += 1
        tally.failures += 1
        tally.rollbacks += payload.result is DeploymentResult.ROLLED_BACK

    def _recovered(self) -> None:
        """Count the incidents that have a resolution now: their 장애 시간, in the month they occurred."""
        for ident, state in list(self._unresolved.items()):
            minutes = state.minutes
            if minutes is None:
                continue
            del self._unresolved[ident]
            if self._inside(state.start):
                tally = self._tally(state.system, state.start)
                tally.recover_minutes += minutes
                tally.recovered += 1

    def _lead_time(self, tally: Tally, payload: DeploymentFinished, moment: datetime, started: str) -> None:
        committed = payload.commit_at
        sha = payload.commit or started
        if committed is None and sha:
            committed = self.commit_time(sha)
        if committed is not None and committed <= moment:
            tally.lead_hours += (moment - committed).total_seconds() / 3600
            tally.lead_count += 1

    def _incident(self, entry: Entry[Any], payload: IncidentOpened) -> None:
        self.history.opened_incident(entry)
        state = self.history.incidents.get(payload.incident_id or entry.id)
        if state is not None and state.record_id == entry.id:
            self._unresolved[state.id] = state
            self._recovered()
        by_failure = self.history.opened_by_failure(payload)
        if not by_failure:
            self._named_deployments(entry.rfcs, payload.deployment_id)
        if not self._inside(entry.moment):
            return
        tally = self._tally(entry.system, entry.moment)
        tally.incidents += 1
        if not by_failure:
            tally.defects += 1

    def _named_deployments(self, rfcs: tuple[str, ...], deployment_id: str | None) -> None:
        """A successful deployment an incident names (by id, or through an RFC) is one after which an
        incident occurred (002:553), counted once in its own month."""
        named = [self._last_success.get(rfc) for rfc in rfcs]
        if deployment_id:
            named += [d for d in self._env_success.values() if d.id == deployment_id]
        for deployed in named:
            if deployed is not None and not deployed.named:
                deployed.named = True
                self._at(deployed.key).failed_after += 1

    def _evidence(self, entry: Entry[Any], payload: TestEvidence) -> None:
        for rfc in entry.rfcs:
            if rfc in self.planned:
                executed = self._executed.setdefault(rfc, {})
                kind = str(payload.kind)
                executed[kind] = max(executed.get(kind, 0), payload.counts.executed)
        if not self._inside(entry.moment):
            return
        tally = self._tally(entry.system, entry.moment)
        tally.tests_run += payload.counts.executed
        tally.tests_passed += payload.counts.passed

    def _audit(self, entry: Entry[Any], payload: AuditRun) -> None:
        if not self._inside(entry.moment):
            return
        tally = self._tally(entry.system, entry.moment)
        tally.audits += 1
        month = (entry.system, self._month_of(entry.moment))
        self._last_audit[month] = (
            payload.items_checked,
            payload.items_intact,
            payload.items_changed,
            payload.items_errors,
        )

    # -- settling -----------------------------------------------------------------------------------------

    def _end(self) -> datetime | None:
        """The end of the period: `until`, else the injected clock; None: neither (every due date passed)."""
        return self.until if self.until is not None else self.now

    def _on_time(self) -> None:
        end = self._end()
        for rfc, requested in self.due.items():
            if not self._inside(requested):
                continue
            local = requested.astimezone(self.zone)
            deadline = datetime.combine(local.date() + timedelta(days=1), time(0), self.zone)
            first = self._first_success.get(rfc)
            done = first is not None and first < deadline
            if not done and end is not None and end < deadline:
                continue  # its day has not ended yet: not due
            tally = self._tally(self.system, requested)
            tally.changes_due += 1
            tally.changes_on_time += done

    def _coverage(self) -> None:
        for rfc, plan in self.planned.items():
            first = self._first_success.get(rfc)
            total = sum(plan.values())
            if first is None or not total or not self._inside(first):
                continue
            executed = self._executed.get(rfc, {})
            tally = self._tally(self.system, first)
            tally.cases_planned += total
            tally.cases_executed += sum(min(executed.get(kind, 0), count) for kind, count in plan.items())

    def _months(self) -> list[tuple[int, int]]:
        """The local months of the period, from `since` (else the first month with records counted) to its
        end (else the last such month)."""
        counted = sorted(month for system, month in self.tallies if system == self.system)
        if self.since is not None:
            local = self.since.astimezone(self.zone)
            start = (local.year, local.month)
        elif counted:
            start = (int(counted[0][:4]), int(counted[0][5:7]))
        else:
            return []
        end = self._end()
        if end is not None:
            local = (end - timedelta(microseconds=1) if end == self.until else end).astimezone(self.zone)
            stop = (local.year, local.month)
        elif counted:
            stop = (int(counted[-1][:4]), int(counted[-1][5:7]))
        else:
            return []
        months, (year, month) = [], start
        while (year, month) <= stop:
            months.append((year, month))
            year, month = _next_month(year, month)
        return months

    def _audits(self) -> None:
        """Audits planned and performed: with a plan, per its periods; without, one in each month with
        deployments."""
        plan = self.audit_plan
        if plan is None:
            for tally in self.tallies.values():
                if tally.deployments:
                    tally.audits_planned += 1
                    tally.audits_performed += min(tally.audits, 1)
            return
        size = PERIOD_MONTHS[plan.per]
        end = self._end()
        periods: dict[tuple[int, int], list[tuple[int, int]]] = {}
        for year, month in self._months():
            periods.setdefault((year, (month - 1) // size), []).append((year, month))
        for (year, index), months in periods.items():
            performed = sum(
                self.tallies[key].audits
                for y, m in months
                if (key := (self.system, f"{y:04d}-{m:02d}")) in self.tallies
            )
            closes = datetime(*_next_month(year, (index + 1) * size), 1, tzinfo=self.zone)
            if not performed and end is not None and end < closes:
                continue  # the plan's period has not ended: nothing is missed yet
            y, m = months[-1]
            tally = self._at((self.system, f"{y:04d}-{m:02d}"))
            tally.audits_planned += plan.count
            tally.audits_performed += min(performed, plan.count)

    def result(self) -> dict[tuple[str, str], Tally]:
        """The finished tallies: on-time changes, coverage, audits planned and the last audit's
        configuration counts are settled here, once every record is in."""
        self._on_time()
        self._coverage()
        for key, (checked, intact, changed, errors) in self._last_audit.items():
            tally = self._at(key)
            tally.items_checked, tally.items_intact = checked, intact
            tally.items_changed, tally.items_errors = changed, errors
        self._audits()
        return dict(sorted(self.tallies.items()))


# ------------------------------------------------------------------------------------------ evaluation


def _ratio(numerator: float, denominator: float, scale: float = 100.0) -> float | None:
    return round(numerator * scale / denominator, 2) if denominator else None


def _measures(t: Tally) -> dict[str, tuple[float | None, float | None, float | None]]:
    """id -> (value, numerator, denominator)."""

    def rate(n: float, d: float) -> tuple[float | None, float | None, float | None]:
        return _ratio(n, d), n, d

    def mean(total: float, count: int) -> tuple[float | None, float | None, float | None]:
        return _ratio(total, count, 1.0), round(total, 2), count

    return {
        "deployment-success-rate": rate(t.successes, t.deployments),
        "deployment-failure-rate": rate(t.failures + t.failed_after, t.deployments),
        "rollback-rate": rate(t.rollbacks, t.deployments),
        "post-deployment-defect-rate": rate(t.defects, t.deployments),
        "mttr-minutes": mean(t.recover_minutes, t.recovered),
        "change-on-time-rate": rate(t.changes_on_time, t.changes_due),
        "test-success-rate": rate(t.tests_passed, t.tests_run),
        "test-coverage": rate(t.cases_executed, t.cases_planned),
        "audit-execution-rate": rate(t.audits_performed, t.audits_planned),
        "configuration-integrity": rate(t.items_intact, t.items_checked),
        "configuration-error-detection-rate": rate(t.items_errors, t.items_changed),
        "deployment-frequency": (float(t.successes), t.successes, None),
        "lead-time-hours": mean(t.lead_hours, t.lead_count),
        "change-failure-rate": rate(t.failures + t.failed_after, t.deployments),
        "time-to-restore-minutes": mean(t.recover_minutes, t.recovered),  # MTTR: one figure
    }


def _targets(policy: Policy) -> dict[str, KpiTarget]:
    return {k.id: k for k in policy.kpis}


def evaluate(tally: Tally, policy: Policy) -> tuple[KpiValue, ...]:
    targets = _targets(policy)
    values = []
    for kpi_id, (value, numerator, denominator) in _measures(tally).items():
        unit, sop, _label = KPI_CATALOGUE[kpi_id]
        target = targets.get(kpi_id)
        target_text: str | None = None
        met: bool | None = None
        if target is not None:
            sop = target.sop or sop
        if target is not None and target.op is not None and target.value is not None:
            target_text = f"{target.op} {target.value:g}"
            if value is not None:
                met = value >= target.value if target.op == ">=" else value <= target.value
        values.append(KpiValue(kpi_id, value, unit, target_text, met, sop, numerator, denominator))
    return tuple(values)


def report(
    tallies: Mapping[tuple[str, str], Tally],
    policy: Policy,
    *,
    system: str,
    since: datetime | None,
    until: datetime | None,
    history: History | None = None,
) -> KpiReport:
    """The KPIs of `tallies`; `history`: the one the tallies paired deployments with, whose results that
    count in no KPI the report lists (`unverified_results`)."""
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    months = tuple((s, m, evaluate(t, policy)) for (s, m), t in sorted(tallies.items()))
    unverified = () if history is None else unverified_results(history, since, until)
    return KpiReport(system, since, until, evaluate(total, policy), months, unverified)


def unverified_results(
    history: History, since: datetime | None, until: datetime | None
) -> tuple[UnsignedDeployment, ...]:
    """The deployment results recorded in [since, until) that `history` counted for nothing
    (`History.deployment_counts`), in ledger order."""
    return tuple(
        u
        for _, u in sorted(history.unsigned.items())
        if not u.counted
        and u.kind == RecordKind.DEPLOYMENT_FINISHED
        and (since is None or u.moment >= since)
        and (until is None or u.moment < until)
    )


def kpi_history(system: str, verify: Callable[[Entry[Any]], bool] | None, attestation: str) -> History:
    """The history a `TallyBuilder` pairs deployments with, judging their records' signatures as the gate
    does (`attestation`: "required", "recommended" or "off", `rules.deploy.deployment_attestation`)."""
    return History(None, None, system, attest=verify, deployment_attestation=attestation)


def verifies(history: History) -> bool:
    """Whether the history verifies deployment records: then they are read whole (a signature is over the
    whole record), not as summaries."""
    return history.attest is not None and history.deployment_level != "off"


def tallies_from_records(
    records: Iterable[Record],
    zone: ZoneInfo,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    due: Mapping[str, datetime] | None = None,
    commit_time: CommitTimes = _no_commit_times,
    planned: Mapping[str, Mapping[str, int]] | None = None,
    now: datetime | None = None,
    audit_plan: AuditPlan | None = None,
    system: str = "",
    history: History | None = None,
) -> dict[tuple[str, str], Tally]:
    builder = TallyBuilder(
        zone, since, until, dict(due or {}), commit_time, dict(planned or {}), now, audit_plan, system
    )
    if history is not None:
        builder.history = history
    return builder.feed(records).result()


def iter_month_rows(report_: KpiReport) -> Iterator[tuple[str, str, KpiValue]]:
    """(system, month, value) rows, then ("", "total", value) rows: what csv and trend charts read."""
    for system, month, values in report_.months:
        for value in values:
            yield system, month, value
    for value in report_.kpis:
        yield report_.system, "total", value


# The kinds of record the KPIs read.
KINDS = tuple(
    str(kind)
    for kind in (
        RecordKind.DEPLOYMENT_STARTED,
        RecordKind.DEPLOYMENT_FINISHED,
        RecordKind.INCIDENT_OPENED,
        RecordKind.INCIDENT_UPDATED,
        RecordKind.INCIDENT_CLOSED,
        RecordKind.TEST_EVIDENCE,
        RecordKind.AUDIT_RUN,
    )
)


def sql_tallies(
    ledger: object,
    zone: ZoneInfo,
    *,
    system: str,
    since: datetime | None = None,
    until: datetime | None = None,
    due: Mapping[str, datetime] | None = None,
    commit_time: CommitTimes | None = None,
    planned: Mapping[str, Mapping[str, int]] | None = None,
    now: datetime | None = None,
    audit_plan: AuditPlan | None = None,
    history: History | None = None,
) -> dict[tuple[str, str], Tally] | None:
    """The system's tallies from the records the ledger's database extracts (`ledger.sql_read`), or None
    when the backend has no SQL (or PostgreSQL holds a row whose `data` it could not read as jsonb): the
    caller then streams records."""
    from gatekeeper.ledger.sql_read import read_database

    builder = TallyBuilder(
        zone, since, until, dict(due or {}), planned=dict(planned or {}), now=now, audit_plan=audit_plan
    )
    builder.system = system
    if history is not None:
        builder.history = history
    if commit_time is not None:
        builder.commit_time = commit_time
    whole = verifies(builder.history)  # signed records are verified as written: facts and all
    read = read_database(
        ledger, builder.feed_events, system=system, kinds=KINDS, until=until, facts=whole, summary=not whole
    )
    if not read:
        return None
    return builder.result()
