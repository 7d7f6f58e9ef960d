"""Bulk-written ledgers for the benchmarks: the rows `SqliteLedger.append` writes, in large transactions
instead of one per record, so a ledger of a million records is built in seconds."""

from __future__ import annotations

import itertools
import sqlite3
from collections.abc import Iterable
from pathlib import Path

from gatekeeper.ledger import Record, utc_text
from gatekeeper.ledger.sqlite import SqliteLedger

BATCH = 20_000


def fill_sqlite(path: Path, records: Iterable[Record]) -> None:
    """Write `records` (chained, in seq order) into a new SQLite ledger at `path`."""
    SqliteLedger(path).close()  # the backend creates its own schema
    db = sqlite3.connect(path)
    rows = iter(records)
    with db:
        while chunk := list(itertools.islice(rows, BATCH)):
            db.executemany(
                "INSERT INTO records (seq, id, kind, system, at_utc, hash, body) VALUES (?,?,?,?,?,?,?)",
                [(r.seq, r.id, r.kind, r.system, utc_text(r.at), r.hash, r.to_json()) for r in chunk],
            )
            db.executemany(
                "INSERT OR IGNORE INTO record_rfcs (rfc, seq) VALUES (?, ?)",
                [(rfc, r.seq) for r in chunk for rfc in r.rfcs],
            )
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # start from the steady state a long-lived ledger is in
    db.close()
