"""PostgreSQL's look-up columns (kind, system, RFCs, time) are generated from the stored text: the hash chain
covers what the indexed look-ups filter on. A ledger of schema version 3 (columns written by the
application) migrates in place, and nobody with write access to the table can set a column beside a body
that still verifies."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from gatekeeper.ledger import Draft, postgres
from gatekeeper.ledger.postgres import PostgresLedger
from tests.ledger.pgcluster import record_columns
from tests.ledger.tamper import insert_as_written_before_version_4

pytestmark = pytest.mark.postgres

T0 = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


def _drafts() -> list[Draft]:
    return [
        Draft("approval", "portal", "kim", "local", T0, {"step": "cab", "decision": "approve"}, ("RFC-1",)),
        Draft(
            "approval",
            "portal",
            "lee",
            "local",
            T0 + timedelta(minutes=1),
            {"step": "cab"},
            ("RFC-1", "RFC-2"),
        ),
        Draft("deployment.started", "other", "ci", "local", T0 + timedelta(hours=1), {}, ("RFC-2",)),
    ]


@pytest.fixture
def filled(pg_dsn: str) -> Iterator[tuple[PostgresLedger, str]]:
    """A current-schema ledger holding `_drafts()`, and its schema."""
    schema = "cols_" + uuid.uuid4().hex[:10]
    ledger = PostgresLedger(pg_dsn, schema)
    try:
        for draft in _drafts():
            ledger.append(draft)
        yield ledger, schema
    finally:
        ledger.close()


def _columns(dsn: str, schema: str) -> list[tuple[object, ...]]:
    with psycopg.connect(dsn) as db:
        return db.execute(f"SELECT seq, kind, system, rfcs, at FROM {schema}.records ORDER BY seq").fetchall()


def test_a_version_3_ledger_migrates_to_generated_columns(
    pg_dsn: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    schema = "cols_" + uuid.uuid4().hex[:10]
    monkeypatch.setattr(postgres, "SCHEMA_VERSION", 3)
    PostgresLedger(pg_dsn, schema).close()
    head = None
    records = []
    for draft in _drafts():
        head = draft.place_after(head)
        records.append(head)
    insert_as_written_before_version_4(pg_dsn, schema, records)
    assert record_columns(pg_dsn, schema, generated=True) == {"data"}
    before = _columns(pg_dsn, schema)
    monkeypatch.setattr(postgres, "SCHEMA_VERSION", 4)
    ledger = PostgresLedger(pg_dsn, schema)
    try:
        assert record_columns(pg_dsn, schema, generated=True) == {"data", "kind", "system", "rfcs", "at"}
        assert _columns(pg_dsn, schema) == before  # the same values, now the database's
        assert [r.seq for r in ledger.find(kind="approval", rfc="RFC-2")] == [2]
        assert [r.seq for r in ledger.find(system="portal", since=T0 + timedelta(seconds=30))] == [2]
        record = ledger.append(Draft("pir", "portal", "kim", "local", T0 + timedelta(days=1), {}, ("RFC-1",)))
        assert [r.seq for r in ledger.find(kind="pir", rfc="RFC-1")] == [record.seq]
        assert ledger.verify().ok
        with psycopg.connect(pg_dsn) as db:
            indexes = {
                name
                for (name,) in db.execute(
                    "SELECT indexname FROM pg_indexes WHERE schemaname = %s AND tablename = 'records'",
                    (schema,),
                ).fetchall()
            }
        assert {"records_kind_system", "records_system", "records_rfcs", "records_at"} <= indexes
        assert "records_kind_system_at" in indexes
    finally:
        ledger.close()


@pytest.mark.parametrize(
    ("column", "value"),
    [("kind", "'note'"), ("system", "'elsewhere'"), ("rfcs", "'{}'"), ("at", "now()")],
)
def test_a_look_up_column_cannot_be_set_beside_its_body(
    pg_dsn: str, filled: tuple[PostgresLedger, str], column: str, value: str
) -> None:
    ledger, schema = filled
    with psycopg.connect(pg_dsn) as db, pytest.raises(psycopg.errors.GeneratedAlways):
        db.execute(f"UPDATE {schema}.records SET {column} = {value} WHERE seq = 1")
    assert [r.seq for r in ledger.find(kind="approval", system="portal", rfc="RFC-1")] == [1, 2]


def test_an_edited_body_takes_its_columns_along_and_fails_verification(
    pg_dsn: str, filled: tuple[PostgresLedger, str]
) -> None:
    """Hiding the rejection from the RFC's look-up means editing the body, which the chain then refuses."""
    ledger, schema = filled
    with psycopg.connect(pg_dsn) as db:
        db.execute(f"UPDATE {schema}.records SET body = replace(body, '\"RFC-1\",', '') WHERE seq = 2")
    assert [r.seq for r in ledger.find(rfc="RFC-1")] == [1]
    result = ledger.verify()
    assert (result.ok, result.first_bad_seq) == (False, 2)


def test_a_body_that_is_not_json_stores_with_empty_columns(
    pg_dsn: str, filled: tuple[PostgresLedger, str]
) -> None:
    """A hand-written row the database cannot read still stores (nothing is lost); no look-up finds it and
    verification names it."""
    ledger, schema = filled
    with psycopg.connect(pg_dsn) as db:
        db.execute(
            f"INSERT INTO {schema}.records (seq, id, hash, body) VALUES (4, 'forged', '', '{{not json')"
        )
    assert _columns(pg_dsn, schema)[-1] == (4, None, None, None, None)
    assert [r.seq for r in ledger.find(system="portal")] == [1, 2]
    result = ledger.verify()
    assert (result.ok, result.first_bad_seq) == (False, 4)


def test_look_ups_are_planned_for_all_their_rows(filled: tuple[PostgresLedger, str]) -> None:
    """A server-side cursor is planned for its first tenth by default: for a look-up by RFC that plan walks
    the primary key and filters every record (bench_fresh: the PostgreSQL gate at 100,000 records took
    5 s instead of under 2). The ledger's session plans for every row, as it reads them all."""
    ledger, _schema = filled
    assert [r.seq for r in ledger.find(kind="approval", rfc="RFC-2")] == [2]
    setting = ledger._db.execute("SHOW cursor_tuple_fraction").fetchone()
    ledger._db.rollback()
    assert setting is not None and float(setting[0]) == 1.0
