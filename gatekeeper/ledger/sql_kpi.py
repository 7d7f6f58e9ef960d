"""KPI tallies computed inside SQLite or PostgreSQL, with the definitions of `gatekeeper.checks.kpi`.

The counters are GROUP BY aggregates; "time until the next successful deployment" uses window functions
over the deployments of each system and environment, so no record is shipped to Python just to be counted.
What needs facts from outside the database (commit times from git, RFC requested dates) streams only the
few columns it needs. The SQL reads the backends' tables (`records`: seq, id, kind, system, at_utc|at,
body = the record's canonical JSON, and in PostgreSQL `data`, the record's data as jsonb); it is kept here,
next to the definitions it must agree with.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any, Protocol
from zoneinfo import ZoneInfo

from gatekeeper.checks.kpi import CommitTimes, Tally, month_of
from gatekeeper.ledger import utc_text


class Cursor(Protocol):
    def execute(self, sql: str, params: Any = ..., /) -> Any: ...


@dataclass(frozen=True)
class Dialect:
    """The few places where SQLite and PostgreSQL spell the same thing differently."""

    name: str
    table: str
    at: str  # a column expression sortable as time
    param: str  # placeholder

    def json(self, path: str, table: str = "") -> str:
        """A text member of the record's `data` (path like `result` or `counts.passed`); `table` names the
        row when a query joins records to records."""
        at = f"{table}." if table else ""
        if self.name == "sqlite":
            return f"json_extract({at}body, '$.data.{path}')"
        # PostgreSQL keeps `data` as a jsonb column (schema version 2): no text is parsed per query.
        parts = path.split(".")
        inner = "".join(f"->'{p}'" for p in parts[:-1])
        return f"({at}data{inner}->>'{parts[-1]}')"

    def deployment(self, table: str) -> str:
        """The id of the deployment a record belongs to, as `kpi.deployment_id` reads it."""
        at = f"{table}." if table else ""
        dep, started = self.json("deployment_id", table), self.json("started", table)
        return f"coalesce(nullif({dep}, ''), nullif({started}, ''), {at}id)"

    def num(self, path: str) -> str:
        if self.name == "sqlite":
            return f"coalesce(json_extract(body, '$.data.{path}'), 0)"
        return f"coalesce(({self.json(path)})::double precision, 0)"

    def test_counts(self) -> tuple[str, str]:
        """(run, passed) of a `test.evidence` record, exactly as `gatekeeper.checks.kpi.test_counts`
        counts them:
        the counts sit in `data.totals`, else `data.counts` (when an object), else in `data` itself; a
        number is a JSON number (never a boolean), truncated to an integer like `int()` does."""
        if self.name == "postgres":
            holder = (
                "(CASE WHEN jsonb_typeof(data->'totals') = 'object' THEN data->'totals' "
                "WHEN jsonb_typeof(data->'counts') = 'object' THEN data->'counts' ELSE data END)"
            )

            def kind(name: str) -> str:
                return f"jsonb_typeof({holder}->'{name}')"

            def num(name: str) -> str:
                return f"(CASE WHEN {kind(name)} = 'number' THEN ({holder}->>'{name}')::float8 ELSE 0 END)"

            def whole(expression: str) -> str:
                return f"trunc({expression})::bigint"

            present = f"({kind('total')} IS NOT NULL)"
        else:
            holder = (
                "(CASE WHEN json_type(body, '$.data.totals') = 'object' THEN '$.data.totals' "
                "WHEN json_type(body, '$.data.counts') = 'object' THEN '$.data.counts' ELSE '$.data' END)"
            )

            def kind(name: str) -> str:
                return f"json_type(body, {holder} || '.{name}')"

            def num(name: str) -> str:
                return (
                    f"(CASE WHEN {kind(name)} IN ('integer', 'real') "
                    f"THEN json_extract(body, {holder} || '.{name}') ELSE 0 END)"
                )

            def whole(expression: str) -> str:
                return f"CAST({expression} AS INTEGER)"

            present = f"({kind('total')} IS NOT NULL)"
        passed = whole(num("passed"))
        failed = whole(f"{num('failed')} + {num('errors')} + {num('error')}")
        # counts.get("total", counts.get("tests")) is not None
        has_total = (
            f"(CASE WHEN {present} THEN {kind('total')} <> 'null' "
            f"ELSE coalesce({kind('tests')}, 'null') <> 'null' END)"
        )
        total_num = f"(CASE WHEN {present} THEN {num('total')} ELSE {num('tests')} END)"
        total = f"{whole(total_num)} - {whole(num('skipped'))}"
        clamp = f"greatest({total}, 0)" if self.name == "postgres" else f"max({total}, 0)"
        by_total = f"{passed} = 0 AND {failed} = 0 AND {has_total}"
        run = f"(CASE WHEN {by_total} THEN {clamp} ELSE {passed} + {failed} END)"
        ok = f"(CASE WHEN {by_total} THEN {clamp} ELSE {passed} END)"
        return run, ok

    def number(self, member: str) -> str:
        """`data.<member>` when it is a JSON number (never a boolean), else NULL."""
        if self.name == "postgres":
            return (
                f"(CASE WHEN jsonb_typeof(data->'{member}') = 'number' THEN (data->>'{member}')::float8 END)"
            )
        return (
            f"(CASE WHEN json_type(body, '$.data.{member}') IN ('integer', 'real') "
            f"THEN json_extract(body, '$.data.{member}') END)"
        )

    def month(self, column: str, zone: ZoneInfo) -> str:
        if self.name == "sqlite":
            # SQLite knows no time zones: callers use a fixed-offset zone only (checked by `fixed_offset`).
            minutes = fixed_offset(zone)
            return f"strftime('%Y-%m', {column}, '{minutes:+d} minutes')"
        return f"to_char({column} AT TIME ZONE '{zone.key}', 'YYYY-MM')"

    def minutes(self, later: str, earlier: str) -> str:
        if self.name == "sqlite":
            # julianday is a double: round each difference to the millisecond so sums stay exact.
            return f"round((julianday({later}) - julianday({earlier})) * 1440.0, 5)"
        return f"(extract(epoch from ({later} - {earlier})) / 60.0)"

    def stamp(self, moment: datetime) -> object:
        return utc_text(moment) if self.name == "sqlite" else moment


def fixed_offset(zone: ZoneInfo) -> int:
    """The zone's offset in minutes if it has had one offset since 2000 (Asia/Seoul has), else ValueError."""
    offsets = {
        int(
            (
                datetime(year, month, 15, tzinfo=UTC).astimezone(zone).utcoffset() or timedelta()
            ).total_seconds()
            // 60
        )
        for year in range(2000, 2040)
        for month in (1, 7)
    }
    if len(offsets) != 1:
        raise ValueError(f"{zone.key} changes its offset; SQLite cannot group by its local month")
    return offsets.pop()


