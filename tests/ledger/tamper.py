"""Rewrite a ledger's stored records behind gatekeeper's back, as an attacker with write access would."""

from __future__ import annotations

import sqlite3
import subprocess
import tempfile
from pathlib import Path

from gatekeeper.ledger.git import HEAD_FILE, record_path
from tests.ledger.spec import BackendSpec


def stored_texts(spec: BackendSpec) -> list[str]:
    ledger = spec.open()
    try:
        return [record.to_json() for record in ledger.records()]
    finally:
        ledger.close()


def rewrite(spec: BackendSpec, texts: list[str], *, head_text: str | None = None) -> None:
    """Replace the stored records by `texts`, position i holding texts[i] (row/file seq = i + 1)."""
    if spec.name == "sqlite":
        db = sqlite3.connect(spec.location)
        with db:
            db.execute("DELETE FROM records")
            db.executemany(
                "INSERT INTO records (seq, id, kind, system, at_utc, hash, body) VALUES (?,?,'','','','',?)",
                [(i + 1, f"forged-{i}", text) for i, text in enumerate(texts)],
            )
        db.close()
    elif spec.name == "postgres":
        import psycopg

        with psycopg.connect(spec.location, autocommit=False) as db:
            db.execute(f"DELETE FROM {spec.extra}.records")
            for i, text in enumerate(texts):
                db.execute(
                    f"INSERT INTO {spec.extra}.records (seq, id, kind, system, rfcs, at, hash, body)"
                    " VALUES (%s, %s, '', '', '{}', now(), '', %s)",
                    (i + 1, f"forged-{i}", text),
                )
    else:
        _rewrite_git(Path(spec.location), texts, texts[-1] if head_text is None else head_text)


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
