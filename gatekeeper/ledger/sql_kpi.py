"""The KPIs' reading of a SQLite or PostgreSQL ledger (`sql_read`): the database extracts the system's
deployment, incident, evidence and audit records, and `checks.kpi.TallyBuilder` — the one definition of
every KPI — counts them, as it counts whole records streamed from any backend
(tests/audit/test_kpi.py)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from zoneinfo import ZoneInfo

from gatekeeper.checks.kpi import CommitTimes, Tally, TallyBuilder
from gatekeeper.domain import RecordKind
from gatekeeper.ledger.sql_read import read_database

# The kinds of record the KPIs read.
KINDS = tuple(
    str(kind)
    for kind in (
        RecordKind.DEPLOYMENT_STARTED,
        RecordKind.DEPLOYMENT_FINISHED,
        RecordKind.INCIDENT_OPENED,
        RecordKind.TEST_EVIDENCE,
        RecordKind.AUDIT_RUN,
    )
)


def sql_tallies(
    ledger: object,
    zone: ZoneInfo,
    *,
    system: str,
    since: datetime | None = None,
    until: datetime | None = None,
    due: Mapping[str, datetime] | None = None,
    commit_time: CommitTimes | None = None,
) -> dict[tuple[str, str], Tally] | None:
    """The system's tallies from what the ledger's database extracts, or None when the backend has no SQL
    (or PostgreSQL holds a row whose `data` it could not read as jsonb): the caller then streams records."""
    builder = TallyBuilder(zone, since, until, dict(due or {}))
    if commit_time is not None:
        builder.commit_time = commit_time
    if not read_database(ledger, builder.feed_events, system=system, kinds=KINDS, until=until):
        return None
    return builder.result()
