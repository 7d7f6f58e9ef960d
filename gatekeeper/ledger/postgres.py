"""The PostgreSQL ledger: one database shared by many pipelines (psycopg 3, imported only here).

Every append is one transaction that first takes a transaction-scoped advisory lock, so writers queue
and the chain stays linear however many pipelines append at once; the lock is released by COMMIT or
ROLLBACK, so a killed writer never leaves it held. The schema is created or migrated on first use under
the same kind of lock. The DSN comes from the environment variable the configuration names, never from
the configuration file, and it is never printed.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gatekeeper.errors import LedgerError, MissingExtraError
from gatekeeper.ledger import (
    GENESIS,
    Draft,
    Precondition,
    Record,
    VerifyResult,
    parse_stored,
    verify_stored,
    where_clause,
)
from gatekeeper.messages import msg

if TYPE_CHECKING:
    import psycopg

SCHEMA_VERSION = 4

# Each migration takes the schema from version i to i+1; `{s}` is the configured schema name.
_MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE IF NOT EXISTS {s}.records (
            seq bigint PRIMARY KEY,
            id text NOT NULL UNIQUE,
            kind text NOT NULL,
            system text NOT NULL,
            rfcs text[] NOT NULL,
            at timestamptz NOT NULL,
            hash text NOT NULL,
            body text NOT NULL
        )""",
        "CREATE INDEX IF NOT EXISTS records_kind_system ON {s}.records (kind, system, seq)",
        "CREATE INDEX IF NOT EXISTS records_system ON {s}.records (system, seq)",
        "CREATE INDEX IF NOT EXISTS records_rfcs ON {s}.records USING gin (rfcs)",
        "CREATE INDEX IF NOT EXISTS records_at ON {s}.records (at)",
    ),
    (
        # The record's `data` as jsonb, kept by the database, so KPI and audit queries read its members
        # without parsing the stored text again (adding the column rewrites the table once). A body that
        # is not JSON jsonb can hold (a hand-edited row, a \u0000 in a string) still stores, with a NULL
        # `data`: readers that find such a row fall back to parsing the records themselves.
        """CREATE OR REPLACE FUNCTION {s}.record_data(body text) RETURNS jsonb
            LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
            BEGIN
                RETURN body::jsonb -> 'data';
            EXCEPTION WHEN others THEN
                RETURN NULL;
            END $$""",
        "ALTER TABLE {s}.records ADD COLUMN IF NOT EXISTS data jsonb "
        "GENERATED ALWAYS AS ({s}.record_data(body)) STORED",
        "CREATE INDEX IF NOT EXISTS records_data_missing ON {s}.records (seq) WHERE data IS NULL",
    ),
    (
        # The gate looks up a system's deployments and evidence since a horizon: a range on time within
        # (kind, system) reads only the horizon's rows, not the system's whole history.
        "CREATE INDEX IF NOT EXISTS records_kind_system_at ON {s}.records (kind, system, at)",
    ),
    (
        # The columns the look-ups filter on (kind, system, RFCs, time) become generated from the stored
        # text, which the hash chain covers: nobody, whatever their access to the table, can make a look-up
        # miss a record (or find one) by editing a column beside a body that still verifies. Replacing the
        # columns rewrites the table once; their indexes are built again.
        """CREATE OR REPLACE FUNCTION {s}.record_member(body text, member text) RETURNS text
            LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
            BEGIN
                RETURN body::jsonb ->> member;
            EXCEPTION WHEN others THEN
                RETURN NULL;
            END $$""",
        # A record's time always carries its offset, so reading it depends on no session setting.
        """CREATE OR REPLACE FUNCTION {s}.record_at(body text) RETURNS timestamptz
            LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
            BEGIN
                RETURN (body::jsonb ->> 'at')::timestamptz;
            EXCEPTION WHEN others THEN
                RETURN NULL;
            END $$""",
        """CREATE OR REPLACE FUNCTION {s}.record_rfcs(body text) RETURNS text[]
            LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
            BEGIN
                RETURN ARRAY(SELECT jsonb_array_elements_text(body::jsonb -> 'rfcs'));
            EXCEPTION WHEN others THEN
                RETURN NULL;
            END $$""",
        """ALTER TABLE {s}.records
            DROP COLUMN kind, DROP COLUMN system, DROP COLUMN rfcs, DROP COLUMN at,
            ADD COLUMN kind text GENERATED ALWAYS AS ({s}.record_member(body, 'kind')) STORED,
            ADD COLUMN system text GENERATED ALWAYS AS ({s}.record_member(body, 'system')) STORED,
            ADD COLUMN rfcs text[] GENERATED ALWAYS AS ({s}.record_rfcs(body)) STORED,
            ADD COLUMN at timestamptz GENERATED ALWAYS AS ({s}.record_at(body)) STORED""",
        "CREATE INDEX IF NOT EXISTS records_kind_system ON {s}.records (kind, system, seq)",
        "CREATE INDEX IF NOT EXISTS records_system ON {s}.records (system, seq)",
        "CREATE INDEX IF NOT EXISTS records_rfcs ON {s}.records USING gin (rfcs)",
        "CREATE INDEX IF NOT EXISTS records_at ON {s}.records (at)",
        "CREATE INDEX IF NOT EXISTS records_kind_system_at ON {s}.records (kind, system, at)",
    ),
)


