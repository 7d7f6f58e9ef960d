"""Forgery and separation of duties through the real CLI, on every ledger backend.

The baseline is the allowed grade-1 deployment of tests/acceptance.py, stored in a git, sqlite or
PostgreSQL ledger; an attacker with write access to the store then edits, inserts, deletes or reorders
records (tests/ledger/tamper.py). `ledger verify` must name the first bad seq, and the gate must not allow.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import uuid
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

import tests.acceptance as cases
from gatekeeper.ledger import canonical_json, record_hash
from gatekeeper.ledger.backends import open_ledger
from tests.adversarial.conftest import Recorder
from tests.helpers import BASE_CONFIG, GitRepo, run_cli
from tests.ledger.spec import BackendSpec
from tests.ledger.tamper import as_sqlite_version_1, rewrite, stored_texts

RFC_ID = cases.RFC_ID


@dataclass
class Deployment:
    repo: GitRepo
    at: datetime
    env: dict[str, str]
    spec: BackendSpec

    def cli(self, *args: str, env: Mapping[str, str] | None = None) -> Any:
        return run_cli(list(args), cwd=self.repo.path, env={**self.env, **(env or {})}, now=self.at)

    def gate(self) -> tuple[int, dict[str, Any]]:
        result = self.cli("--format", "json", "gate", "--rfc", RFC_ID)
        assert result.code in (1, 2, 3), f"the gate allowed: {result.stdout}"
        return result.code, json.loads(result.stdout) if result.code == 1 else {}


def _backend(
    name: str, tmp_path: Path, request: pytest.FixtureRequest, dsn: str | None = None
) -> tuple[dict[str, Any], dict[str, str], BackendSpec]:
    if name == "sqlite":
        path = tmp_path / "ledger.db"  # outside the checkout, as CI requires
        return {"backend": "sqlite", "path": "../ledger.db"}, {}, BackendSpec("sqlite", str(path))
    if name == "git":
        remote = tmp_path / "ledger.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        spec = BackendSpec("git", str(remote), str(tmp_path / "clones"))
        return {"backend": "git", "repository": str(remote)}, {}, spec
    dsn = dsn or request.getfixturevalue("pg_dsn")
    schema = "f_" + uuid.uuid4().hex[:12]
    settings = {"backend": "postgres", "dsn_env": "GATEKEEPER_LEDGER_DSN", "schema": schema}
    return settings, {"GATEKEEPER_LEDGER_DSN": dsn}, BackendSpec("postgres", dsn, schema)


def deployed(
    name: str,
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    case: dict[str, Any],
    dsn: str | None = None,
) -> Deployment:
    settings, env, spec = _backend(name, tmp_path, request, dsn)
    monkeypatch.setitem(cases.CONFIG, "ledger", settings)
    monkeypatch.setattr(cases, "open_ledger", lambda config, root, _env: open_ledger(config, root, env))
    repo = GitRepo.create(tmp_path / "repo")
    at, _ = cases.build(repo, case)
    return Deployment(repo, at, env, spec)


BACKENDS = ["git", "sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
def deployment(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Deployment]:
    yield deployed(request.param, tmp_path, request, monkeypatch, {})


def _rehash(body: dict[str, Any]) -> str:
    body["hash"] = record_hash(body)
    return canonical_json(body)


def _edit(texts: list[str]) -> tuple[list[str], int]:
    body = json.loads(texts[1])
    body["actor"] = "mallory"  # the attacker names a different approver, keeping the old hash
    return [texts[0], canonical_json(body), *texts[2:]], 2


def _edit_and_rehash(texts: list[str]) -> tuple[list[str], int]:
    body = json.loads(texts[1])
    body["data"]["comment"] = "approved by phone"
    return [texts[0], _rehash(body), *texts[2:]], 3  # its own hash is right; the next prev no longer is


def _insert(texts: list[str]) -> tuple[list[str], int]:
    forged = json.loads(texts[1])
    forged["id"] = str(uuid.uuid4())
    forged["actor"] = "mallory"
    return [texts[0], _rehash(forged), *texts[1:]], 3  # well-formed itself; the original seq 2 now misfits


def _delete(texts: list[str]) -> tuple[list[str], int]:
    return [texts[0], *texts[2:]], 2


def _reorder(texts: list[str]) -> tuple[list[str], int]:
    return [texts[0], texts[2], texts[1], *texts[3:]], 2


TAMPERING: dict[str, Callable[[list[str]], tuple[list[str], int]]] = {
    "edited": _edit,
    "edited-and-rehashed": _edit_and_rehash,
    "inserted": _insert,
    "deleted": _delete,
    "reordered": _reorder,
}


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_hand_edited_ledgers_are_caught_by_verify(
    deployment: Deployment, reliability: Recorder, how: str
) -> None:
    texts = stored_texts(deployment.spec)
    assert len(texts) == 6  # five approvals and the integration evidence the release steps certify
    assert deployment.cli("ledger", "verify").code == 0
    forged, first_bad = TAMPERING[how](texts)
    rewrite(deployment.spec, forged)
    result = deployment.cli("--format", "json", "ledger", "verify")
    assert result.code == 1, result.stdout + result.stderr
    assert json.loads(result.stdout)["first_bad_seq"] == first_bad
    text = deployment.cli("ledger", "verify")
    assert text.code == 1 and f"seq {first_bad}" in text.stdout
    reliability.row(
        f"{deployment.spec.name} ledger: a record {how} by hand",
        "forgery",
        f"ledger verify exit 1 naming seq {first_bad}",
    )


def _gate_error_names_the_ledger(body: dict[str, Any]) -> bool:
    return any(f["rule"] == "gate.error" and "ledger" in f["subject"] for f in body["findings"])


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_the_gate_refuses_to_pass_on_a_broken_chain(
    deployment: Deployment, reliability: Recorder, tmp_path: Path, how: str
) -> None:
    reliability.row(
        f"{deployment.spec.name} ledger: a record {how}, then the gate on a fresh runner",
        "forgery",
        "gate blocks (gate.error naming the ledger)",
    )
    assert deployment.cli("gate", "--rfc", RFC_ID).code == 0  # the baseline is allowed before tampering
    forged, _ = TAMPERING[how](stored_texts(deployment.spec))
    rewrite(deployment.spec, forged)
    deployment.env["HOME"] = str(tmp_path / "fresh-runner")  # no checkpoint: the whole chain is verified
    code, body = deployment.gate()
    assert code == 1 and _gate_error_names_the_ledger(body)


@pytest.mark.parametrize("how", sorted(TAMPERING))
def test_a_checkpointed_gate_refuses_records_it_reads_that_were_tampered_with(
    deployment: Deployment, reliability: Recorder, how: str
) -> None:
    reliability.row(
        f"{deployment.spec.name} ledger: a record the gate reads {how} (indexes kept right), then the gate "
        "on a runner that verified the chain before",
        "forgery",
        "gate blocks (gate.error naming the ledger)",
    )
    assert deployment.cli("gate", "--rfc", RFC_ID).code == 0  # verifies the chain, leaves a checkpoint
    forged, _ = TAMPERING[how](stored_texts(deployment.spec))
    rewrite(deployment.spec, forged)
    code, body = deployment.gate()
    assert code == 1 and _gate_error_names_the_ledger(body)


def test_a_record_the_gate_does_not_read_is_caught_at_the_next_whole_chain_verification(
    deployment: Deployment, reliability: Recorder
) -> None:
    reliability.row(
        f"{deployment.spec.name} ledger: a record the gate does not read edited by hand after the "
        "gate's checkpoint",
        "forgery",
        "caught by the gate's whole-chain verification within 24 h, and by ledger verify at once",
    )
    assert deployment.cli("gate", "--rfc", RFC_ID).code == 0
    texts = stored_texts(deployment.spec)
    body = json.loads(texts[1])
    body["rfcs"] = ["RFC-2026-9999"]  # the approval moves to another change, out of this gate's sight
    rewrite(deployment.spec, [texts[0], canonical_json(body), *texts[2:]])
    assert deployment.cli("ledger", "verify").code == 1
    same_day = deployment.cli("--format", "json", "gate", "--rfc", RFC_ID)
    assert same_day.code == 1  # a step is now missing
    assert not _gate_error_names_the_ledger(json.loads(same_day.stdout))  # the checkpoint vouched
    deployment.at += timedelta(hours=25)
    code, later = deployment.gate()
    assert code == 1 and _gate_error_names_the_ledger(later)


# ------------------------------------------------------------------------------ separation of duties


def _ci_env(tmp_path: Path, deployment: Deployment, actor: str) -> dict[str, str]:
    event = tmp_path / f"event-{actor}.json"
    event.write_text("{}", encoding="utf-8")
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTOR": actor,
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": deployment.repo.head(),
        "GITHUB_REF": "refs/heads/main",
    }


SOD_CASES = {
    "outside the role": ({"change-review": "mallory"}, {}, "approval.unauthorized"),
    "by the commit author": (
        {"change-review": "kim"},
        {"commit": {"author": "Kim <kim@agency.go.kr>"}},
        "approval.self",
    ),
    "by a co-author": (
        {"change-approval": "park"},
        {"commit": {"co_authors": ["Park Jiho <park@agency.go.kr>"]}},
        "approval.self",
    ),
    "one person for two steps": ({"cab": "kim"}, {}, "approval.same-person"),
}


@pytest.mark.parametrize("case", sorted(SOD_CASES))
def test_separation_of_duties_through_the_cli(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    reliability: Recorder,
    case: str,
) -> None:
    overrides, setup, rule = SOD_CASES[case]
    chain = [step for step in cases.FULL_CHAIN if step["step"] not in overrides]
    deployment = deployed("sqlite", tmp_path, request, monkeypatch, {**setup, "approvals": chain})
    before = len(stored_texts(deployment.spec))
    for step, actor in overrides.items():
        env = _ci_env(tmp_path, deployment, actor)
        result = deployment.cli(
            "--format", "json", "approve", RFC_ID, "--step", step, "--decision", "approve", env=env
        )
        assert result.code == 1, result.stdout + result.stderr
        refused = json.loads(result.stdout)
        assert rule in {f["rule"] for f in refused["findings"]}, refused
        assert all(f["remediation"] for f in refused["findings"])
    assert len(stored_texts(deployment.spec)) == before  # nothing was written
    code, body = deployment.gate()
    assert code == 1, body
    reliability.row(
        f"approval {case} (gatekeeper approve in a CI job)",
        "separation of duties",
        f"approve refuses: exit 1 naming {rule}, nothing written; the gate blocks",
    )


def test_a_local_approval_does_not_count_for_grade_1(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, reliability: Recorder
) -> None:
    chain = [step for step in cases.FULL_CHAIN if step["step"] != "change-approval"]
    deployment = deployed("sqlite", tmp_path, request, monkeypatch, {"approvals": chain})
    subprocess.run(["git", "config", "user.name", "park"], cwd=deployment.repo.path, check=True)
    before = len(stored_texts(deployment.spec))
    result = deployment.cli("approve", RFC_ID, "--step", "change-approval", "--decision", "approve")
    assert result.code == 1 and "workstation" in result.stdout, result.stdout + result.stderr
    assert len(stored_texts(deployment.spec)) == before
    code, body = deployment.gate()
    assert code == 1 and "approval.missing" in {f["rule"] for f in body["findings"]}, body
    reliability.row(
        "approval by park from a workstation (actor_source local), grade 1",
        "separation of duties",
        "approve refuses (exit 1, nothing written); the gate: approval.missing, block",
    )


@pytest.mark.parametrize("moment", ["2026-11-23T20:00:00", "yesterday", "2026-13-45T99:00:00+09:00"])
def test_a_rechained_record_with_a_malformed_time_blocks_the_gate(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    reliability: Recorder,
    moment: str,
) -> None:
    deployment = deployed("sqlite", tmp_path, request, monkeypatch, {})
    prev, forged = "0" * 64, []
    for i, text in enumerate(stored_texts(deployment.spec)):
        body = json.loads(text)
        body["prev"] = prev
        if i == 1:
            body["at"] = moment
        forged.append(_rehash(body))
        prev = body["hash"]
    rewrite(deployment.spec, forged)
    code, body = deployment.gate()
    assert code == 1 and any(f["rule"] == "gate.error" and "ledger" in f["subject"] for f in body["findings"])
    reliability.row(
        f"a re-chained record whose time is {moment!r}",
        "forgery (hashes recomputed)",
        "gate.error: the ledger records; no crash",
    )


@pytest.mark.postgres
@pytest.mark.parametrize(
    ("column", "value"),
    [("kind", "'note'"), ("rfcs", "'{}'"), ("system", "'elsewhere'"), ("at", "now() + interval '1 year'")],
)
def test_a_rejection_cannot_be_hidden_from_the_gate_through_a_postgres_look_up_column(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    reliability: Recorder,
    column: str,
    value: str,
) -> None:
    """The gate finds a step's decisions through the kind, system, RFC and time columns; an attacker who
    could set one of them beside a body that still verifies would hide the rejection from the gate."""
    import psycopg

    rejected = [*cases.FULL_CHAIN, {"step": "release-second", "actor": "lee", "decision": "reject"}]
    deployment = deployed("postgres", tmp_path, request, monkeypatch, {"approvals": rejected})
    reliability.row(
        f"postgres ledger: a rejection hidden from the gate's look-ups by setting its `{column}` column",
        "forgery (body and chain untouched)",
        "the database refuses (generated column); the gate still blocks on the rejection",
    )
    code, body = deployment.gate()
    assert code == 1 and not _gate_error_names_the_ledger(body)
    assert any("release-second" in f["message"] for f in body["findings"]), body["findings"]
    schema = deployment.spec.extra
    with psycopg.connect(deployment.spec.location) as db:
        (seq,) = db.execute(
            f"SELECT seq FROM {schema}.records WHERE kind = 'approval' AND data->>'decision' = 'reject'"
        ).fetchone()
        with pytest.raises(psycopg.errors.GeneratedAlways):
            db.execute(f"UPDATE {schema}.records SET {column} = {value} WHERE seq = %s", (seq,))
    assert deployment.gate() == (code, body)


ADOPTION_FORGERIES = {
    # how -> what the developer does after adoption
    "backdated": "a commit without an RFC dated before adoption (GIT_COMMITTER_DATE, GIT_AUTHOR_DATE 2001)",
    "old-branch": "a commit without an RFC on a branch started before adoption, merged after it",
    "rewritten": "the adoption commit is not in the clone (history rewritten, or a typo)",
}


@pytest.mark.parametrize("how", sorted(ADOPTION_FORGERIES))
def test_the_adoption_point_exempts_only_history_before_it(
    tmp_path: Path, reliability: Recorder, how: str
) -> None:
    repo = GitRepo.create(tmp_path / "repo", config=None)
    repo.commit("Initial import")
    before = repo.commit("tune the cache")
    adopted = "0" * 40 if how == "rewritten" else before
    repo.write(
        ".gatekeeper.yml",
        BASE_CONFIG + f"adoption: {{commit: '{adopted}', at: '2026-11-20T10:00:00+09:00'}}\n",
    )
    repo.add_rfc(RFC_ID)
    repo.commit(f"{RFC_ID} adopt gatekeeper for change governance")
    if how == "backdated":
        old = {"GIT_AUTHOR_DATE": "2001-01-01T00:00:00", "GIT_COMMITTER_DATE": "2001-01-01T00:00:00"}
        env = dict(os.environ, **old)
        subprocess.run(
            ["git", "commit", "-q", "--allow-empty", "-m", "hack"], cwd=repo.path, env=env, check=True
        )
    elif how == "old-branch":
        subprocess.run(["git", "checkout", "-q", "-b", "old", before], cwd=repo.path, check=True)
        repo.commit("hack")
        subprocess.run(["git", "checkout", "-q", "main"], cwd=repo.path, check=True)
        merge = ["git", "merge", "-q", "--no-ff", "-m", f"{RFC_ID} merge the old branch", "old"]
        subprocess.run(merge, cwd=repo.path, check=True)
        subprocess.run(["git", "branch", "-q", "-D", "old"], cwd=repo.path, check=True)
    result = run_cli(["check-commits", "--range", "..HEAD"], cwd=repo.path)
    if how == "rewritten":
        assert result.code == 2 and "adoption.commit" in result.stderr, result.stderr
        outcome = "exit 2 naming .gatekeeper.yml adoption.commit; nothing exempted"
    else:
        assert result.code == 1 and "commit.rfc-missing" in result.stdout, result.stdout + result.stderr
        outcome = "commit.rfc-missing, block: exemption is by ancestry, never by date or branch origin"
    reliability.row(ADOPTION_FORGERIES[how], "adoption point", outcome)


# ------------------------------------------------------------------------- the ledger only grows


def _rejected(
    name: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Deployment:
    """A deployment blocked by a rejection, the ledger's last record (seq 7)."""
    rejected = [*cases.FULL_CHAIN, {"step": "release-second", "actor": "lee", "decision": "reject"}]
    return deployed(name, tmp_path, request, monkeypatch, {"approvals": rejected})


