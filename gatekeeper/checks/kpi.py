"""SOP KPIs and the four DORA keys, computed from ledger records (DESIGN §3 ids, contract).

The computation has two halves. `Tally` holds additive counters for one system and one month; a
`TallyBuilder` fills tallies from a stream of records in seq order, keeping only what is still open (failed
deployments not yet restored, incidents not yet resolved), so memory does not grow with the ledger. SQL
backends fill the same tallies inside the database (`gatekeeper.ledger.sql_kpi`). `evaluate` then turns summed
tallies into KPI values with the pack's targets. Everything here is pure: records and facts in, values out.

Definitions (per system, per month of the system's time zone):
- a *deployment* is a `deployment.finished` record whose result is not `aborted` (an aborted deployment
  changed nothing); success rate = successes ÷ deployments; failure rate = (failure + rolled-back) ÷
  deployments; rollback rate = rolled-back ÷ deployments;
- a *post-deployment defect* is an `incident.opened` record not opened by a failed deployment;
  defect rate = defects ÷ successful deployments;
- MTTR = mean minutes from `incident.opened` to its resolution (`data.resolved_at`, else the next successful
  deployment of the same system and environment);
- change on-time rate = RFCs whose first successful deployment finished by the end of their requested day
  ÷ RFCs deployed that have a requested date;
- test success rate = passed ÷ (passed + failed + errors) over `test.evidence`; coverage = mean coverage
  where evidence reports one;
- audit execution rate = months with deployments that had an `audit.run` ÷ months with deployments;
  configuration integrity = intact ÷ checked configuration items of the month's last audit;
- DORA: deployment frequency = successful deployments; lead time = mean hours from commit to successful
  deployment; change failure rate = (failed deployments + defects) ÷ deployments; time to restore = mean
  minutes from a failed deployment to the next successful deployment of the same system and environment.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field, fields
from datetime import datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from gatekeeper.config.models import KpiTarget, Policy
from gatekeeper.domain import DeploymentResult, RecordKind
from gatekeeper.domain.catalogue import KPI_CATALOGUE
from gatekeeper.ledger import Record

FAILED_RESULTS = frozenset({DeploymentResult.FAILURE.value, DeploymentResult.ROLLED_BACK.value})


@dataclass
class Tally:
    """Additive counters for one system and one month."""

    deployments: int = 0
    successes: int = 0
    failures: int = 0  # failure + rolled-back
    rollbacks: int = 0
    incidents: int = 0
    defects: int = 0
    recover_minutes: float = 0.0
    recovered: int = 0
    restore_minutes: float = 0.0
    restored: int = 0
    lead_hours: float = 0.0
    lead_count: int = 0
    changes_due: int = 0
    changes_on_time: int = 0
    tests_run: int = 0
    tests_passed: int = 0
    coverage_sum: float = 0.0
    coverage_count: int = 0
    audits: int = 0
    months_deployed: int = 0
    months_audited: int = 0
    items_checked: int = 0
    items_intact: int = 0

    def add(self, other: Tally) -> None:
        for f in fields(self):
            setattr(self, f.name, getattr(self, f.name) + getattr(other, f.name))

    def close_month(self) -> None:
        """Set the per-month indicators once a month's counters are complete."""
        self.months_deployed = 1 if self.deployments else 0
        self.months_audited = 1 if self.deployments and self.audits else 0


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
        entry = KPI_CATALOGUE[self.id]
        return entry[3] if lang == "ko" else entry[2]


@dataclass(frozen=True)
class KpiReport:
    system: str
    since: datetime | None
    until: datetime | None
    kpis: tuple[KpiValue, ...]
    months: tuple[tuple[str, str, tuple[KpiValue, ...]], ...]  # (system, YYYY-MM, values)

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
        }


# ------------------------------------------------------------------------------------------ reading records


