"""The audit's reading of a SQLite or PostgreSQL ledger: the database hands over what the checklist needs.

`AuditBuilder.feed` parses every record in Python. Here the database extracts the members the checklist
reads (the test counts computed in SQL exactly as `kpi.test_counts` counts them) and streams, in seq
order: the deployment, incident and test-evidence records, and the records that hold an RFC's first PIR
(a later PIR changes no answer). Approvals, most of a ledger, take a backend's cheaper way: PostgreSQL
answers "which decisions stood when this deployment started" with one window query (the latest decision
per RFC and step up to each `deployment.started`) and sends only each RFC's first CAB approval and the
approvals of RFCs deployed as emergency changes (their after-the-fact review follows each decision);
SQLite streams the approvals themselves, cheaper there than sorting a million rows for a window.
`feed_events` gives the same answers from these streams as `feed` gives from all records
(tests/audit/test_backends_agree.py).

`prepare` starts the queries on connections of their own before the caller loads the RFCs and verifies
the chain, so the database works meanwhile. The SQL reads the backends' tables (`records`: seq, id, kind,
system, at_utc|at, body; `record_rfcs` in SQLite, the `rfcs` array and the jsonb `data` column in
PostgreSQL), like `gatekeeper.kpi_sql`.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import json
import threading
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from gatekeeper.audit import (
    Approval,
    AuditBuilder,
    CabApproved,
    Decisions,
    Event,
    Evidence,
    Started,
    Stored,
)
from gatekeeper.kpi_sql import Cursor, Dialect, _rows, connection_of, data_missing

APPROVE = "approve"


class _Sql:
    """The dialect-specific spelling of the few expressions the audit queries need."""

    def __init__(self, dialect: Dialect) -> None:
        self.d = dialect
        self.pg = dialect.name == "postgres"

    def text(self, member: str, table: str = "") -> str:
        """`data.<member>` when it is a JSON string, else NULL."""
        at = f"{table}." if table else ""
        if self.pg:
            return f"(CASE WHEN jsonb_typeof({at}data->'{member}') = 'string' THEN {at}data->>'{member}' END)"
        return (
            f"(CASE WHEN json_type({at}body, '$.data.{member}') = 'text' "
            f"THEN json_extract({at}body, '$.data.{member}') END)"
        )

    def at_text(self) -> str:
        """The record's `at` as written, with its own offset (a PIR's due date is shown in it)."""
        return "((body::json)->>'at')" if self.pg else "json_extract(body, '$.at')"

    def rfcs(self) -> str:
        """Two columns: the only RFC of a record that names one, else the JSON array (SQLite; PostgreSQL
        keeps them as an array)."""
        if self.pg:
            return "NULL, rfcs"
        return (
            "CASE WHEN json_array_length(body, '$.rfcs') = 1 THEN json_extract(body, '$.rfcs[0]') END, "
            "CASE WHEN json_array_length(body, '$.rfcs') <> 1 THEN json_extract(body, '$.rfcs') END"
        )

    def members(self, names: Sequence[str]) -> str:
        """Columns: each `data.<name>` that is a string, then the whole `data` as JSON when one of them is
        present but not a string (rare: then the record's reader sees exactly what it would have)."""
        texts = [self.text(name) for name in names]
        if self.pg:
            odd = " OR ".join(f"jsonb_typeof(data->'{name}') <> 'string'" for name in names)
            whole = "((body::json)->'data')"
        else:
            odd = " OR ".join(f"json_type(body, '$.data.{name}') <> 'text'" for name in names)
            whole = "json_extract(body, '$.data')"
        return ", ".join([*texts, f"CASE WHEN {odd} THEN {whole} END"])

    def rfc_rows(self, table: str) -> tuple[str, str]:
        """A FROM item joining each record of `table` to each RFC it names, and the RFC column."""
        if self.pg:
            return f"{self.d.table} {table} CROSS JOIN LATERAL unnest({table}.rfcs) AS x(rfc)", "x.rfc"
        return f"record_rfcs x JOIN records {table} ON {table}.seq = x.seq", "x.rfc"


def _rfcs(only: str | None, many: Any) -> tuple[str, ...]:
    if only is not None:
        return (only,)
    return tuple(json.loads(many) if isinstance(many, str) else many)


def _data(names: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    """A record's `data` as far as `names` go, from the columns of `_Sql.members`."""
    whole = values[-1]
    if whole is not None:
        data = json.loads(whole) if isinstance(whole, str) else whole
        if not isinstance(data, dict):
            raise ValueError("a record's data is not an object")
        return data
    return {name: value for name, value in zip(names, values, strict=False) if value is not None}


def _moment(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"a record time {str(value)[:40]!r} has no offset")
    return moment


# The members of `data` the checklist reads, per kind of record.
APPROVAL = ("step", "decision")
MEMBERS = {
    "deployment.started": ("change_type", "commit"),
    "deployment.finished": ("deployment_id", "result", "change_type"),
    "incident.opened": ("deployment_id",),
}


class AuditQueries:
    """The streams `AuditBuilder.feed_events` reads, for one system and the records before `until`."""

    def __init__(
        self,
        cursor: Cursor,
        dialect: Dialect,
        system: str,
        since: datetime | None,
        until: datetime | None,
        steps: Sequence[str],
    ) -> None:
        self.cursor = cursor
        self.sql = _Sql(dialect)
        self.d = dialect
        self.system = system
        self.since = since
        self.until = until
        self.steps = list(dict.fromkeys(steps))
        # PostgreSQL: the snapshot every query reads, each on a connection of its own (see `_pg_stream`).
        self.snapshot: str | None = None
        # SQLite: sorting (`+seq` is not the index's order) makes the first step of a query do all of its
        # work, in C and without the GIL, which `prepare` starts while the caller verifies the chain.
        self.order = " ORDER BY seq" if self.sql.pg else " ORDER BY +seq"

    def _rows(self, sql: str, params: tuple[object, ...]) -> Iterator[tuple[Any, ...]]:
        if self.snapshot is not None:
            return _pg_stream(self.cursor, self.snapshot, sql, params)
        if self.sql.pg:
            return _rows(self.cursor, sql, params)
        return _sqlite_rows(self.cursor, sql, params)

    def _scope(self, table: str = "") -> tuple[str, list[object]]:
        """`system = ? AND at < until` for `table`, and its parameters."""
        at = f"{table}." if table else ""
        clause = f"{at}system = {self.d.param}"
        params: list[object] = [self.system]
        if self.until is not None:
            clause += f" AND {at}{self.d.at} < {self.d.param}"
            params.append(self.d.stamp(self.until))
        return clause, params

    def _records(self, kind: str) -> Iterator[Stored]:
        s = self.sql
        names = MEMBERS[kind]
        scope, params = self._scope()
        # Only a finished deployment's own offset shows (in a PIR's due date); the others need the instant.
        at = s.at_text() if kind == "deployment.finished" else self.d.at
        sql = (
            f"SELECT seq, id, {at}, {s.rfcs()}, {s.members(names)} FROM {self.d.table} "  # noqa: S608
            f"WHERE kind = '{kind}' AND {scope}{self.order}"
        )
        for row in self._rows(sql, tuple(params)):
            seq, ident, moment, only, many = row[:5]
            yield Stored(seq, ident, kind, _rfcs(only, many), _moment(moment), _data(names, row[5:]))

    def _decisions(self) -> Iterator[tuple[int, str, list[int | None]]]:
        """(seq, RFC, per step: seq * 2 + approved of the latest decision, or None) for every
        `deployment.started` in the period, from the approvals recorded before it."""
        s, d = self.sql, self.d
        source, rfc = s.rfc_rows("r")
        scope, params = self._scope("r")
        approved = (
            "(r.data->>'decision') = 'approve'"
            if s.pg
            else "json_extract(r.body, '$.data.decision') = 'approve'"
        )
        step = (
            f"CASE WHEN r.kind = 'approval' AND {s.text('step', 'r')} IS NOT NULL "
            f"AND {s.text('decision', 'r')} IS NOT NULL THEN {s.text('step', 'r')} END"
        )
        flag = f"CASE WHEN {approved} THEN 1 ELSE 0 END"
        latest = ", ".join(
            f"max(CASE WHEN step = {d.param} THEN seq * 2 + approved END) OVER win" for _ in self.steps
        )
        inside = ""
        more: list[object] = []
        if self.since is not None:
            inside = f" AND {d.at} >= {d.param}"
            more.append(d.stamp(self.since))
        sql = (
            f"WITH x AS (SELECT {rfc} AS rfc, r.seq AS seq, r.kind AS kind, r.{d.at} AS {d.at}, "  # noqa: S608
            f"{step} AS step, {flag} AS approved FROM {source} "
            f"WHERE r.kind IN ('approval', 'deployment.started') AND {scope}), "
            f"w AS (SELECT seq, rfc, kind, {d.at}{', ' + latest if latest else ''} FROM x "
            f"WINDOW win AS (PARTITION BY rfc ORDER BY seq)) "
            f"SELECT * FROM w WHERE kind = 'deployment.started'{inside} ORDER BY seq"
        )
        for row in self._rows(sql, tuple([*params, *self.steps, *more])):
            yield row[0], row[1], list(row[4:])

    def _started(self) -> Iterator[Started]:
        decisions = self._decisions()
        pending = next(decisions, None)
        for record in self._records("deployment.started"):
            while pending is not None and pending[0] < record.seq:
                pending = next(decisions, None)
            approvals: dict[str, Decisions] = {}
            while pending is not None and pending[0] == record.seq:
                _seq, rfc, latest = pending
                approvals[rfc] = {
                    step: (value // 2, APPROVE if value % 2 else "")
                    for step, value in zip(self.steps, latest, strict=True)
                    if value is not None
                }
                pending = next(decisions, None)
            yield Started(record, approvals)

    def _evidence(self) -> Iterator[Evidence]:
        s = self.sql
        scope, params = self._scope()
        run, passed = self.d.test_counts()
        sql = (
            f"SELECT seq, {self.d.at}, {s.rfcs()}, {s.text('kind')}, {s.text('commit')}, "  # noqa: S608
            f"{run}, {passed} FROM {self.d.table} WHERE kind = 'test.evidence' AND {scope}{self.order}"
        )
        for seq, at, only, many, kind, commit, run_, passed_ in self._rows(sql, tuple(params)):
            yield Evidence(seq, _moment(at), _rfcs(only, many), kind, commit, int(run_), int(passed_))

    def _first_pirs(self) -> Iterator[Stored]:
        """The PIR records that are some RFC's first (a later PIR of an RFC changes no answer)."""
        s = self.sql
        source, rfc = s.rfc_rows("p")
        scope, params = self._scope("p")
        inner_scope, inner_params = self._scope()
        sql = (
            f"SELECT seq, id, {self.d.at}, {s.rfcs()} FROM {self.d.table} "  # noqa: S608
            f"WHERE kind = 'pir' AND {inner_scope} AND seq IN "
            f"(SELECT min(p.seq) FROM {source} WHERE p.kind = 'pir' AND {scope} GROUP BY {rfc}) ORDER BY seq"
        )
        for seq, ident, at, only, many in self._rows(sql, tuple([*inner_params, *params])):
            yield Stored(seq, ident, "pir", _rfcs(only, many), _moment(at), {})

    def _first_cab(self) -> Iterator[CabApproved]:
        s = self.sql
        source, rfc = s.rfc_rows("r")
        scope, params = self._scope("r")
        sql = (
            f"SELECT min(r.seq), {rfc} FROM {source} WHERE r.kind = 'approval' AND {scope} "  # noqa: S608
            f"AND {s.text('step', 'r')} = 'cab' AND {s.text('decision', 'r')} = 'approve' "
            f"GROUP BY {rfc} ORDER BY 1"
        )
        for seq, rfc_id in self._rows(sql, tuple(params)):
            yield CabApproved(seq, rfc_id)

    def _emergency_approvals(self) -> Iterator[Stored]:
        """Every approval of an RFC that some `deployment.started` names as an emergency change."""
        s = self.sql
        started, rfc = s.rfc_rows("e")
        approvals, rfc_a = s.rfc_rows("a")
        scope_e, params_e = self._scope("e")
        scope_a, params_a = self._scope("a")
        scope, params = self._scope()
        change_type = "e.data->>'change_type'" if s.pg else "json_extract(e.body, '$.data.change_type')"
        sql = (
            f"SELECT seq, id, {self.d.at}, {s.rfcs()}, {s.members(APPROVAL)} FROM {self.d.table} "  # noqa: S608
            f"WHERE kind = 'approval' AND {scope} AND seq IN (SELECT a.seq FROM {approvals} "
            f"WHERE a.kind = 'approval' AND {scope_a} AND {rfc_a} IN (SELECT {rfc} FROM {started} "
            f"WHERE e.kind = 'deployment.started' AND {scope_e} AND {change_type} = 'emergency')) "
            "ORDER BY seq"
        )
        for row in self._rows(sql, tuple([*params, *params_a, *params_e])):
            seq, ident, moment, only, many = row[:5]
            yield Stored(seq, ident, "approval", _rfcs(only, many), _moment(moment), _data(APPROVAL, row[5:]))

    def _approvals(self) -> Iterator[Approval]:
        """Every approval, its step and decision when they are strings (None otherwise, which
        `AuditBuilder` skips as it skips such a record)."""
        s = self.sql
        scope, params = self._scope()
        sql = (
            f"SELECT seq, {s.rfcs()}, {s.text('step')}, {s.text('decision')} "  # noqa: S608
            f"FROM {self.d.table} WHERE kind = 'approval' AND {scope}{self.order}"
        )
        for seq, only, many, step, decision in self._rows(sql, tuple(params)):
            yield Approval(seq, _rfcs(only, many), step, decision)

    def events(self) -> Iterator[Event]:
        drivers: list[Iterator[Event]] = [
            self._records("deployment.finished"),
            self._records("incident.opened"),
            self._first_pirs(),
        ]
        followers: list[Iterator[Evidence | Approval]] = [self._evidence()]
        if self.sql.pg:
            # The server works out the decisions standing at each deployment; only the first CAB approval
            # of each RFC and the approvals of emergency changes (their after-the-fact review) come over.
            drivers += [self._started(), self._first_cab(), self._emergency_approvals()]
        else:
            # SQLite: sorting a million rows for a window costs more than reading the approvals in order.
            drivers.append(self._records("deployment.started"))
            followers.append(self._approvals())
        yield from _follow(heapq.merge(*drivers, key=_seq_of), followers)


def _follow(drivers: Iterator[Event], followers: list[Iterator[Evidence | Approval]]) -> Iterator[Event]:
    """`drivers` in order, each preceded by the follower events before it (and the rest at the end).

    Approvals and test evidence only change state that the other records read, so yielding a run of them
    just before the next record that reads it is the seq order as far as any answer can tell; it spares
    the merge a comparison per approval.
    """
    heads: list[Evidence | Approval | None] = [next(f, None) for f in followers]
    for event in drivers:
        seq = _seq_of(event)
        for i, follower in enumerate(followers):
            head = heads[i]
            while head is not None and head.seq < seq:
                yield head
                head = next(follower, None)
            heads[i] = head
        yield event
    rest = [(head, follower) for head, follower in zip(heads, followers, strict=True) if head is not None]
    yield from heapq.merge(*(_chain(head, follower) for head, follower in rest), key=_seq_of)


def _chain(head: Evidence | Approval, rest: Iterator[Evidence | Approval]) -> Iterator[Evidence | Approval]:
    yield head
    yield from rest


def _seq_of(event: Event) -> int:
    return event.record.seq if isinstance(event, Started) else event.seq


def _errors() -> tuple[type[BaseException], ...]:
    """What a reading that meets a record it cannot take raises: the caller then reads every record."""
    import sqlite3

    errors: tuple[type[BaseException], ...] = (sqlite3.Error, ValueError, TypeError)
    try:
        import psycopg
    except ImportError:
        return errors
    return (*errors, psycopg.Error)


class Prepared:
    """The audit's queries over a SQL ledger, started on connections of their own.

    A thread starts every query and waits for its first rows: the database works (PostgreSQL in its server
    processes, SQLite in C without the GIL) while the caller verifies the chain and loads the RFCs. `feed`
    then hands the rows to the builder; `close` ends the connections.
    """

    def __init__(self, queries: AuditQueries, closers: list[Any]) -> None:
        self.queries = queries
        self.closers = closers
        self.first: Event | None = None
        self.events: Iterator[Event] = iter(())
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._start, name="gatekeeper-audit-sql", daemon=True)
        self.thread.start()

    def _start(self) -> None:
        try:
            self.events = self.queries.events()
            self.first = next(self.events, None)
        except BaseException as exc:  # handed to the caller's thread by `feed`
            self.failure = exc

    def feed(self, builder: AuditBuilder) -> bool:
        """Feed `builder`; False when a stored record turns out not to be one this reading can take (then
        `builder` is spoiled: the caller starts a new one and feeds it every record, which reports such a
        record the way every other reader does)."""
        self.thread.join()
        try:
            if self.failure is not None:
                raise self.failure
            if self.first is not None:
                builder.feed_events(itertools.chain([self.first], self.events))
        except _errors():
            return False
        return True

    def close(self) -> None:
        self.thread.join()
        close = getattr(self.events, "close", None)
        if close is not None:
            close()
        for closer in reversed(self.closers):
            with contextlib.suppress(Exception):
                closer.close()


def prepare(
    ledger: object, *, system: str, since: datetime | None, until: datetime | None, steps: Sequence[str]
) -> Prepared | None:
    """Start the audit's queries over the ledger's database, or None when the backend has no SQL or when
    PostgreSQL holds a row whose `data` it could not read (the caller then reads every record)."""
    found = connection_of(ledger)
    if found is None:
        return None
    try:
        return _prepare(ledger, *found, system=system, since=since, until=until, steps=steps)
    except _errors():
        return None  # the caller reads every record, and reports a ledger it cannot reach its own way


def _prepare(
    ledger: object,
    main: Cursor,
    dialect: Dialect,
    *,
    system: str,
    since: datetime | None,
    until: datetime | None,
    steps: Sequence[str],
) -> Prepared | None:
    if dialect.name == "sqlite":
        import sqlite3

        path = getattr(ledger, "path", None)
        if path is None:
            return None
        db = sqlite3.connect(path, check_same_thread=False)
        db.execute("PRAGMA query_only = ON")
        return Prepared(AuditQueries(db, dialect, system, since, until, steps), [db])
    import psycopg

    info = main.info  # type: ignore[attr-defined]
    extra = {"password": info.password} if info.password else {}
    exporter = psycopg.connect(info.dsn, autocommit=False, **extra)
    try:
        exporter.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        if data_missing(exporter, dialect):
            exporter.close()
            return None
        queries = AuditQueries(exporter, dialect, system, since, until, steps)
        # Every query runs on a connection of its own, all reading this transaction's snapshot: plain
        # queries stream faster than server-side cursors and may use parallel workers.
        queries.snapshot = str(exporter.execute("SELECT pg_export_snapshot()").fetchone()[0])  # type: ignore[index]
    except BaseException:
        exporter.close()
        raise
    return Prepared(queries, [exporter])


def feed_from_database(builder: AuditBuilder, ledger: object, system: str) -> bool:
    """Feed `builder` from the ledger's database (`prepare`, then `Prepared.feed`); False when the backend
    has no SQL or the reading stepped aside."""
    prepared = prepare(
        ledger,
        system=system,
        since=builder.since,
        until=builder.until,
        steps=[str(r.step) for r in builder.policy.approvals.required],
    )
    if prepared is None:
        return False
    try:
        return prepared.feed(builder)
    finally:
        prepared.close()


def _sqlite_rows(db: Cursor, sql: str, params: tuple[object, ...]) -> Iterator[tuple[Any, ...]]:
    """Rows in batches; the first alone, so a thread that starts the query (`Prepared`) steps SQLite once
    (each step takes the GIL back, and a thread stepping row by row beside busy Python waits for it)."""
    cursor = db.execute(sql, params)
    yield from cursor.fetchmany(1)
    while batch := cursor.fetchmany(5000):
        yield from batch


def _pg_stream(
    cursor: Cursor, snapshot: str, sql: str, params: tuple[object, ...]
) -> Iterator[tuple[Any, ...]]:
    """Rows of one query, streamed in chunks on a new connection to the same server that reads `snapshot`
    (so every stream sees the same ledger); the connection is closed when the rows are read or dropped."""
    import psycopg
    from psycopg import sql as pgsql

    info = cursor.info  # type: ignore[attr-defined]
    extra = {"password": info.password} if info.password else {}
    with psycopg.connect(info.dsn, autocommit=False, **extra) as db:
        db.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        db.execute(pgsql.SQL("SET TRANSACTION SNAPSHOT {}").format(pgsql.Literal(snapshot)))
        db.execute("SET LOCAL jit = off")
        with db.cursor() as rows:
            yield from rows.stream(sql, params, size=2000)
        db.rollback()