def sqlite_dialect() -> Dialect:
    return Dialect("sqlite", "records", "at_utc", "?")


def postgres_dialect(schema: str) -> Dialect:
    return Dialect("postgres", f"{schema}.records", "at", "%s")


_CURSORS = itertools.count(1)


def _rows(cursor: Cursor, sql: str, params: tuple[object, ...]) -> Iterator[tuple[Any, ...]]:
    """Rows in batches; on PostgreSQL through a server-side cursor, so a long result never sits in memory
    (each with its own name: several may be read in step)."""
    if type(cursor).__module__.startswith("psycopg"):
        with cursor.cursor(name=f"gatekeeper_sql_{next(_CURSORS)}") as named:  # type: ignore[attr-defined]
            named.itersize = 5000
            named.execute(sql, params)
            yield from named
        return
    result = cursor.execute(sql, params)
    while batch := result.fetchmany(5000):
        yield from batch


@dataclass
class SqlKpi:
    """Fills `Tally`s with SQL over one backend connection."""

    cursor: Cursor
    dialect: Dialect
    zone: ZoneInfo
    since: datetime | None = None
    until: datetime | None = None

    def _window(self, column: str) -> tuple[str, list[object]]:
        """`AND` clauses limiting `column` to the period, and their parameters."""
        clauses, params = [], []
        if self.since is not None:
            clauses.append(f" AND {column} >= {self.dialect.param}")
            params.append(self.dialect.stamp(self.since))
        if self.until is not None:
            clauses.append(f" AND {column} < {self.dialect.param}")
            params.append(self.dialect.stamp(self.until))
        return "".join(clauses), params

    def _until(self) -> tuple[str, list[object]]:
        if self.until is None:
            return "", []
        return f" AND {self.dialect.at} < {self.dialect.param}", [self.dialect.stamp(self.until)]

    def tallies(
        self, *, due: Mapping[str, datetime] | None = None, commit_time: CommitTimes | None = None
    ) -> dict[tuple[str, str], Tally]:
        out: dict[tuple[str, str], Tally] = {}

        def tally(system: str, month: str) -> Tally:
            key = (system, month)
            if key not in out:
                out[key] = Tally()
            return out[key]

        self._deployments(tally)
        self._restores(tally)
        self._incidents(tally)
        self._tests(tally)
        self._audits(tally)
        self._lead_times(tally, commit_time)
        if due:
            self._on_time(tally, due)
        for t in out.values():
            t.close_month()
        return dict(sorted(out.items()))

    # -- the queries ----------------------------------------------------------------------------------

    def _deployments(self, tally: Any) -> None:
        d = self.dialect
        where, params = self._window(d.at)
        sql = (
            f"SELECT system, {d.month(d.at, self.zone)} AS month, {d.json('result')} AS result, count(*) "  # noqa: S608
            f"FROM {d.table} WHERE kind = 'deployment.finished'{where} GROUP BY 1, 2, 3"
        )
        for system, month, result, count in _rows(self.cursor, sql, tuple(params)):
            t = tally(system, month)
            if result == "success":
                t.deployments += count
                t.successes += count
            elif result in ("failure", "rolled-back"):
                t.deployments += count
                t.failures += count
                if result == "rolled-back":
                    t.rollbacks += count

    def _events(self) -> tuple[str, list[object]]:
        """Deployments and incidents up to `until`, each with the time of the next successful deployment
        of the same system and environment, and of the same system in any environment."""
        d = self.dialect
        until, params = self._until()
        # "Every later row" as a running frame over the reversed order: a frame that starts at UNBOUNDED
        # PRECEDING is aggregated incrementally, where 1 FOLLOWING .. UNBOUNDED FOLLOWING restarts min()
        # on every row (quadratic in PostgreSQL).
        following = "ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING"
        success_at = f"CASE WHEN kind = 'deployment.finished' AND result = 'success' THEN {d.at} END"
        sql = (
            f"WITH ev AS (SELECT seq, kind, system, {d.at}, {d.json('result')} AS result, "  # noqa: S608
            f"coalesce({d.json('environment')}, '') AS env, {d.deployment('')} AS dep, "
            f"{d.json('resolved_at')} AS resolved_at "
            f"FROM {d.table} WHERE kind IN ('deployment.finished', 'incident.opened'){until}), "
            f"nx AS (SELECT ev.*, "
            f"min({success_at}) OVER (PARTITION BY system, env ORDER BY seq DESC {following}) AS next_env, "
            f"min({success_at}) OVER (PARTITION BY system ORDER BY seq DESC {following}) AS next_any "
            f"FROM ev) "
        )
        return sql, params

    def _restores(self, tally: Any) -> None:
        d = self.dialect
        head, params = self._events()
        where, more = self._window(d.at)
        sql = (
            f"{head}SELECT system, {d.month(d.at, self.zone)}, "  # noqa: S608
            f"sum({d.minutes('next_env', d.at)}), count(*) FROM nx "
            f"WHERE kind = 'deployment.finished' AND result IN ('failure', 'rolled-back') "
            f"AND next_env IS NOT NULL{where} GROUP BY 1, 2"
        )
        for system, month, minutes, count in _rows(self.cursor, sql, tuple(params + more)):
            t = tally(system, month)
            t.restore_minutes += float(minutes)
            t.restored += count

    def _incidents(self, tally: Any) -> None:
        d = self.dialect
        head, params = self._events()
        where, more = self._window(d.at)
        # An incident states its own resolution time; otherwise the next success restores the service.
        resolved = "CASE WHEN resolved_at IS NOT NULL THEN NULL WHEN env = '' THEN next_any ELSE next_env END"
        resolved_at = "resolved_at" if d.name == "sqlite" else "(resolved_at)::timestamptz"
        explicit = f"CASE WHEN resolved_at IS NOT NULL THEN {d.minutes(resolved_at, d.at)} END"
        implicit = f"{d.minutes(resolved, d.at)}"
        sql = (
            f"{head}, failed AS (SELECT dep FROM ev WHERE kind = 'deployment.finished' "  # noqa: S608
            f"AND result IN ('failure', 'rolled-back')) "
            f"SELECT system, {d.month(d.at, self.zone)}, count(*), "
            f"sum(CASE WHEN dep IN (SELECT dep FROM failed) THEN 0 ELSE 1 END), "
            f"sum(coalesce({explicit}, {implicit}, 0)), "
            f"sum(CASE WHEN resolved_at IS NOT NULL OR ({resolved}) IS NOT NULL THEN 1 ELSE 0 END) "
            f"FROM nx WHERE kind = 'incident.opened'{where} GROUP BY 1, 2"
        )
        for system, month, count, defects, minutes, recovered in _rows(
            self.cursor, sql, tuple(params + more)
        ):
            t = tally(system, month)
            t.incidents += count
            t.defects += int(defects)
            t.recover_minutes += float(minutes)
            t.recovered += int(recovered)

    def _tests(self, tally: Any) -> None:
        d = self.dialect

        # Counted exactly as `kpi.test_counts` counts a record (the stream and the SQL must agree).
        run, ok = d.test_counts()
        coverage = d.number("coverage")
        where, params = self._window(d.at)
        sql = (
            f"SELECT system, {d.month(d.at, self.zone)}, sum({run}), sum({ok}), "  # noqa: S608
            f"sum(coalesce({coverage}, 0)), count({coverage}) "
            f"FROM {d.table} WHERE kind = 'test.evidence'{where} GROUP BY 1, 2"
        )
        for system, month, run_, passed_, coverage_sum, coverage_count in _rows(
            self.cursor, sql, tuple(params)
        ):
            t = tally(system, month)
            t.tests_run += int(run_ or 0)
            t.tests_passed += int(passed_ or 0)
            t.coverage_sum += float(coverage_sum or 0)
            t.coverage_count += int(coverage_count)

    def _audits(self, tally: Any) -> None:
        d = self.dialect
        where, params = self._window(d.at)
        month = d.month(d.at, self.zone)
        sql = (
            f"WITH a AS (SELECT seq, system, {month} AS month, "  # noqa: S608
            f"{d.num('configuration.items')} AS items, {d.num('configuration.intact')} AS intact, "
            f"row_number() OVER (PARTITION BY system, {month} ORDER BY seq DESC) AS latest "
            f"FROM {d.table} WHERE kind = 'audit.run'{where}) "
            f"SELECT system, month, count(*), "
            f"sum(CASE WHEN latest = 1 THEN items ELSE 0 END), "
            f"sum(CASE WHEN latest = 1 THEN intact ELSE 0 END) FROM a GROUP BY 1, 2"
        )
        for system, month_, count, items, intact in _rows(self.cursor, sql, tuple(params)):
            t = tally(system, month_)
            t.audits += count
            t.items_checked += int(items)
            t.items_intact += min(int(intact), int(items))

    def _lead_times(self, tally: Any, commit_time: CommitTimes | None) -> None:
        d = self.dialect
        where, params = self._window(d.at)
        commit_at = d.json("commit_at") if d.name == "sqlite" else f"({d.json('commit_at')})::timestamptz"
        month = d.month(d.at, self.zone)
        # Deployments that carry their commit time are aggregated in the database.
        sql = (
            f"SELECT system, {month}, sum({d.minutes(d.at, commit_at)}) / 60.0, count(*) "  # noqa: S608
            f"FROM {d.table} WHERE kind = 'deployment.finished' AND {d.json('result')} = 'success' "
            f"AND {d.json('commit_at')} IS NOT NULL AND {d.minutes(d.at, commit_at)} >= 0{where} "
            "GROUP BY 1, 2"
        )
        for system, month_, hours, count in _rows(self.cursor, sql, tuple(params)):
            t = tally(system, month_)
            t.lead_hours += float(hours)
            t.lead_count += count
        if commit_time is None:
            return
        # The others name a commit (on the finished record or on its deployment.started) whose time only git
        # knows: stream (system, time, sha) and ask git.
        where_f, params = self._window("f." + d.at)
        finished = d.deployment("f")
        sql = (
            f"SELECT f.system, f.{d.at}, coalesce({d.json('commit', 'f')}, "  # noqa: S608
            f"{d.json('commit', 's')}) FROM {d.table} f "
            f"LEFT JOIN {d.table} s ON s.id = {finished} AND s.kind = 'deployment.started' "
            f"WHERE f.kind = 'deployment.finished' "
            f"AND {d.json('result', 'f')} = 'success' "
            f"AND {d.json('commit_at', 'f')} IS NULL{where_f}"
        )
        for system, at, sha in _rows(self.cursor, sql, tuple(params)):
            if not sha:
                continue
            moment = _aware(at)
            committed = commit_time(str(sha))
            if committed is not None and committed <= moment:
                t = tally(system, month_of(moment, self.zone))
                t.lead_hours += (moment - committed).total_seconds() / 3600
                t.lead_count += 1

    def _on_time(self, tally: Any, due: Mapping[str, datetime]) -> None:
        d = self.dialect
        where, params = self._window("r." + d.at)
        if d.name == "sqlite":
            source = "record_rfcs x JOIN records r ON r.seq = x.seq"
            rfc = "x.rfc"
        else:
            source = f"{d.table} r CROSS JOIN LATERAL unnest(r.rfcs) AS x(rfc)"
            rfc = "x.rfc"
        result = d.json("result", "r")
        sql = (
            f"SELECT {rfc}, r.system, min(r.{d.at}) FROM {source} "  # noqa: S608
            f"WHERE r.kind = 'deployment.finished' AND {result} = 'success'{where} GROUP BY 1, 2"
        )
        seen: set[str] = set()
        for rfc_id, system, first in _rows(self.cursor, sql, tuple(params)):
            if rfc_id in seen or rfc_id not in due:
                continue
            seen.add(rfc_id)
            moment = _aware(first)
            local_due = due[rfc_id].astimezone(self.zone)
            deadline = datetime.combine(local_due.date() + timedelta(days=1), time(0), self.zone)
            t = tally(system, month_of(moment, self.zone))
            t.changes_due += 1
            t.changes_on_time += moment < deadline


