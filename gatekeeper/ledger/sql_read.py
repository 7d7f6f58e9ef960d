"""Reading a SQLite or PostgreSQL ledger in one pass: the database extracts, Python defines.

`RecordStream` reads the records of one system and of the kinds a caller reads, in seq order and before a
time, and hands over of each little more than its `data`, which Python reads with the typed payload models
(`domain.records`) exactly as a reader of whole records does. Approvals, most of a ledger, are handed over
as their members (step, decision, digests, actor, actor source), which `Approval.from_members` checks as
`Approval.parse` does. A reader that counts (the KPIs, `summary=True`) reads deployments and test evidence
as summaries (`domain.records.parse_summary`: only the members it counts), and SQLite then extracts just
those members. A record whose payload does not read is handed over as `Malformed`. The audit
(`checks.audit.feed_from_database`) and the KPIs (`checks.kpi.sql_tallies`) read their records this way;
what the records mean is defined once, in Python (`checks.audit`, `checks.kpi`).

PostgreSQL extracts an approval's members itself and hands the other records' jsonb `data` over as text.
SQLite, which parses a record's JSON once per call, extracts the members in one `json_extract` of several
paths, read in ranges of seqs so that its work overlaps Python's (`_sqlite_ranges`). `prepare` starts the
query on a connection of its own, so the database works while the caller loads what it needs. The SQL reads
the backends' tables (`records`: seq, id, kind, system, at_utc|at, body; in PostgreSQL also the `rfcs`
array and the jsonb `data` column).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from gatekeeper.domain.records import (
    SUMMARY_MEMBERS,
    SUMMARY_OBJECT,
    Entry,
    Malformed,
    PayloadError,
    parse_payload,
    parse_summary,
)
from gatekeeper.ledger import utc_text
from gatekeeper.messages import msg

# What a stream hands over: approvals as their members — (seq, rfcs, step, decision, rfc_digest, digest,
# actor, actor_source, commit), None where absent — other records typed, unreadable ones marked.
Event = tuple[Any, ...] | Entry[Any] | Malformed


class Cursor(Protocol):
    def execute(self, sql: str, params: Any = ..., /) -> Any: ...


@dataclass(frozen=True)
class Dialect:
    """The few places where SQLite and PostgreSQL spell the same thing differently."""

    name: str
    table: str
    at: str  # a column expression sortable as time
    param: str  # placeholder

    def stamp(self, moment: datetime) -> object:
        return utc_text(moment) if self.name == "sqlite" else moment


def sqlite_dialect() -> Dialect:
    return Dialect("sqlite", "records", "at_utc", "?")


def postgres_dialect(schema: str) -> Dialect:
    return Dialect("postgres", f"{schema}.records", "at", "%s")


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


def data_missing(cursor: Cursor, dialect: Dialect) -> bool:
    """Whether a PostgreSQL ledger holds a record whose `data` column is NULL (its body is not a record
    jsonb can hold); an index on exactly those rows makes this a lookup."""
    if dialect.name != "postgres":
        return False
    sql = f"SELECT EXISTS (SELECT 1 FROM {dialect.table} WHERE data IS NULL)"  # noqa: S608
    row = cursor.execute(sql).fetchone()
    return bool(row[0])


def _moment(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(value)
    if moment.tzinfo is None:
        raise ValueError(f"a record time {str(value)[:40]!r} has no offset")
    return moment


def _entry(
    seq: int,
    ident: str,
    kind: str,
    system: str,
    rfcs: tuple[str, ...],
    actor: str,
    at: Any,
    data: Any,
    source: str = "",
    summary: bool = False,
) -> Entry[Any] | Malformed:
    """A record as the checklist reads it (`summary`: as the KPIs read it, `parse_summary`), or why its
    payload does not read."""
    moment = _moment(at)
    try:
        if not isinstance(data, dict):
            raise PayloadError(msg("`data` is not an object"))
        payload = (parse_summary if summary else parse_payload)(kind, data)
    except PayloadError as exc:
        reason, reason_ko = msg("{kind} record {seq}: {exc}", kind=kind, seq=seq, exc=exc.message).pair
        return Malformed(seq, kind, reason, moment, reason_ko)
    return Entry(seq, ident, kind, system, rfcs, actor, source, moment, payload)


class RecordStream:
    """The records of one system and of `kinds` written before `until`, as events (see `Event`)."""

    def __init__(
        self,
        cursor: Cursor,
        dialect: Dialect,
        system: str,
        kinds: Sequence[str],
        until: datetime | None,
        spare: Cursor | None = None,
        *,
        facts: bool = True,
        summary: bool = False,
    ) -> None:
        self.cursor = cursor
        # Whether the most frequent kinds are read as summaries (`domain.records.parse_summary`: the KPIs).
        self.summary = summary
        # Whether a deployment's recorded facts are wanted (the audit reads them; the KPIs need not pay for
        # handing them over).
        self.facts = facts
        self.spare = spare  # SQLite: a second connection, which reads every other range (`_sqlite_ranges`)
        self.d = dialect
        self.system = system
        self.kinds = tuple(kinds)
        self.until = until

    def _scope(self) -> tuple[str, list[object]]:
        """`system = ? AND kind IN (...) AND at < until`, and its parameters."""
        kinds = ", ".join(f"'{kind}'" for kind in self.kinds)
        clause = f"system = {self.d.param} AND kind IN ({kinds})"
        params: list[object] = [self.system]
        if self.until is not None:
            clause += f" AND {self.d.at} < {self.d.param}"
            params.append(self.d.stamp(self.until))
        return clause, params

    def events(self) -> Iterator[Event]:
        return self._postgres() if self.d.name == "postgres" else self._sqlite()

    def _postgres(self) -> Iterator[Event]:
        """One pass over the table in the primary key's order: cheaper for the server than a query per kind,
        each scanning the table and sorting what it found. The server extracts an approval's members
        (approvals are most of a ledger); the other records' `data` comes whole, read by the typed models."""
        scope, params = self._scope()
        system, summary = self.system, self.summary
        data = "data" if self.facts else "data - 'facts'"
        # Most approvals are handed over as their members; one that carries an attestation comes whole, as
        # the attestation is verified against the whole record.
        bare = "(kind = 'approval' AND NOT data ? 'attestation')"
        sql = (
            # A bare approval's id and time are not read: NULL costs nothing to hand over.
            f"SELECT seq, kind, rfcs, CASE WHEN NOT {bare} THEN id END, "  # noqa: S608
            f"CASE WHEN NOT {bare} THEN {self.d.at} END, "
            f"CASE WHEN {bare} THEN data->'step' END, "
            f"CASE WHEN {bare} THEN data->'decision' END, "
            f"CASE WHEN {bare} THEN data->'rfc_digest' END, "
            f"CASE WHEN {bare} THEN data->'digest' END, "
            f"CASE WHEN {bare} THEN data->'commit' END, "
            # Who wrote the record, and where: its own members (the body holds them, `data` does not). Every
            # kind needs them: the role checks read the actor, and a signed record's signature is verified
            # against its actor and source.
            "record.body->>'actor', record.body->>'actor_source', "
            f"CASE WHEN NOT {bare} THEN ({data})::text END, "
            # A record's own time, as written (a signed record's token is bound to the record as written).
            f"CASE WHEN NOT {bare} THEN record.body->>'at' END "
            # The body is parsed once per row.
            f"FROM {self.d.table} CROSS JOIN LATERAL (SELECT body::json AS body) AS record "
            f"WHERE {scope} ORDER BY seq"
        )
        decode = json.JSONDecoder().raw_decode  # see `_sqlite`
        rows = _pg_rows(self.cursor, sql, tuple(params))
        for row in rows:
            (
                seq,
                kind,
                rfcs,
                ident,
                moment,
                step,
                decision,
                rfc_digest,
                digest,
                commit,
                actor,
                source,
                data,
                at,
            ) = row
            if data is None and kind == "approval":
                yield (seq, tuple(rfcs), step, decision, rfc_digest, digest, actor, source, commit)
            else:
                found = decode(data)[0]
                yield _entry(
                    seq,
                    ident,
                    kind,
                    system,
                    tuple(rfcs),
                    actor or "",
                    at or moment,
                    found,
                    source or "",
                    summary,
                )

    def _summaries(self) -> str:
        """`WHEN` branches handing over a summary kind's record as [rfcs, actor, actor source, and the
        members `parse_summary` reads] (`SUMMARY_MEMBERS`: never 5 items, the length of a whole record's
        array); a record whose `data`, or the member `SUMMARY_OBJECT` names, is no object comes whole."""
        if not self.summary:
            return ""
        branches = []
        for kind, members in SUMMARY_MEMBERS.items():
            if kind not in self.kinds:
                continue
            held = SUMMARY_OBJECT.get(kind)
            path = f"'$.data.{held}'" if held else "'$.data'"
            paths = ", ".join(f"'$.data.{member}'" for member in members)
            branches.append(
                f"WHEN kind = '{kind}' AND json_type(body, {path}) = 'object' THEN "
                f"json_extract(body, '$.rfcs', '$.actor', '$.actor_source', {paths}) "
            )
        return "".join(branches)

    def _sqlite(self) -> Iterator[Event]:
        """One pass in seq order; each record's JSON is parsed once, by one `json_extract` of several paths
        (a JSON array), and Python reads the members from that as `feed` reads them from the record."""
        scope, params = self._scope()
        system, summary = self.system, self.summary
        # [rfcs, step, decision, rfc_digest, digest, actor, source, commit] per approval, [rfcs, data, actor]
        # else.
        body = "body" if self.facts else "json_remove(body, '$.data.facts')"
        # An approval that carries an attestation comes whole (see `_postgres`).
        extract = (
            "CASE WHEN kind = 'approval' AND json_type(body, '$.data.attestation') IS NULL THEN "
            "json_extract(body, '$.rfcs', '$.data.step', '$.data.decision', '$.data.rfc_digest', "
            "'$.data.digest', '$.actor', '$.actor_source', '$.data.commit') "
            f"{self._summaries()}"
            f"ELSE json_extract({body}, "
            "'$.rfcs', '$.data', '$.actor', '$.actor_source', "
            "CASE kind WHEN 'approval' THEN '$.at' ELSE '$.none' END) END"
        )
        sql = (
            f"SELECT seq, id, kind, at_utc, {extract} FROM records "  # noqa: S608
            f"WHERE {scope} AND seq BETWEEN ? AND ? ORDER BY +seq"
        )
        # raw_decode skips `json.loads`'s checks for surrounding whitespace, which SQLite never writes;
        # over a million rows that is a second saved.
        decode = json.JSONDecoder().raw_decode
        connections = [self.cursor, self.spare or self.cursor]
        names = {kind: (3 + len(members), members) for kind, members in SUMMARY_MEMBERS.items()}
        for seq, ident, kind, at, members in _sqlite_ranges(connections, sql, params):
            found = decode(members)[0]
            rfcs = tuple(found[0])
            if kind == "approval" and len(found) == 8:
                yield (seq, rfcs, *found[1:])
            elif summary and kind in names and len(found) == names[kind][0]:
                data = dict(zip(names[kind][1], found[3:], strict=True))
                yield _entry(seq, ident, kind, system, rfcs, found[1] or "", at, data, found[2] or "", True)
            else:
                moment = found[4] or at  # an approval's own time, as written (see `_postgres`)
                yield _entry(
                    seq, ident, kind, system, rfcs, found[2] or "", moment, found[1], found[3] or "", summary
                )


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
    """A `RecordStream` over a SQL ledger, on a connection of its own.

    A thread starts the query and waits for its first row, so the database plans and starts reading while
    the caller loads what it needs. `feed` then hands the events over; `close` ends the connection.
    """

    def __init__(self, queries: RecordStream, closers: list[Any]) -> None:
        self.queries = queries
        self.closers = closers
        self.first: Event | None = None
        self.events: Iterator[Event] = iter(())
        self.failure: BaseException | None = None
        self.thread = threading.Thread(target=self._start, name="gatekeeper-sql-read", daemon=True)
        self.thread.start()

    def _start(self) -> None:
        try:
            self.events = self.queries.events()
            self.first = next(self.events, None)
        except BaseException as exc:  # handed to the caller's thread by `feed`
            self.failure = exc

    def feed(self, consume: Callable[[Iterable[Event]], object]) -> bool:
        """Hand every event to `consume`; False when the database fails midway (then what `consume` built
        is spoiled: the caller starts again and reads every record its own way)."""
        self.thread.join()
        try:
            if self.failure is not None:
                raise self.failure
            if self.first is not None:
                consume(itertools.chain([self.first], self.events))
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
    ledger: object,
    *,
    system: str,
    kinds: Sequence[str],
    until: datetime | None,
    facts: bool = True,
    summary: bool = False,
) -> Prepared | None:
    """Start reading the system's records of `kinds` from the ledger's database, or None when the backend
    has no SQL or PostgreSQL holds a row whose `data` it could not read (the caller then reads every
    record)."""
    found = connection_of(ledger)
    if found is None:
        return None
    try:
        return _prepare(ledger, *found, system=system, kinds=kinds, until=until, facts=facts, summary=summary)
    except _errors():
        return None  # the caller reads every record, and reports a ledger it cannot reach its own way