class _Identified(Protocol):
    @property
    def id(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


def deployment_id(record: _Identified) -> str:
    """A deployment's id: the id of its `deployment.started` record, which a `deployment.finished` record
    names as `data.started` (as `deploy finish` writes it) or `data.deployment_id`; a started record's
    own id."""
    value = record.data.get("deployment_id") or record.data.get("started")
    return str(value) if value else record.id


def environment_of(record: Record) -> str:
    value = record.data.get("environment")
    return str(value) if value else ""


def _moment(value: object) -> datetime | None:
    if not isinstance(value, str) or not value:
        return None
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else None


def _number(value: object) -> float:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else 0.0


def test_counts(data: Mapping[str, Any]) -> tuple[int, int]:
    """(run, passed) of a `test.evidence` record: counts sit in `data.totals`, `data.counts` or at the top."""
    counts = next((data[k] for k in ("totals", "counts") if isinstance(data.get(k), dict)), data)
    assert isinstance(counts, dict)
    passed = int(_number(counts.get("passed")))
    failed = int(_number(counts.get("failed")) + _number(counts.get("errors")) + _number(counts.get("error")))
    total_value = counts.get("total", counts.get("tests"))
    if not passed and not failed and total_value is not None:
        total = int(_number(total_value)) - int(_number(counts.get("skipped")))
        return max(total, 0), max(total, 0)
    return passed + failed, passed


def month_of(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m")


CommitTimes = Callable[[str], datetime | None]


def _no_commit_times(_sha: str) -> datetime | None:
    return None


@dataclass
class TallyBuilder:
    """Fills per-(system, month) tallies from records in seq order, holding only what is still open."""

    zone: ZoneInfo
    since: datetime | None = None
    until: datetime | None = None
    due: Mapping[str, datetime] = field(default_factory=dict)  # RFC id -> requested date/time
    commit_time: CommitTimes = _no_commit_times
    tallies: dict[tuple[str, str], Tally] = field(default_factory=dict)
    _open_failures: dict[tuple[str, str], list[datetime]] = field(default_factory=dict)
    _open_incidents: dict[tuple[str, str], list[datetime]] = field(default_factory=dict)
    _failed_ids: set[str] = field(default_factory=set)
    _counted_rfcs: set[str] = field(default_factory=set)
    _last_audit: dict[tuple[str, str], tuple[int, int]] = field(default_factory=dict)
    _open_commits: dict[str, str] = field(default_factory=dict)  # started, not finished: id -> commit

    def _tally(self, system: str, moment: datetime) -> Tally:
        key = (system, month_of(moment, self.zone))
        tally = self.tallies.get(key)
        if tally is None:
            tally = self.tallies[key] = Tally()
        return tally

    def _inside(self, moment: datetime) -> bool:
        return (self.since is None or moment >= self.since) and (self.until is None or moment < self.until)

    def feed(self, records: Iterable[Record]) -> TallyBuilder:
        for record in records:
            moment = record.moment
            if self.until is not None and moment >= self.until:
                continue
            handler = _HANDLERS.get(record.kind)
            if handler is not None:
                handler(self, record, moment)
        return self

    def _started(self, record: Record, moment: datetime) -> None:
        commit = record.data.get("commit")
        if isinstance(commit, str) and commit:
            self._open_commits[record.id] = commit

    def _finished(self, record: Record, moment: datetime) -> None:
        result = str(record.data.get("result", ""))
        commit = self._open_commits.pop(deployment_id(record), "")
        key = (record.system, environment_of(record))
        inside = self._inside(moment)
        if result in FAILED_RESULTS:
            self._failed_ids.add(deployment_id(record))
            self._open_failures.setdefault(key, []).append(moment)
        if not inside and result != DeploymentResult.SUCCESS.value:
            return
        if result == DeploymentResult.SUCCESS.value:
            self._restore(record.system, key, moment, inside)
            if not inside:
                return
        if result == DeploymentResult.ABORTED.value or not result:
            return
        tally = self._tally(record.system, moment)
        tally.deployments += 1
        if result == DeploymentResult.SUCCESS.value:
            tally.successes += 1
            self._lead_time(tally, record, moment, commit)
            self._on_time(tally, record, moment)
        elif result in FAILED_RESULTS:
            tally.failures += 1
            tally.rollbacks += result == DeploymentResult.ROLLED_BACK.value

    def _restore(self, system: str, key: tuple[str, str], moment: datetime, inside: bool) -> None:
        for opened in self._open_failures.pop(key, []):
            if self._inside(opened):
                tally = self._tally(system, opened)
                tally.restore_minutes += (moment - opened).total_seconds() / 60
                tally.restored += 1
        for waiting in (key, (system, "")):
            for opened in self._open_incidents.pop(waiting, []):
                if self._inside(opened):
                    tally = self._tally(system, opened)
                    tally.recover_minutes += (moment - opened).total_seconds() / 60
                    tally.recovered += 1

    def _lead_time(self, tally: Tally, record: Record, moment: datetime, started_commit: str) -> None:
        committed = _moment(record.data.get("commit_at"))
        sha = record.data.get("commit") or started_commit
        if committed is None and isinstance(sha, str) and sha:
            committed = self.commit_time(sha)
        if committed is not None and committed <= moment:
            tally.lead_hours += (moment - committed).total_seconds() / 3600
            tally.lead_count += 1

    def _on_time(self, tally: Tally, record: Record, moment: datetime) -> None:
        for rfc in record.rfcs:
            if rfc in self._counted_rfcs or rfc not in self.due:
                continue
            self._counted_rfcs.add(rfc)
            local_due = self.due[rfc].astimezone(self.zone)
            deadline = datetime.combine(local_due.date() + timedelta(days=1), time(0), self.zone)
            tally.changes_due += 1
            tally.changes_on_time += moment < deadline

    def _incident(self, record: Record, moment: datetime) -> None:
        if not self._inside(moment):
            return
        tally = self._tally(record.system, moment)
        tally.incidents += 1
        caused_by = record.data.get("deployment_id")
        if not (isinstance(caused_by, str) and caused_by in self._failed_ids):
            tally.defects += 1
        resolved = _moment(record.data.get("resolved_at"))
        if resolved is not None and resolved >= moment:
            tally.recover_minutes += (resolved - moment).total_seconds() / 60
            tally.recovered += 1
        else:
            self._open_incidents.setdefault((record.system, environment_of(record)), []).append(moment)

    def _evidence(self, record: Record, moment: datetime) -> None:
        if not self._inside(moment):
            return
        tally = self._tally(record.system, moment)
        run, passed = test_counts(record.data)
        tally.tests_run += run
        tally.tests_passed += passed
        coverage = record.data.get("coverage")
        if isinstance(coverage, int | float) and not isinstance(coverage, bool):
            tally.coverage_sum += float(coverage)
            tally.coverage_count += 1

    def _audit(self, record: Record, moment: datetime) -> None:
        if not self._inside(moment):
            return
        tally = self._tally(record.system, moment)
        tally.audits += 1
        configuration = record.data.get("configuration")
        if isinstance(configuration, dict):
            checked = int(_number(configuration.get("items")))
            intact = int(_number(configuration.get("intact")))
            self._last_audit[(record.system, month_of(moment, self.zone))] = (checked, min(intact, checked))

    def result(self) -> dict[tuple[str, str], Tally]:
        """The finished tallies; month indicators and last-audit integrity are settled here."""
        for key, tally in self.tallies.items():
            tally.close_month()
            checked, intact = self._last_audit.get(key, (0, 0))
            tally.items_checked, tally.items_intact = checked, intact
        return dict(sorted(self.tallies.items()))


_HANDLERS: dict[str, Callable[[TallyBuilder, Record, datetime], None]] = {
    RecordKind.DEPLOYMENT_STARTED.value: TallyBuilder._started,
    RecordKind.DEPLOYMENT_FINISHED.value: TallyBuilder._finished,
    RecordKind.INCIDENT_OPENED.value: TallyBuilder._incident,
    RecordKind.TEST_EVIDENCE.value: TallyBuilder._evidence,
    RecordKind.AUDIT_RUN.value: TallyBuilder._audit,
}


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
        "deployment-failure-rate": rate(t.failures, t.deployments),
        "rollback-rate": rate(t.rollbacks, t.deployments),
        "post-deployment-defect-rate": rate(t.defects, t.successes),
        "mttr-minutes": mean(t.recover_minutes, t.recovered),
        "change-on-time-rate": rate(t.changes_on_time, t.changes_due),
        "test-success-rate": rate(t.tests_passed, t.tests_run),
        "test-coverage": mean(t.coverage_sum, t.coverage_count),
        "audit-execution-rate": rate(t.months_audited, t.months_deployed),
        "configuration-integrity": rate(t.items_intact, t.items_checked),
        "deployment-frequency": (float(t.successes), t.successes, None),
        "lead-time-hours": mean(t.lead_hours, t.lead_count),
        "change-failure-rate": rate(t.failures + t.defects, t.deployments),
        "time-to-restore-minutes": mean(t.restore_minutes, t.restored),
    }


def _targets(policy: Policy) -> dict[str, KpiTarget]:
    return {k.id: k for k in policy.kpis}


def evaluate(tally: Tally, policy: Policy) -> tuple[KpiValue, ...]:
    targets = _targets(policy)
    values = []
    for kpi_id, (value, numerator, denominator) in _measures(tally).items():
        unit, sop, _en, _ko = KPI_CATALOGUE[kpi_id]
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
) -> KpiReport:
    total = Tally()
    for tally in tallies.values():
        total.add(tally)
    months = tuple((s, m, evaluate(t, policy)) for (s, m), t in sorted(tallies.items()))
    return KpiReport(system, since, until, evaluate(total, policy), months)


def tallies_from_records(
    records: Iterable[Record],
    zone: ZoneInfo,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    due: Mapping[str, datetime] | None = None,
    commit_time: CommitTimes = _no_commit_times,
) -> dict[tuple[str, str], Tally]:
    builder = TallyBuilder(zone, since, until, dict(due or {}), commit_time)
    return builder.feed(records).result()


def iter_month_rows(report_: KpiReport) -> Iterator[tuple[str, str, KpiValue]]:
    """(system, month, value) rows, then ("", "total", value) rows: what csv and trend charts read."""
    for system, month, values in report_.months:
        for value in values:
            yield system, month, value
    for value in report_.kpis:
        yield report_.system, "total", value