def _aware(value: object) -> datetime:
    if isinstance(value, datetime):
        return value
    return datetime.fromisoformat(str(value).replace("Z", "+00:00"))


def connection_of(ledger: object) -> tuple[Cursor, Dialect] | None:
    """The SQL connection and dialect of a sqlite or postgres ledger, or None for other backends."""
    db = getattr(ledger, "connection", None) or getattr(ledger, "_db", None)
    if db is None:
        return None
    module = type(db).__module__
    if module.startswith("sqlite3"):
        return db, sqlite_dialect()
    if module.startswith("psycopg"):
        schema = getattr(ledger, "schema", "gatekeeper")
        return db, postgres_dialect(str(schema))
    return None


def sql_tallies(
    ledger: object,
    zone: ZoneInfo,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    due: Mapping[str, datetime] | None = None,
    commit_time: CommitTimes | None = None,
) -> dict[tuple[str, str], Tally] | None:
    """Tallies computed in the ledger's database, or None when the backend has no SQL (or SQLite meets a
    zone with daylight saving time, or PostgreSQL holds a row whose `data` it could not read as jsonb): the
    caller then streams records through `TallyBuilder`."""
    found = connection_of(ledger)
    if found is None:
        return None
    cursor, dialect = found
    if dialect.name == "sqlite":
        try:
            fixed_offset(zone)
        except ValueError:
            return None
    engine = SqlKpi(cursor, dialect, zone, since, until)
    if dialect.name == "postgres":
        with cursor.transaction():  # type: ignore[attr-defined]
            if data_missing(cursor, dialect):
                return None
            plan_for_whole_results(cursor)
            return engine.tallies(due=due, commit_time=commit_time)
    return engine.tallies(due=due, commit_time=commit_time)


def plan_for_whole_results(cursor: Cursor) -> None:
    """In this PostgreSQL transaction, plan server-side cursors for reading every row (not the first tenth,
    which picks ordered index scans over a million rows) and skip JIT (compiling costs more than it saves
    on these scans)."""
    cursor.execute("SET LOCAL cursor_tuple_fraction = 1.0")
    cursor.execute("SET LOCAL jit = off")


def data_missing(cursor: Cursor, dialect: Dialect) -> bool:
    """Whether a PostgreSQL ledger holds a record whose `data` column is NULL (its body is not a record
    jsonb can hold); an index on exactly those rows makes this a lookup."""
    if dialect.name != "postgres":
        return False
    sql = f"SELECT EXISTS (SELECT 1 FROM {dialect.table} WHERE data IS NULL)"  # noqa: S608
    row = cursor.execute(sql).fetchone()
    return bool(row[0])
