"""The audit's reading of a SQLite or PostgreSQL ledger (`sql_read`): the records the checklist reads, with
only the members it reads, folded by `AuditBuilder.feed_events` as `feed` folds whole records
(tests/audit/test_backends_agree.py)."""

from __future__ import annotations

from datetime import datetime

from gatekeeper.checks.audit import AuditBuilder
from gatekeeper.facts.history import KINDS as HISTORY_KINDS
from gatekeeper.ledger.sql_read import Prepared, read_database
from gatekeeper.ledger.sql_read import prepare as prepare_read

# The kinds of record the checklist reads.
KINDS = tuple(str(kind) for kind in HISTORY_KINDS)


def prepare(ledger: object, *, system: str, until: datetime | None) -> Prepared | None:
    """Start the audit's reading (before the caller loads the RFCs); None: read every record instead."""
    return prepare_read(ledger, system=system, kinds=KINDS, until=until)


def feed_from_database(builder: AuditBuilder, ledger: object, system: str) -> bool:
    """Feed `builder` from the ledger's database; False when the backend has no SQL or stepped aside."""
    return read_database(ledger, builder.feed_events, system=system, kinds=KINDS, until=builder.until)
