"""Rewrite a ledger's stored records behind gatekeeper's back, as an attacker with write access would."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from gatekeeper.ledger import Record, utc_text
from gatekeeper.ledger.git import HEAD_FILE, record_path
from tests.ledger.spec import BackendSpec


def stored_texts(spec: BackendSpec) -> list[str]:
    ledger = spec.open()
    try:
        return [record.to_json() for record in ledger.records()]
    finally:
        ledger.close()


def rewrite(
    spec: BackendSpec, texts: list[str], *, head_text: str | None = None, keep_indexes: bool = False
) -> None:
    """Replace the stored records by `texts`, position i holding texts[i] (row/file seq = i + 1).

    By default SQLite rows get blank index columns (a careless attacker); `keep_indexes` fills them from
    each text as gatekeeper would (a careful one, whose forgeries the indexed look-ups still find).
    PostgreSQL generates its index columns from the text, so every attacker there is the careful one.
    """
    if spec.name == "sqlite":
        db = sqlite3.connect(spec.location)
        with db:
            db.execute("DELETE FROM records")
            db.execute("DELETE FROM record_rfcs")
            for i, text in enumerate(texts):
                body = _indexes(text, i, keep_indexes)
                db.execute(
                    "INSERT INTO records (seq, id, kind, system, at_utc, hash, body) VALUES (?,?,?,?,?,?,?)",
                    (
                        i + 1,
                        body.get("id", f"forged-{i}"),
                        body.get("kind", ""),
                        body.get("system", ""),
                        utc_text(body["at"]) if "at" in body else "",
                        body.get("hash", ""),
                        text,
                    ),
                )
                db.executemany(
                    "INSERT OR IGNORE INTO record_rfcs (rfc, seq) VALUES (?, ?)",
                    [(rfc, i + 1) for rfc in body.get("rfcs", [])],
                )
        db.close()
    elif spec.name == "postgres":
        import psycopg

        with psycopg.connect(spec.location, autocommit=False) as db:
            db.execute(f"DELETE FROM {spec.extra}.records")
            for i, text in enumerate(texts):
                body = _indexes(text, i, keep=True)
                db.execute(
                    f"INSERT INTO {spec.extra}.records (seq, id, hash, body) VALUES (%s, %s, %s, %s)",
                    (i + 1, body.get("id", f"forged-{i}"), body.get("hash", ""), text),
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


def _indexes(text: str, position: int, keep: bool) -> dict[str, Any]:
    if not keep:
        return {}
    try:
        body = json.loads(text)
    except ValueError:
        return {}  # not JSON: nothing to index by
    if not isinstance(body, dict):
        return {}
    try:
        utc_text(body["at"])
    except (ValueError, TypeError):
        del body["at"]  # a forged time that no index could hold
    return {**body, "id": f"{body['id']}-{position}"}  # ids stay unique when a forgery copies one


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
