"""SQLite's look-up columns (kind, system, time, RFCs) are generated from the stored text, as PostgreSQL's
are: the hash chain covers what the indexed look-ups filter on. A ledger of schema version 1 (columns and
RFC rows written by the application) migrates in place, and nobody with SQL access to the file can set a
column or delete an RFC row beside a body that still verifies."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.errors import LedgerIntegrityError
from gatekeeper.ledger import Draft, utc_text
from gatekeeper.ledger.sqlite import GENERATED, SCHEMA_VERSION, SqliteLedger
from tests.ledger.tamper import as_sqlite_version_1

T0 = datetime(2026, 11, 24, 20, 0, tzinfo=UTC)


def _filled(path: Path, drafts: list[Draft]) -> SqliteLedger:
    ledger = SqliteLedger(path)
    for draft in drafts:
        ledger.append(draft)
    return ledger


def _drafts() -> list[Draft]:
    return [
        Draft("approval", "portal", "kim", "local", T0, {"decision": "approve"}, ("RFC-1",)),
        Draft("approval", "portal", "lee", "local", T0 + timedelta(minutes=1), {}, ("RFC-1", "RFC-2")),
        Draft("deployment.started", "other", "ci", "local", T0 + timedelta(hours=1), {}, ("RFC-2",)),
    ]


def test_a_version_1_ledger_migrates_and_what_its_columns_hid_is_found_again(tmp_path: Path) -> None:
    path = tmp_path / "ledger.db"
    written = list(_filled(path, _drafts()).records())
    as_sqlite_version_1(path)
    db = sqlite3.connect(path)
    with db:
        db.execute("UPDATE records SET kind = 'note' WHERE seq = 1")
        db.execute("DELETE FROM record_rfcs WHERE seq = 2 AND rfc = 'RFC-1'")
    db.close()

    ledger = SqliteLedger(path)
    assert list(ledger.records()) == written
    assert [r.seq for r in ledger.find(kind="approval", system="portal")] == [1, 2]
    assert [r.seq for r in ledger.find(rfc="RFC-1")] == [1, 2]
    assert ledger.verify().ok
    ledger.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT version FROM schema_version").fetchall() == [(SCHEMA_VERSION,)]
    assert sorted(db.execute("SELECT rfc, seq FROM record_rfcs")) == [
        ("RFC-1", 1),
        ("RFC-1", 2),
        ("RFC-2", 2),
        ("RFC-2", 3),
    ]
    db.close()


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE records SET kind = 'note' WHERE seq = 1",
        "UPDATE records SET system = 'elsewhere' WHERE seq = 1",
        "UPDATE records SET at_utc = '2000-01-01T00:00:00.000000Z' WHERE seq = 1",
        "UPDATE records SET rfc0 = NULL WHERE seq = 1",
        "DELETE FROM record_rfcs WHERE seq = 1",
        "INSERT INTO record_rfcs VALUES ('RFC-9', 1)",
    ],
)
def test_a_look_up_column_cannot_be_set_beside_its_record(tmp_path: Path, statement: str) -> None:
    _filled(tmp_path / "ledger.db", _drafts()).close()
    db = sqlite3.connect(tmp_path / "ledger.db")
    with pytest.raises(sqlite3.OperationalError, match=r"cannot (UPDATE generated column|modify)"):
        db.execute(statement)
    db.close()


def test_an_id_or_hash_column_edited_beside_its_record_fails_verification(tmp_path: Path) -> None:
    _filled(tmp_path / "ledger.db", _drafts()).close()
    db = sqlite3.connect(tmp_path / "ledger.db")
    with db:
        db.execute("UPDATE records SET id = 'forged' WHERE seq = 2")
    db.close()
    assert SqliteLedger(tmp_path / "ledger.db").verify().ok  # the chain alone: the gate's verification
    result = SqliteLedger(tmp_path / "ledger.db").verify(columns=True)
    assert (result.ok, result.first_bad_seq) == (False, 2) and "columns" in result.reason


def test_a_record_with_many_rfcs_is_found_by_each(tmp_path: Path) -> None:
    rfcs = tuple(f"RFC-{i}" for i in range(6))
    ledger = _filled(tmp_path / "ledger.db", [Draft("notice", "portal", "kim", "local", T0, {}, rfcs)])
    for rfc in rfcs:
        assert [r.seq for r in ledger.find(rfc=rfc, kind="notice")] == [1]
    assert list(ledger.find(rfc="RFC-6")) == []
    ledger.close()
    db = sqlite3.connect(tmp_path / "ledger.db")
    assert sorted(rfc for (rfc,) in db.execute("SELECT rfc FROM record_rfcs WHERE seq = 1")) == list(rfcs)
    db.close()


def test_a_time_sqlite_cannot_read_is_left_to_the_filter_in_python(tmp_path: Path) -> None:
    odd = timezone(timedelta(hours=5, minutes=30, seconds=15))  # isoformat: +05:30:15, unknown to SQLite
    ledger = _filled(
        tmp_path / "ledger.db", [Draft("approval", "portal", "kim", "local", T0.astimezone(odd), {}, ("R",))]
    )
    assert [r.seq for r in ledger.find(kind="approval", system="portal", since=T0 - timedelta(hours=1))] == [
        1
    ]
    assert list(ledger.find(kind="approval", system="portal", since=T0 + timedelta(hours=1))) == []
    assert [r.seq for r in ledger.find(until=T0 + timedelta(seconds=1))] == [1]
    assert list(ledger.find(until=T0)) == []
    ledger.close()


@given(
    moment=st.datetimes(min_value=datetime(1970, 1, 2), max_value=datetime(2200, 1, 1)),
    offset=st.integers(min_value=-14 * 60, max_value=14 * 60),
)
def test_the_generated_time_is_the_utc_text_of_the_records_time(moment: datetime, offset: int) -> None:
    at = moment.replace(tzinfo=timezone(timedelta(minutes=offset)))
    record = Draft("approval", "portal", "kim", "local", at, {}, ()).place(1, "0" * 64)
    db = sqlite3.connect(":memory:")
    (generated,) = db.execute(
        f"SELECT {GENERATED['at_utc']} FROM (SELECT ? AS body)", (record.to_json(),)
    ).fetchone()
    db.close()
    assert generated == utc_text(record.at)


def test_a_body_that_is_not_json_stores_with_empty_columns_and_fails_verification(tmp_path: Path) -> None:
    _filled(tmp_path / "ledger.db", _drafts()).close()
    db = sqlite3.connect(tmp_path / "ledger.db")
    with db:
        db.execute("UPDATE records SET body = '{not json' WHERE seq = 2")
        assert db.execute("SELECT kind, at_utc, rfc0 FROM records WHERE seq = 2").fetchone() == (
            None,
            None,
            None,
        )
    db.close()
    result = SqliteLedger(tmp_path / "ledger.db").verify()
    assert (result.ok, result.first_bad_seq) == (False, 2) and "unreadable" in result.reason


@pytest.mark.parametrize(
    "change",
    [
        "DROP INDEX records_kind_system_at",
        "CREATE INDEX extra ON records (body)",
        "DROP VIEW record_rfcs; CREATE VIEW record_rfcs (rfc, seq) AS SELECT rfc0, seq FROM records",
        "CREATE TRIGGER quiet AFTER INSERT ON records BEGIN SELECT 1; END",
    ],
)
def test_a_schema_gatekeeper_did_not_make_is_refused(tmp_path: Path, change: str) -> None:
    _filled(tmp_path / "ledger.db", _drafts()).close()
    db = sqlite3.connect(tmp_path / "ledger.db")
    db.executescript(change)
    db.close()
    with pytest.raises(LedgerIntegrityError, match="does not have the schema gatekeeper creates"):
        SqliteLedger(tmp_path / "ledger.db")
