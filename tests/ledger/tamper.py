"""Rewrite a ledger's stored records behind gatekeeper's back, as an attacker with write access would."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

from gatekeeper.ledger import Record, utc_text
from gatekeeper.ledger.git import HEAD_FILE, record_path
from tests.ledger.spec import BackendSpec


def stored_texts(spec: BackendSpec) -> list[str]:
    ledger = spec.open()
    try:
        return [record.to_json() for record in ledger.records()]
    finally:
        ledger.close()


def rewrite(spec: BackendSpec, texts: list[str], *, head_text: str | None = None) -> None:
    """Replace the stored records by `texts`, position i holding texts[i] (row/file seq = i + 1).

    SQLite and PostgreSQL generate their look-up columns from the text, so the indexed look-ups find
    every forgery as they find gatekeeper's own records.
    """
    if spec.name == "sqlite":
        db = sqlite3.connect(spec.location)
        with db:
            db.execute("DELETE FROM records")
            for i, text in enumerate(texts):
                db.execute(
                    "INSERT INTO records (seq, id, hash, body) VALUES (?, ?, ?, ?)",
                    (i + 1, *_keys(text, i), text),
                )
        db.close()
    elif spec.name == "postgres":
        import psycopg

        with psycopg.connect(spec.location, autocommit=False) as db:
            db.execute(f"DELETE FROM {spec.extra}.records")
            for i, text in enumerate(texts):
                db.execute(
                    f"INSERT INTO {spec.extra}.records (seq, id, hash, body) VALUES (%s, %s, %s, %s)",
                    (i + 1, *_keys(text, i, unique=True), text),
                )
    else:
        _rewrite_git(Path(spec.location), texts, texts[-1] if head_text is None else head_text)


def insert_as_written_before_version_4(dsn: str, schema: str, records: Iterable[Record]) -> None:
    """Store `records` in a PostgreSQL ledger of schema version 1 to 3 as gatekeeper then wrote them: every
    column from the application (version 4 generates the look-up columns)."""
    import psycopg

    with psycopg.connect(dsn) as db:
        for record in records:
            db.execute(
                f"INSERT INTO {schema}.records (seq, id, kind, system, rfcs, at, hash, body)"
                " VALUES (%s, %s, %s, %s, %s, %s, %s, %s)",
                (
                    record.seq,
                    record.id,
                    record.kind,
                    record.system,
                    list(record.rfcs),
                    record.moment,
                    record.hash,
                    record.to_json(),
                ),
            )


def _keys(text: str, position: int, *, unique: bool = False) -> tuple[str, str]:
    """The id and hash columns of a forged row as gatekeeper writes them (PostgreSQL's ids kept unique
    when a forgery copies one)."""
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        body = None  # not JSON, or nested deeper than the parser goes
    if not isinstance(body, dict):
        return f"forged-{position}", ""
    ident = str(body.get("id"))
    return (f"{ident}-{position}" if unique else ident), str(body.get("hash", ""))


def _rewrite_git(remote: Path, texts: list[str], head_text: str) -> None:
    with tempfile.TemporaryDirectory() as work:
        tree = Path(work) / "w"
        subprocess.run(["git", "clone", "-q", "-b", "gatekeeper/ledger", str(remote), str(tree)], check=True)
        subprocess.run(["git", "-C", str(tree), "rm", "-q", "-r", "records"], check=True)
        for i, text in enumerate(texts):
            target = tree / record_path(i + 1)
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        (tree / HEAD_FILE).write_text(head_text, encoding="utf-8")
        subprocess.run(["git", "-C", str(tree), "add", "-A"], check=True)
        subprocess.run(["git", "-C", str(tree), "commit", "-q", "-m", "rewrite"], check=True)
        subprocess.run(
            ["git", "-C", str(tree), "push", "-q", "--force", "origin", "gatekeeper/ledger"], check=True
        )


SQLITE_VERSION_1 = """
CREATE TABLE schema_version (version INTEGER NOT NULL);
INSERT INTO schema_version VALUES (1);
CREATE TABLE records (
    seq INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    system TEXT NOT NULL,
    at_utc TEXT NOT NULL,
    hash TEXT NOT NULL,
    body TEXT NOT NULL
);
CREATE TABLE record_rfcs (rfc TEXT NOT NULL, seq INTEGER NOT NULL, PRIMARY KEY (rfc, seq));
CREATE INDEX records_kind_system ON records (kind, system, seq);
CREATE INDEX records_system ON records (system, seq);
CREATE INDEX records_at ON records (at_utc);
CREATE INDEX records_kind_system_at ON records (kind, system, at_utc);
"""


def as_sqlite_version_1(path: Path) -> None:
    """Rewrite the SQLite ledger at `path` as gatekeeper's schema version 1 stored it: the look-up
    columns and the RFC rows written beside each record by the application."""
    records = [Record.from_dict(json.loads(text)) for text in stored_texts(BackendSpec("sqlite", str(path)))]
    path.unlink()
    for leftover in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        leftover.unlink(missing_ok=True)
    db = sqlite3.connect(path)
    with db:
        db.executescript(SQLITE_VERSION_1)
        for r in records:
            db.execute(
                "INSERT INTO records VALUES (?, ?, ?, ?, ?, ?, ?)",
                (r.seq, r.id, r.kind, r.system, utc_text(r.at), r.hash, r.to_json()),
            )
            db.executemany("INSERT INTO record_rfcs VALUES (?, ?)", [(rfc, r.seq) for rfc in r.rfcs])
    db.close()
