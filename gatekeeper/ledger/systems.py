"""Which systems have records in a ledger: what `--system all` means in the portfolio views.

SQLite and PostgreSQL walk their (system, seq) index from one system to the next (a loose index scan: one
index probe per system, however many records each has); the git ledger reads every record. The system
names are the records' own text: hostile for all the reader knows, so whoever shows them escapes them.
"""

from __future__ import annotations

import contextlib

from gatekeeper.ledger import LedgerReader

# From the smallest system name to the next larger one, one index probe each.
_SKIP_SCAN = (
    "WITH RECURSIVE s(system) AS ("
    " SELECT MIN(system) FROM {t}"
    " UNION ALL"
    " SELECT (SELECT MIN(system) FROM {t} WHERE system > s.system) FROM s WHERE s.system IS NOT NULL"
    ") SELECT system FROM s WHERE system IS NOT NULL"
)


def systems_of(ledger: LedgerReader) -> list[str]:
    """Every system some record of the ledger names, sorted."""
    from gatekeeper.ledger.sql_read import _errors, connection_of

    found = connection_of(ledger)
    if found is not None:
        db, dialect = found
        try:
            rows = db.execute(_SKIP_SCAN.format(t=dialect.table)).fetchall()
        except _errors():
            rows = None  # read every record instead; a ledger that cannot be read reports it there
        finally:
            if dialect.name == "postgres":  # end the read transaction the query opened
                with contextlib.suppress(Exception):
                    db.rollback()  # type: ignore[attr-defined]
        if rows is not None:
            return sorted(str(row[0]) for row in rows)
    return sorted({record.system for record in ledger.records()})