def _prepare(
    ledger: object,
    main: Cursor,
    dialect: Dialect,
    *,
    system: str,
    kinds: Sequence[str],
    until: datetime | None,
    facts: bool,
    summary: bool,
) -> Prepared | None:
    if dialect.name == "sqlite":
        import sqlite3

        path = getattr(ledger, "path", None)
        if path is None:
            return None
        pair = [sqlite3.connect(path, check_same_thread=False) for _ in range(2)]
        for db in pair:
            db.execute("PRAGMA query_only = ON")
        stream = RecordStream(
            pair[0], dialect, system, kinds, until, spare=pair[1], facts=facts, summary=summary
        )
        return Prepared(stream, pair)
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
    stream = RecordStream(own, dialect, system, kinds, until, facts=facts, summary=summary)
    return Prepared(stream, [own])


def read_database(
    ledger: object,
    consume: Callable[[Iterable[Event]], object],
    *,
    system: str,
    kinds: Sequence[str],
    until: datetime | None,
    facts: bool = True,
    summary: bool = False,
) -> bool:
    """Hand `consume` the system's records of `kinds` from the ledger's database (`prepare`, then
    `Prepared.feed`); False when the backend has no SQL or the reading stepped aside. `summary`: the most
    frequent kinds read as summaries (`domain.records.parse_summary`)."""
    prepared = prepare(ledger, system=system, kinds=kinds, until=until, facts=facts, summary=summary)
    if prepared is None:
        return False
    try:
        return prepared.feed(consume)
    finally:
        prepared.close()