def _lock_key(schema: str, purpose: str) -> int:
    """A stable signed 64-bit advisory-lock key per schema and purpose."""
    digest = hashlib.sha256(f"gatekeeper:{schema}:{purpose}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def _parse(seq: int, body: str) -> Record:
    return parse_stored(
        body,
        what=f"ledger record {seq}",
        hint="run `gatekeeper ledger verify` and restore the table from a backup",
    )


class PostgresLedger:
    """A ledger in a PostgreSQL schema (created on first use)."""

    def __init__(self, dsn: str, schema: str = "gatekeeper", *, where: str = "the PostgreSQL ledger") -> None:
        try:
            import psycopg
        except ImportError as exc:
            raise MissingExtraError("psycopg") from exc
        self._psycopg = psycopg
        if not re.fullmatch(r"[a-z_][a-z0-9_]{0,62}", schema):
            raise LedgerError(
                msg("{schema!r} is not a valid ledger schema name", schema=schema),
                hint=msg("use lower-case letters, digits, _"),
            )
        self.schema = schema
        self.where = where
        try:
            self._db: psycopg.Connection[Any] = psycopg.connect(dsn, autocommit=False, connect_timeout=10)
        except psycopg.Error as exc:
            raise LedgerError(
                msg(
                    "cannot connect to {where}: {first_line_exc}",
                    where=where,
                    first_line_exc=_first_line(exc),
                ),
                hint=msg("check that the server is up and that the DSN in the environment variable is right"),
            ) from None
        except Exception as exc:  # a malformed DSN raises ProgrammingError or ValueError from libpq parsing
            raise LedgerError(
                msg(
                    "cannot connect to {where}: the DSN is not valid ({name})",
                    where=where,
                    name=type(exc).__name__,
                ),
                hint=msg("use a libpq DSN such as postgresql://user@host:5432/db"),
            ) from None
        self._migrate()
        with self._transaction("prepare"):
            # Every look-up is read to its end: plan server-side cursors for all their rows, not the first
            # tenth (that plan walks the primary key in seq order and filters every record, ~50 ms a
            # look-up at 100,000 records, where the RFC index answers in a millisecond).
            self._db.execute("SET cursor_tuple_fraction = 1.0")

    # -- schema ---------------------------------------------------------------------------------------

    def _migrate(self) -> None:
        s = self.schema
        with self._transaction("prepare"):
            self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(s, "migrate"),))
            self._db.execute(f"CREATE SCHEMA IF NOT EXISTS {s}")
            self._db.execute(f"CREATE TABLE IF NOT EXISTS {s}.schema_version (version integer NOT NULL)")
            row = self._db.execute(f"SELECT max(version) FROM {s}.schema_version").fetchone()  # noqa: S608
            current = 0 if row is None or row[0] is None else int(row[0])
            if current > SCHEMA_VERSION:
                raise LedgerError(
                    msg(
                        "{where} has schema version {current}, newer than this gatekeeper knows",
                        where=self.where,
                        current=current,
                    ),
                    hint=msg("upgrade gatekeeper"),
                )
            for version in range(current, SCHEMA_VERSION):
                for statement in _MIGRATIONS[version]:
                    self._db.execute(statement.format(s=s))
                self._db.execute(f"INSERT INTO {s}.schema_version VALUES (%s)", (version + 1,))  # noqa: S608

    # -- reading --------------------------------------------------------------------------------------

    def head(self) -> Record | None:
        with self._transaction("read"):
            return self._head()

    def _head(self) -> Record | None:
        row = self._db.execute(
            f"SELECT seq, body FROM {self.schema}.records ORDER BY seq DESC LIMIT 1"  # noqa: S608
        ).fetchone()
        return None if row is None else _parse(row[0], row[1])

    def records(self, start_seq: int = 1) -> Iterator[Record]:
        sql = f"SELECT seq, body FROM {self.schema}.records WHERE seq >= %s ORDER BY seq"  # noqa: S608
        for seq, body in self._stream(sql, (start_seq,)):
            yield _parse(seq, body)

    def find(
        self,
        *,
        kind: str | None = None,
        system: str | None = None,
        rfc: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
        carrying: str | None = None,
    ) -> Iterator[Record]:
        where, values = where_clause(
            [
                ("kind = %s", kind),
                ("system = %s", system),
                ("rfcs @> ARRAY[%s]::text[]", rfc),
                ("at >= %s", since),
                ("at < %s", until),
                ("strpos(body, %s) > 0", carrying),
            ]
        )
        sql = f"SELECT seq, body FROM {self.schema}.records {where} ORDER BY seq"  # noqa: S608
        for seq, body in self._stream(sql, values):
            yield _parse(seq, body)

    def _stream(self, sql: str, values: tuple[object, ...]) -> Iterator[tuple[int, str]]:
        """Rows through a server-side cursor, so memory stays flat on a large ledger."""
        if self._in_append or self._streaming:
            # Inside append's transaction (a precondition reading), or inside another stream's (a reader
            # looking records up while it is handed others): a plain cursor in the transaction already open.
            yield from self._db.execute(sql, values)
            return
        self._streaming = True
        try:
            with self._transaction("read"), self._db.cursor(name="gatekeeper_stream") as cursor:
                cursor.itersize = 5000
                cursor.execute(sql, values)
                yield from cursor
        finally:
            self._streaming = False

    _in_append = False
    _streaming = False

    def verify(self, start_seq: int = 1, prev: str = GENESIS) -> VerifyResult:
        # COPY streams the stored text with no per-row driver overhead: verify runs at hashing speed.
        rows = f"SELECT body FROM {self.schema}.records WHERE seq >= {int(start_seq)} ORDER BY seq"  # noqa: S608
        sql = f"COPY ({rows}) TO STDOUT"
        with self._transaction("read"), self._db.cursor() as cursor, cursor.copy(sql) as copy:
            lines = _copy_lines(copy)
            result = verify_stored(lines, start_seq, prev)
            for _rest in lines:  # a COPY must be read to its end before the connection takes a command
                pass
            return result

    def extent(self) -> tuple[int, int]:
        with self._transaction("read"):
            row = self._db.execute(f"SELECT count(*), max(seq) FROM {self.schema}.records").fetchone()  # noqa: S608
        return (0, 0) if row is None else (int(row[0]), int(row[1] or 0))

    def stored(self, seqs: Iterable[int]) -> Iterator[tuple[int, str]]:
        sql = f"SELECT seq, body FROM {self.schema}.records WHERE seq = ANY(%s) ORDER BY seq"  # noqa: S608
        yield from self._stream(sql, (sorted(set(seqs)),))

    # -- writing --------------------------------------------------------------------------------------

    def append(self, draft: Draft, precondition: Precondition | None = None) -> Record:
        s = self.schema
        with self._transaction("write"):
            self._in_append = True
            try:
                self._db.execute("SELECT pg_advisory_xact_lock(%s)", (_lock_key(s, "append"),))
                head = self._head()
                if precondition is not None:
                    precondition(self)
                record = draft.place_after(head)
                # kind, system, rfcs, at and data are generated from the body by the database.
                self._db.execute(
                    f"INSERT INTO {s}.records (seq, id, hash, body) VALUES (%s, %s, %s, %s)",  # noqa: S608
                    (record.seq, record.id, record.hash, record.to_json()),
                )
            finally:
                self._in_append = False
        return record

    @contextlib.contextmanager
    def _transaction(self, what: str) -> Iterator[None]:
        """Commit on success, roll back on any error, and turn driver errors into LedgerError."""
        psycopg = self._psycopg
        try:
            yield
            self._db.commit()
        except psycopg.Error as exc:
            with contextlib.suppress(psycopg.Error):
                self._db.rollback()  # when the connection is gone, the server rolled back already
            if what == "write":
                raise LedgerError(
                    msg("cannot write {where}: {error}", where=self.where, error=_first_line(exc)),
                    hint=msg("check that the database is up and reachable; nothing was stored"),
                ) from None
            raise LedgerError(
                msg("cannot {what} {where}: {error}", what=what, where=self.where, error=_first_line(exc)),
                hint=msg("check that the database is up and reachable"),
            ) from None
        except BaseException:
            with contextlib.suppress(psycopg.Error):
                self._db.rollback()
            raise

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> PostgresLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


