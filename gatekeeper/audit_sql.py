"""The audit's reading of a SQLite or PostgreSQL ledger: the database hands over what the checklist needs.

`AuditBuilder.feed` parses every record in Python. Here the database extracts the members the checklist
reads (the test counts computed in SQL exactly as `kpi.test_counts` counts them) of the approval,
test-evidence, deployment, incident and PIR records, and hands them over in seq order. Each backend takes
its cheaper way: PostgreSQL in one query over the table in the primary key's order; SQLite in a query per
kind, each sorting in C on a thread of its own, merged here (for PIRs, only each RFC's first: a later PIR
changes no answer). `feed_events` gives the same answers from these streams as `feed` gives from all
records (tests/audit/test_backends_agree.py).

`prepare` starts the reading on a connection of its own before the caller loads the RFCs and verifies
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
    Event,
    Evidence,
    Stored,
)
from gatekeeper.kpi_sql import Cursor, Dialect, connection_of, data_missing


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

    @staticmethod
    def rfcs() -> str:
        """SQLite: two columns, the only RFC of a record that names one, else the JSON array."""
        return (
            "CASE WHEN json_array_length(body, '$.rfcs') = 1 THEN json_extract(body, '$.rfcs[0]') END, "
            "CASE WHEN json_array_length(body, '$.rfcs') <> 1 THEN json_extract(body, '$.rfcs') END"
        )

    def odd(self, names: Sequence[str]) -> str:
        """The whole `data` when one of `names` is present but not a string (rare: then the record's reader
        sees exactly what it would have), else NULL."""
        if self.pg:
            odd = " OR ".join(f"jsonb_typeof(data->'{name}') <> 'string'" for name in names)
            return f"CASE WHEN {odd} THEN ((body::json)->'data') END"
        odd = " OR ".join(f"json_type(body, '$.data.{name}') <> 'text'" for name in names)
        return f"CASE WHEN {odd} THEN json_extract(body, '$.data') END"

    def members(self, names: Sequence[str]) -> str:
        """Columns: each `data.<name>` that is a string, then `odd`."""
        return ", ".join([*(self.text(name) for name in names), self.odd(names)])


def _rfcs(only: str | None, many: Any) -> tuple[str, ...]:
    if only is not None:
        return (only,)
    return tuple(json.loads(many) if isinstance(many, str) else many)


def _data(names: Sequence[str], values: Sequence[Any]) -> dict[str, Any]:
    """A record's `data` as far as `names` go, from the columns of `_Sql.members` (`values` may hold more
    columns before the last, which is `_Sql.odd`)."""
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
    ) -> None:
        self.cursor = cursor
        self.sql = _Sql(dialect)
        self.d = dialect
        self.system = system
        self.since = since
        self.until = until
        # SQLite: sorting (`+seq` is not the index's order) makes the first step of a query do all of its
        # work, in C and without the GIL, which `prepare` starts while the caller verifies the chain.
        self.order = " ORDER BY +seq"

    def _rows(self, sql: str, params: tuple[object, ...]) -> Iterator[tuple[Any, ...]]:
        if self.sql.pg:
            return _pg_rows(self.cursor, sql, params)
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

    # SQLite reads a query per kind (`events`): `_records`, `_evidence`, `_first_pirs`, `_approvals`.

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
        scope, params = self._scope("p")
        inner_scope, inner_params = self._scope()
        sql = (
            f"SELECT seq, id, {self.d.at}, {s.rfcs()} FROM {self.d.table} "  # noqa: S608
            f"WHERE kind = 'pir' AND {inner_scope} AND seq IN "
            f"(SELECT min(p.seq) FROM record_rfcs x JOIN records p ON p.seq = x.seq "
            f"WHERE p.kind = 'pir' AND {scope} GROUP BY x.rfc) ORDER BY seq"
        )
        for seq, ident, at, only, many in self._rows(sql, tuple([*inner_params, *params])):
            yield Stored(seq, ident, "pir", _rfcs(only, many), _moment(at), {})

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

    def _ledger(self) -> Iterator[Event]:
        """PostgreSQL: every record the checklist reads, in one query in seq order. One pass over the
        table in the primary key's order costs the server less than a query per kind, each scanning the
        table and sorting what it found, and the stream needs no merging."""
        s, d = self.sql, self.d
        scope, params = self._scope()
        run, passed = d.test_counts()
        # Up to four members per kind, in the columns m1..m4 (each evaluated for its kind only).
        members: dict[str, list[str]] = {
            "approval": [s.text("step"), s.text("decision")],
            "test.evidence": [s.text("kind"), s.text("commit"), f"({run})::text", f"({passed})::text"],
            **{kind: [s.text(name) for name in names] for kind, names in MEMBERS.items()},
        }
        # Only a finished deployment's own offset shows (in a PIR's due date); the others need the instant.
        members["deployment.finished"].append(s.at_text())
        columns = [
            "CASE kind "
            + " ".join(f"WHEN '{kind}' THEN {exprs[i]}" for kind, exprs in members.items() if len(exprs) > i)
            + " END"
            for i in range(4)
        ]
        whole = " ".join(f"WHEN '{kind}' THEN {s.odd(names)}" for kind, names in MEMBERS.items())
        kinds = ", ".join(f"'{kind}'" for kind in [*members, "pir"])
        sql = (
            # An approval's id and time are not read: NULL costs nothing to hand over.
            f"SELECT seq, CASE WHEN kind <> 'approval' THEN id END, kind, "  # noqa: S608
            f"CASE WHEN kind <> 'approval' THEN {d.at} END, rfcs, {', '.join(columns)}, "
            f"CASE kind {whole} END "
            f"FROM {d.table} WHERE kind IN ({kinds}) AND {scope} ORDER BY seq"
        )
        for seq, ident, kind, moment, rfcs, m1, m2, m3, m4, odd in self._rows(sql, tuple(params)):
            if kind == "approval":
                yield Approval(seq, tuple(rfcs), m1, m2)
            elif kind == "test.evidence":
                yield Evidence(seq, _moment(moment), tuple(rfcs), m1, m2, int(m3), int(m4))
            elif kind == "pir":
                yield Stored(seq, ident, kind, tuple(rfcs), _moment(moment), {})
            else:
                names = MEMBERS[kind]
                if kind == "deployment.finished":
                    moment = m4
                data = _data(names, (m1, m2, m3, odd))
                yield Stored(seq, ident, kind, tuple(rfcs), _moment(moment), data)

    def events(self) -> Iterator[Event]:
        if self.sql.pg:
            yield from self._ledger()
            return
        # SQLite: a query per kind, merged here in seq order. Each sorts its rows in its first step, in C and
        # without the GIL, so the queries work side by side while `prepare`'s caller verifies the chain.
        drivers: list[Iterator[Event]] = [
            self._records("deployment.finished"),
            self._records("incident.opened"),
            self._first_pirs(),
            self._records("deployment.started"),
        ]
        followers: list[Iterator[Evidence | Approval]] = [self._evidence(), self._approvals()]
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
    return event.seq


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
    ledger: object, *, system: str, since: datetime | None, until: datetime | None
) -> Prepared | None:
    """Start the audit's queries over the ledger's database, or None when the backend has no SQL or when
    PostgreSQL holds a row whose `data` it could not read (the caller then reads every record)."""
    found = connection_of(ledger)
    if found is None:
        return None
    try:
        return _prepare(ledger, *found, system=system, since=since, until=until)
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
) -> Prepared | None:
    if dialect.name == "sqlite":
        import sqlite3

        path = getattr(ledger, "path", None)
        if path is None:
            return None
        db = sqlite3.connect(path, check_same_thread=False)
        db.execute("PRAGMA query_only = ON")
        return Prepared(AuditQueries(db, dialect, system, since, until), [db])
    import psycopg

    info = main.info  # type: ignore[attr-defined]
    extra = {"password": info.password} if info.password else {}
    # A connection of its own: the query runs in a thread (`Prepared`) while the caller reads the ledger.
    own = psycopg.connect(info.dsn, autocommit=False, **extra)
    try:
        if data_missing(own, dialect):
            own.close()
            return None
    except BaseException:
        own.close()
        raise
    return Prepared(AuditQueries(own, dialect, system, since, until), [own])


def feed_from_database(builder: AuditBuilder, ledger: object, system: str) -> bool:
    """Feed `builder` from the ledger's database (`prepare`, then `Prepared.feed`); False when the backend
    has no SQL or the reading stepped aside."""
    prepared = prepare(
        ledger,
        system=system,
        since=builder.since,
        until=builder.until,
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


def _pg_rows(db: Cursor, sql: str, params: tuple[object, ...]) -> Iterator[tuple[Any, ...]]:
    """Rows of one query, streamed in chunks in binary form (cheaper to read than text, and than a
    server-side cursor's fetches), so a million rows never sit in memory. One server process does the
    work: the audit's other work (verifying the chain in a second process, building the checklist) already
    keeps the cores busy, and parallel workers would only add to it."""
    db.execute("SET LOCAL jit = off")
    db.execute("SET LOCAL max_parallel_workers_per_gather = 0")
    with db.cursor() as cursor:  # type: ignore[attr-defined]
        yield from cursor.stream(sql, params, binary=True, size=2000)
    db.rollback()  # type: ignore[attr-defined]