SQLITE_RANGE = 50_000


def _sqlite_ranges(
    connections: Sequence[Cursor], sql: str, params: Sequence[object]
) -> Iterator[tuple[Any, ...]]:
    """The rows of `sql` (which ends in `seq BETWEEN ? AND ? ORDER BY +seq`) for seq ranges of
    `SQLITE_RANGE` records in turn, the connections taking turns.

    Sorting (`+seq` is not the index's order) makes a query's first step do all of its work, JSON parsing
    included, in C and without the GIL. While Python reads one range's rows, a thread runs the next range's
    first step on the other connection, so the database's work and Python's overlap. (A thread reading
    rows one step at a time beside busy Python would wait for the GIL at every row.) Records are only ever
    appended, so ranges up to the highest seq seen at the start make one consistent ledger."""
    from concurrent.futures import ThreadPoolExecutor

    last = connections[0].execute("SELECT max(seq) FROM records").fetchone()[0] or 0
    starts = range(1, last + 1, SQLITE_RANGE)

    def start(index: int) -> Any:
        lo = starts[index]
        return connections[index % 2].execute(sql, (*params, lo, lo + SQLITE_RANGE - 1))

    if not starts:
        return
    pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="gatekeeper-audit-sqlite")
    try:
        pending = pool.submit(start, 0)
        for index in range(len(starts)):
            cursor = pending.result()
            if index + 1 < len(starts):
                pending = pool.submit(start, index + 1)
            while batch := cursor.fetchmany(5000):
                yield from batch
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


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