def _drop_the_last_record(deployment: Deployment) -> None:
    if deployment.spec.name == "git":  # force-push the branch to its parent
        remote = deployment.spec.location
        parent = subprocess.run(
            ["git", f"--git-dir={remote}", "rev-parse", "gatekeeper/ledger~1"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        subprocess.run(
            ["git", f"--git-dir={remote}", "update-ref", "refs/heads/gatekeeper/ledger", parent], check=True
        )
    else:
        rewrite(deployment.spec, stored_texts(deployment.spec)[:-1])


def _rebuild_as_approved(deployment: Deployment) -> None:
    """Every record re-chained with recomputed hashes, the rejection turned into an approval."""
    prev, forged = "0" * 64, []
    for text in stored_texts(deployment.spec):
        body = json.loads(text)
        if body["data"].get("decision") == "reject":
            body["data"]["decision"] = "approve"
        body["prev"] = prev
        forged.append(_rehash(body))
        prev = body["hash"]
    rewrite(deployment.spec, forged)


SHORTENING = {
    "its last record (a rejection) dropped": _drop_the_last_record,
    "rebuilt whole with recomputed hashes, the rejection turned into an approval": _rebuild_as_approved,
}


@pytest.mark.parametrize("backend_name", BACKENDS)
@pytest.mark.parametrize("how", sorted(SHORTENING))
def test_a_ledger_cut_short_or_rebuilt_is_refused_where_it_was_seen_and_against_its_anchor(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    reliability: Recorder,
    backend_name: str,
    how: str,
) -> None:
    """A runner that verified the ledger keeps a checkpoint; a ledger that holds less than it, or another
    hash at its seq, is tampering — never a reason to verify from scratch and overwrite the checkpoint. A
    fresh runner tells the same from a head recorded outside the ledger (an anchor)."""
    deployment = _rejected(backend_name, tmp_path, request, monkeypatch)
    reliability.row(
        f"{backend_name} ledger: {how}, then the gate and `ledger verify` on a runner that verified it "
        "before, and `ledger verify --anchor` on a fresh runner",
        "forgery (history rewritten)",
        "gate.error naming the ledger; ledger verify exit 1; the checkpoint is kept; the anchor fails",
    )
    code, body = deployment.gate()  # blocks on the rejection, verifies the chain, keeps a checkpoint
    assert code == 1 and not _gate_error_names_the_ledger(body)
    head = json.loads(deployment.cli("--format", "json", "ledger", "head").stdout)
    assert head["seq"] == 7
    checkpoint_files = list(
        (Path(deployment.env.get("HOME") or Path.home()) / ".local/state").rglob("*.json")
    )
    assert len(checkpoint_files) == 1
    kept = checkpoint_files[0].read_text(encoding="utf-8")

    SHORTENING[how](deployment)

    code, body = deployment.gate()
    assert code == 1 and _gate_error_names_the_ledger(body), body
    verify = deployment.cli("ledger", "verify")
    assert verify.code == 1 and "REWRITTEN" in verify.stdout, verify.stdout + verify.stderr
    assert checkpoint_files[0].read_text(encoding="utf-8") == kept  # not overwritten by the shorter chain
    fresh = {"HOME": str(tmp_path / "fresh-runner")}
    assert deployment.cli("ledger", "verify", env=fresh).code == 0  # the chain alone cannot tell
    anchored = deployment.cli("ledger", "verify", "--anchor", head["anchor"], env=fresh)
    assert anchored.code == 1 and "does NOT hold its anchor" in anchored.stdout, anchored.stdout


# ---------------------------------------------------------- SQLite: look-ups follow the stored record


def _sqlite(deployment: Deployment) -> sqlite3.Connection:
    return sqlite3.connect(deployment.spec.location)


def _delete_rfc_row(db: sqlite3.Connection, seq: int) -> None:
    db.execute("DELETE FROM record_rfcs WHERE seq = ?", (seq,))


def _edit_kind(db: sqlite3.Connection, seq: int) -> None:
    db.execute("UPDATE records SET kind = 'note' WHERE seq = ?", (seq,))


def _edit_time(db: sqlite3.Connection, seq: int) -> None:
    db.execute("UPDATE records SET at_utc = '2000-01-01T00:00:00.000000Z' WHERE seq = ?", (seq,))


SQL_EDITS = {
    "its record_rfcs row deleted": _delete_rfc_row,
    "its kind column set to 'note'": _edit_kind,
    "its at_utc column moved to the year 2000": _edit_time,
}


@pytest.mark.parametrize("edit", sorted(SQL_EDITS))
@pytest.mark.parametrize(
    "written_by", ["this version", "schema version 1 (columns written beside the record)"]
)
def test_a_rejection_cannot_be_hidden_from_the_gate_through_a_sqlite_look_up_column(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    reliability: Recorder,
    edit: str,
    written_by: str,
) -> None:
    """The gate finds a step's decisions through the kind, system, time and RFC look-ups; SQLite generates
    them from the stored record, so no edit of a column or an RFC row beside a body that still verifies
    hides the rejection. A ledger written by the previous schema, edited so, is migrated: the look-ups are
    generated afresh and the rejection is found again."""
    deployment = _rejected("sqlite", tmp_path, request, monkeypatch)
    reliability.row(
        f"sqlite ledger ({written_by}): a rejection with {edit}",
        "forgery (body and chain untouched)",
        "the database refuses, or the migration regenerates the look-ups; the gate blocks on the rejection",
    )
    code, body = deployment.gate()
    assert code == 1 and any("release-second" in f["message"] for f in body["findings"]), body
    path = Path(deployment.spec.location)
    if written_by != "this version":
        as_sqlite_version_1(path)
    db = _sqlite(deployment)
    if written_by == "this version":
        with pytest.raises(sqlite3.OperationalError, match=r"cannot (modify|UPDATE)"):
            SQL_EDITS[edit](db, 6)
    else:
        with db:
            SQL_EDITS[edit](db, 6)
    db.close()
    assert deployment.gate() == (code, body)
    assert deployment.cli("ledger", "verify").code == 0


def _rebuild_with_plain_columns(path: Path, seq: int) -> None:
    """The table rebuilt with ordinary columns (same name, same rows), then the kind edited."""
    db = sqlite3.connect(path)
    db.executescript(
        "ALTER TABLE records RENAME TO generated;"
        "CREATE TABLE records (seq INTEGER PRIMARY KEY, id TEXT, hash TEXT, body TEXT, kind TEXT,"
        " system TEXT, at_utc TEXT, rfc0 TEXT, rfc1 TEXT, rfc2 TEXT, rfc_count INTEGER);"
        "INSERT INTO records SELECT seq, id, hash, body, kind, system, at_utc, rfc0, rfc1, rfc2, rfc_count"
        " FROM generated;"
        "DROP TABLE generated;"
        f"UPDATE records SET kind = 'note' WHERE seq = {seq};"
    )
    db.close()


def _stale_column_behind_sqlites_back(path: Path, seq: int) -> None:
    """The schema text swapped for one with an ordinary kind column, the kind edited, the text put back:
    the stored value no longer follows the record, and the schema reads as gatekeeper made it."""
    db = sqlite3.connect(path)
    (original,) = db.execute("SELECT sql FROM sqlite_master WHERE name = 'records'").fetchone()
    start = original.index("kind GENERATED")
    plain = original.replace(original[start : original.index(" STORED", start) + 7], "kind TEXT")
    for sql, statement in ((plain, ""), (original, f"UPDATE records SET kind = 'note' WHERE seq = {seq}")):
        if statement:
            db = sqlite3.connect(path)  # reopened: kind is an ordinary column now
            db.execute(statement)
        db.execute("PRAGMA writable_schema = ON")
        db.execute("UPDATE sqlite_master SET sql = ? WHERE name = 'records'", (sql,))
        db.commit()
        db.close()


SCHEMA_EDITS: dict[str, Callable[[Path, int], None]] = {
    "the table rebuilt with ordinary columns, the rejection's kind edited": _rebuild_with_plain_columns,
    "the rejection's stored kind edited behind SQLite's back": _stale_column_behind_sqlites_back,
}


@pytest.mark.parametrize("edit", sorted(SCHEMA_EDITS))
def test_a_sqlite_ledger_whose_columns_no_longer_follow_its_records_is_refused(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    reliability: Recorder,
    edit: str,
) -> None:
    deployment = _rejected("sqlite", tmp_path, request, monkeypatch)
    rebuilt = edit.startswith("the table rebuilt")
    reliability.row(
        f"sqlite ledger: {edit}",
        "forgery (schema rewritten by someone with the file)",
        "ledger verify exit 1"
        + ("; the gate blocks with gate.error naming the ledger (schema checked on open)" if rebuilt else ""),
    )
    assert deployment.gate()[0] == 1
    SCHEMA_EDITS[edit](Path(deployment.spec.location), 6)
    verify = deployment.cli("ledger", "verify")
    assert verify.code == 1, verify.stdout + verify.stderr
    if rebuilt:
        code, body = deployment.gate()
        assert code == 1 and _gate_error_names_the_ledger(body), body


def test_a_record_whose_members_read_differently_in_sql_and_in_python_breaks_the_chain(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, reliability: Recorder
) -> None:
    """JSON with a member twice: SQLite's json_extract reads the first, Python the last. A rejection given
    an earlier `"kind":"note"` keeps its parsed content and hash, yet its generated kind column says note."""
    deployment = _rejected("sqlite", tmp_path, request, monkeypatch)
    reliability.row(
        "sqlite ledger: a rejection stored with a second, earlier kind member ('note'), its hash still right",
        "forgery (body re-spelt, parsed content unchanged)",
        "ledger verify exit 1 naming seq 7 (not canonical JSON); the gate on a fresh runner blocks",
    )
    db = _sqlite(deployment)
    with db:
        (text,) = db.execute("SELECT body FROM records WHERE seq = 7").fetchone()
        db.execute("UPDATE records SET body = ? WHERE seq = 7", ('{"kind":"note",' + text[1:],))
        assert db.execute("SELECT kind FROM records WHERE seq = 7").fetchone() == ("note",)
    db.close()
    result = json.loads(deployment.cli("--format", "json", "ledger", "verify").stdout)
    assert result["ok"] is False and result["first_bad_seq"] == 7 and "canonical" in result["reason"]
    deployment.env["HOME"] = str(tmp_path / "fresh-runner")
    code, body = deployment.gate()
    assert code == 1 and _gate_error_names_the_ledger(body), body


# ------------------------------------------------------------------ an author under another spelling


ALIAS_ATTEMPTS = {
    # how -> what the platform says about the commit's email
    "github-account": "GitHub links the commit's email to the account `Kim`",
    "gitlab-account": "GitLab has a user `Kim` whose email is the commit's email",
    "platform-down": "the platform cannot be asked (HTTP 503)",
}


@pytest.mark.parametrize("how", sorted(ALIAS_ATTEMPTS))
def test_an_author_cannot_approve_under_another_spelling_of_their_own_account(
    tmp_path: Path, reliability: Recorder, how: str
) -> None:
    """An author commits as "Minsu Kim <minsu.kim@agency.go.kr>" and gives change-review as `kim`, with no
    `people:` map. The commit's people alone do not name `kim`; the platform's account behind the email
    does."""
    from dataclasses import replace

    from gatekeeper.adapters.platforms.github import GithubPlatform
    from gatekeeper.adapters.platforms.gitlab import GitlabPlatform
    from gatekeeper.checks.gate import evaluate
    from gatekeeper.commands import Context
    from gatekeeper.commands._gate import sources_for
    from gatekeeper.facts.gather import GateRequest, gather
    from gatekeeper.runtime import Runtime
    from tests.platform.helpers import Sleeps, caller, github_env, gitlab_env
    from tests.platform.helpers import config as platform_config
    from tests.platform.replay import load, serve

    repo = GitRepo.create(tmp_path / "repo")
    case = {
        "commit": {
            "author": "Minsu Kim <minsu.kim@agency.go.kr>",
            "committer": "Minsu Kim <minsu.kim@agency.go.kr>",
        }
    }
    at, head = cases.build(repo, case)
    runtime = Runtime(env={"PATH": "/usr/bin:/bin", "HOME": str(repo.path)}, cwd=repo.path, clock=lambda: at)
    ctx = Context(runtime)
    request = GateRequest(rfc_ids=(RFC_ID,))

    def rules_of(sources: Any) -> set[str]:
        return {f.rule for f in evaluate(gather(ctx.config, ctx.policy, request, sources, at)).findings}

    local = sources_for(ctx)
    assert "approval.self" not in rules_of(local)  # git alone cannot tell `kim` is Minsu Kim
    if how == "github-account":
        exchanges = load("github/commits.json")[:1]
        exchanges[0]["path"] = f"/repos/agency/minwon/commits/{head}"
        prefix, env, kind = "", github_env, GithubPlatform
    elif how == "gitlab-account":
        exchanges, prefix, env, kind = load("gitlab/users.json")[:1], "/api/v4", gitlab_env, GitlabPlatform
    else:
        exchanges = [
            {"method": "GET", "path": f"/repos/agency/minwon/commits/{head}", "status": 503, "body": {}}
        ]
        prefix, env, kind = "", github_env, GithubPlatform
    with serve(exchanges, prefix=prefix) as api:
        platform = kind.from_environment(platform_config(), env(api.base), **caller(Sleeps(), attempts=1))
        assert platform is not None
        found = rules_of(replace(local, commit_logins=platform.commit_logins))
    if how == "platform-down":
        assert "gate.error" in found, found
        outcome = "gate.error naming the platform: fails closed"
    else:
        assert "approval.self" in found, found
        assert not api.unmatched
        outcome = "approval.self, block: the platform's account behind the commit email is the author"
    reliability.row(f"author approves as `kim`; {ALIAS_ATTEMPTS[how]}", "author alias", outcome)