_COPY_ESCAPES = {b"b": b"\b", b"f": b"\f", b"n": b"\n", b"r": b"\r", b"t": b"\t", b"v": b"\v", b"\\": b"\\"}
_COPY_ESCAPE = re.compile(rb"\\([0-7]{1,3}|x[0-9a-fA-F]{1,2}|.)")


def _copy_unescape(match: re.Match[bytes]) -> bytes:
    code = match.group(1)
    if code[:1] in b"01234567":
        return bytes([int(code, 8) & 0xFF])
    if code[:1] == b"x" and len(code) > 1:
        return bytes([int(code[1:], 16)])
    return _COPY_ESCAPES.get(code, code)


def _copy_lines(copy: Iterable[Any]) -> Iterator[bytes]:
    """The rows of a one-column COPY ... TO STDOUT (text format), unescaped, as the stored UTF-8 bytes."""
    pending = b""
    for block in copy:
        pending += bytes(block)
        *lines, pending = pending.split(b"\n")
        for line in lines:
            yield _COPY_ESCAPE.sub(_copy_unescape, line) if b"\\" in line else line
    if pending:
        yield _COPY_ESCAPE.sub(_copy_unescape, pending) if b"\\" in pending else pending


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def open_postgres(dsn_env: str, schema: str, env: Mapping[str, str]) -> PostgresLedger:
    dsn = env.get(dsn_env, "")
    if not dsn:
        raise LedgerError(
            msg(
                "the postgres ledger needs a DSN in the environment variable {dsn_env}, which is not set",
                dsn_env=dsn_env,
            ),
            hint=msg(
                "set {dsn_env}=postgresql://user@host/db (a CI secret), or choose another ledger backend",
                dsn_env=dsn_env,
            ),
        )
    return PostgresLedger(dsn, schema, where=f"the PostgreSQL ledger (DSN from ${dsn_env})")
