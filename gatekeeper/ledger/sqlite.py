"""The SQLite ledger: one file, WAL journal, every append one IMMEDIATE transaction.

`BEGIN IMMEDIATE` takes the write lock before the head is read, so the precondition, the chaining and the
insert all see one state even when several processes append to the same file. `synchronous=FULL` makes a
committed append survive a power cut, which is what "exit 0 means stored" needs.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterable, Iterator
from datetime import datetime
from pathlib import Path

from gatekeeper.errors import GatekeeperError, LedgerError
from gatekeeper.ledger import (
    GENESIS,
    Draft,
    Precondition,
    Record,
    VerifyResult,
    parse_stored,
    utc_text,
    verify_stored,
    where_clause,
)

SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS schema_version (version INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS records (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    system TEXT NOT NULL,
    at_utc TEXT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS record_rfcs (rfc TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (rfc, seq));
CREATE INDEX IF NOT EXISTS records_kind_system ON records (kind, system, seq);
CREATE INDEX IF NOT EXISTS records_system ON records (system, seq);
CREATE INDEX IF NOT EXISTS records_at ON records (at_utc);
-- The gate's look-ups since a horizon: a range on time within (kind, system), not the whole history.
CREATE INDEX IF NOT EXISTS records_kind_system_at ON records (kind, system, at_utc);
"""
_BUSY_TIMEOUT_MS = 120_000


def _parse(seq: int, body: str) -> Record:
    return parse_stored(
        body,
        what=f"ledger record {seq}",
        hint="run `gatekeeper ledger verify` and restore the ledger file from a backup",
    )


class SqliteLedger:
    """A ledger in one SQLite file (created on first use)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self._db = sqlite3.connect(path, timeout=_BUSY_TIMEOUT_MS / 1000, isolation_level=None)
            self._db.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
            self._db.execute("PRAGMA journal_mode = WAL")
            self._db.execute("PRAGMA synchronous = FULL")
            self._migrate()
        except (sqlite3.Error, OSError) as exc:
            raise LedgerError(
                f"cannot open the SQLite ledger {path}: {exc}",
                hint="check that the path is a writable SQLite database (ledger.path in .gatekeeper.yml)",
            ) from None

    def _migrate(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            for statement in filter(None, (s.strip() for s in _SCHEMA.split(";"))):
                self._db.execute(statement)
            row = self._db.execute("SELECT max(version) FROM schema_version").fetchone()
            if row[0] is None:
                self._db.execute("INSERT INTO schema_version VALUES (?)", (SCHEMA_VERSION,))
            elif row[0] > SCHEMA_VERSION:
                raise LedgerError(
                    f"the SQLite ledger {self.path} has schema version {row[0]}, newer than this gatekeeper",
                    hint="upgrade gatekeeper",
                )
            self._db.execute("COMMIT")
        except BaseException:
            self._db.execute("ROLLBACK")
            raise

    # -- reading --------------------------------------------------------------------------------------

    def head(self) -> Record | None:
        try:
            row = self._db.execute("SELECT seq, body FROM records ORDER BY seq DESC LIMIT 1").fetchone()
        except sqlite3.Error as exc:
            raise self._error("read", exc) from None
        return None if row is None else _parse(row[0], row[1])

    def records(self, start_seq: int = 1) -> Iterator[Record]:
        for seq, body in self._rows(
            "SELECT seq, body FROM records WHERE seq >= ? ORDER BY seq", (start_seq,)
        ):
            yield _parse(seq, body)

    def find(
        self,
        *,
        kind: str | None = None,
        system: str | None = None,
        rfc: str | None = None,
        since: datetime | None = None,
        until: datetime | None = None,
    ) -> Iterator[Record]:
        where, values = where_clause(
            [
                # With an RFC, `+kind` keeps the planner on the RFC's few records, not every one of the kind.
                ("+kind = ?" if rfc is not None else "kind = ?", kind),
                ("system = ?", system),
                ("seq IN (SELECT seq FROM record_rfcs WHERE rfc = ?)", rfc),
                ("at_utc >= ?", None if since is None else utc_text(since)),
                ("at_utc < ?", None if until is None else utc_text(until)),
            ]
        )
        for seq, body in self._rows(f"SELECT seq, body FROM records {where} ORDER BY seq", values):  # noqa: S608
            yield _parse(seq, body)

    def _rows(self, sql: str, values: tuple[object, ...]) -> Iterator[tuple[int, str]]:
        try:
            cursor = self._db.execute(sql, values)
            while batch := cursor.fetchmany(2000):
                yield from batch
        except sqlite3.Error as exc:
            raise self._error("read", exc) from None

    def verify(self, start_seq: int = 1, prev: str = GENESIS) -> VerifyResult:
        try:
            # As a BLOB the stored UTF-8 reaches the hash without a decode and re-encode per record.
            cursor = self._db.execute(
                "SELECT CAST(body AS BLOB) FROM records WHERE seq >= ? ORDER BY seq", (start_seq,)
            )
            return verify_stored((row[0] for row in cursor), start_seq, prev)
        except sqlite3.Error as exc:
            raise self._error("read", exc) from None

    def extent(self) -> tuple[int, int]:
        try:
            # Two subqueries: each takes its fast path (count over the smallest index, max from the key).
            count, highest = self._db.execute(
                "SELECT (SELECT count(*) FROM records), (SELECT max(seq) FROM records)"
            ).fetchone()
        except sqlite3.Error as exc:
            raise self._error("read", exc) from None
        return int(count), int(highest or 0)

    def stored(self, seqs: Iterable[int]) -> Iterator[tuple[int, str]]:
        wanted = sorted(set(seqs))
        for start in range(0, len(wanted), 500):  # well under SQLite's bound on bound parameters
            chunk = wanted[start : start + 500]
            sql = f"SELECT seq, body FROM records WHERE seq IN ({','.join('?' * len(chunk))}) ORDER BY seq"  # noqa: S608
            yield from self._rows(sql, tuple(chunk))

    # -- writing --------------------------------------------------------------------------------------

    def append(self, draft: Draft, precondition: Precondition | None = None) -> Record:
        try:
            self._db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise self._error("write", exc) from None
        try:
            head = self.head()
            if precondition is not None:
                precondition(self)
            record = draft.place_after(head)
            self._db.execute(
                "INSERT INTO records (seq, id, kind, system, at_utc, hash, body) VALUES (?,?,?,?,?,?,?)",
                (
                    record.seq,
                    record.id,
                    record.kind,
                    record.system,
                    utc_text(record.at),
                    record.hash,
                    record.to_json(),
                ),
            )
            self._db.executemany(
                "INSERT OR IGNORE INTO record_rfcs (rfc, seq) VALUES (?, ?)",
                [(r, record.seq) for r in record.rfcs],
            )
            self._db.execute("COMMIT")
            return record
        except GatekeeperError:
            self._rollback()
            raise
        except sqlite3.Error as exc:
            self._rollback()
            raise self._error("write", exc) from None
        except BaseException:
            self._rollback()
            raise

    def _rollback(self) -> None:
        with contextlib.suppress(sqlite3.Error):  # already gone when the connection rolled it back itself
            self._db.execute("ROLLBACK")

    def _error(self, what: str, exc: sqlite3.Error) -> LedgerError:
        return LedgerError(
            f"cannot {what} the SQLite ledger {self.path}: {exc}",
            hint="check the file's permissions and free disk space; nothing was stored",
        )

    def close(self) -> None:
        self._db.close()

    def __enter__(self) -> SqliteLedger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
