"""Checkpointed chain verification (gatekeeper.ledger.checkpoint) on every backend."""

from __future__ import annotations

import json
import os
import subprocess
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from gatekeeper.errors import LedgerIntegrityError
from gatekeeper.ledger import GENESIS, Ledger, canonical_json, record_hash
from gatekeeper.ledger.checkpoint import (
    FULL_VERIFY_EVERY,
    Checkpoint,
    CheckpointFile,
    confirm_chain,
    ledger_tip,
)
from gatekeeper.ledger.git import GitLedger
from tests.ledger.spec import BackendSpec, make_draft
from tests.ledger.tamper import rewrite, stored_texts

NOW = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)


def _filled(backend: BackendSpec, count: int) -> Ledger:
    ledger = backend.open()
    for i in range(count):
        ledger.append(make_draft(i))
    return ledger


def _file(tmp_path: Path) -> CheckpointFile:
    checkpoints = CheckpointFile.for_ledger("sqlite:/srv/ledger.db", {"HOME": str(tmp_path)})
    assert checkpoints is not None
    return checkpoints


def test_the_checkpoint_lives_in_the_state_folder_and_names_no_secret(tmp_path: Path) -> None:
    identity = "postgres:postgresql://gate:s3cret@db/ledger:gatekeeper"
    home = CheckpointFile.for_ledger(identity, {"HOME": str(tmp_path)})
    assert home is not None and home.path.parent == tmp_path / ".local" / "state" / "gatekeeper" / "verified"
    xdg = CheckpointFile.for_ledger(identity, {"HOME": str(tmp_path), "XDG_STATE_HOME": str(tmp_path / "x")})
    assert xdg is not None and xdg.path.is_relative_to(tmp_path / "x" / "gatekeeper")
    assert CheckpointFile.for_ledger(identity, {}) is None
    assert CheckpointFile.for_ledger(identity, {"HOME": "relative/home"}) is None
    home.save(Checkpoint(3, "a" * 64, NOW))
    assert home.load() == Checkpoint(3, "a" * 64, NOW)
    assert "s3cret" not in home.path.read_text(encoding="utf-8") and "s3cret" not in str(home.path)


@pytest.mark.parametrize(
    "content",
    [
        "",
        "{not json",
        "[]",
        '{"identity": "other", "seq": 1, "hash": "h", "verified_at": "2026-11-24T11:00:00+00:00"}',
        '{"seq": "1"}',
        "IDENTITY-seq-minus",
        "IDENTITY-naive-time",
    ],
)
def test_an_unreadable_or_foreign_checkpoint_counts_as_none(tmp_path: Path, content: str) -> None:
    checkpoints = _file(tmp_path)
    checkpoints.path.parent.mkdir(parents=True)
    if content == "IDENTITY-seq-minus":
        content = json.dumps(
            {"identity": checkpoints.identity, "seq": -1, "hash": "h", "verified_at": NOW.isoformat()}
        )
    elif content == "IDENTITY-naive-time":
        content = json.dumps(
            {"identity": checkpoints.identity, "seq": 1, "hash": "h", "verified_at": "2026-11-24T11:00"}
        )
    checkpoints.path.write_text(content, encoding="utf-8")
    assert checkpoints.load() is None


def test_a_checkpoint_that_cannot_be_written_costs_only_a_whole_verification(tmp_path: Path) -> None:
    (tmp_path / ".local").write_text("a file where the state folder should be", encoding="utf-8")
    checkpoints = _file(tmp_path)
    checkpoints.save(Checkpoint(1, "a" * 64, NOW))  # no exception
    assert checkpoints.load() is None


class _Counting:
    """Counts whole-chain verifications of a ledger (verify from seq 1)."""

    def __init__(self, ledger: Ledger) -> None:
        self.ledger = ledger
        self.whole = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self.ledger, name)

    def verify(self, start_seq: int = 1, prev: str = "0" * 64) -> object:
        self.whole += start_seq == 1
        return self.ledger.verify(start_seq, prev)


def test_the_whole_chain_once_then_only_what_was_appended(backend: BackendSpec, tmp_path: Path) -> None:
    ledger = _filled(backend, 4)
    counting = _Counting(ledger)
    checkpoints = _file(tmp_path)
    assert confirm_chain(counting, [], checkpoints, NOW) is True  # type: ignore[arg-type]
    assert checkpoints.load() == Checkpoint(4, ledger.head().hash, NOW, ledger_tip(ledger))  # type: ignore[union-attr]
    ledger.append(make_draft(5))
    read = list(ledger.records())
    later = NOW + timedelta(hours=2)
    assert confirm_chain(counting, read, checkpoints, later) is False  # type: ignore[arg-type]
    assert counting.whole == 1
    moved = checkpoints.load()
    # the time stays that of the whole check; the git ledger's tip moves along
    assert moved == Checkpoint(5, ledger.head().hash, NOW, ledger_tip(ledger))  # type: ignore[union-attr]
    assert confirm_chain(counting, read, checkpoints, NOW + FULL_VERIFY_EVERY) is True  # type: ignore[arg-type]
    assert confirm_chain(counting, read, checkpoints, NOW - timedelta(minutes=1)) is True  # type: ignore[arg-type]
    assert counting.whole == 3
    ledger.close()


def _verified(backend: BackendSpec, tmp_path: Path) -> tuple[CheckpointFile, list[str]]:
    """Five records verified whole (the checkpoint left), and their stored texts."""
    ledger = _filled(backend, 5)
    checkpoints = _file(tmp_path)
    confirm_chain(ledger, [], checkpoints, NOW)
    ledger.close()
    return checkpoints, stored_texts(backend)


@pytest.mark.parametrize("how", ["edited", "rehashed", "deleted", "inserted", "reordered"])
def test_a_record_read_below_the_checkpoint_is_checked(
    backend: BackendSpec, tmp_path: Path, how: str
) -> None:
    checkpoints, texts = _verified(backend, tmp_path)
    body = json.loads(texts[2])
    body["data"]["comment"] = "forged"
    if how == "rehashed":
        body["hash"] = record_hash(body)
    forged = {
        "edited": [*texts[:2], canonical_json(body), *texts[3:]],
        "rehashed": [*texts[:2], canonical_json(body), *texts[3:]],
        "deleted": [*texts[:2], *texts[3:]],
        "inserted": [*texts[:3], canonical_json(body), *texts[3:]],
        "reordered": [texts[0], texts[2], texts[1], *texts[3:]],
    }[how]
    rewrite(backend, forged)
    reopened = backend.open()
    read = list(reopened.records())[1:3]
    # A record removed or inserted also changes what the checkpoint's seq holds: the ledger was rewritten.
    with pytest.raises(LedgerIntegrityError, match=r"broken at seq|fewer than the 5|was rewritten"):
        confirm_chain(reopened, read, checkpoints, NOW + timedelta(hours=1))
    reopened.close()


def _rebuilt(texts: list[str]) -> list[str]:
    """The same records with one edited and every hash recomputed: a chain that verifies on its own."""
    prev, forged = GENESIS, []
    for i, text in enumerate(texts):
        body = json.loads(text)
        body["prev"] = prev
        if i == 1:
            body["data"]["decision"] = "approve"
        body["hash"] = record_hash(body)
        prev = body["hash"]
        forged.append(canonical_json(body))
    return forged


@pytest.mark.parametrize("how", ["shortened", "rebuilt"])
def test_a_ledger_that_lost_what_this_machine_verified_is_refused_whatever_the_checkpoints_age(
    backend: BackendSpec, tmp_path: Path, how: str
) -> None:
    checkpoints, texts = _verified(backend, tmp_path)
    kept = checkpoints.path.read_text(encoding="utf-8")
    rewrite(backend, texts[:3] if how == "shortened" else _rebuilt(texts))
    for later in (NOW + timedelta(hours=1), NOW + FULL_VERIFY_EVERY + timedelta(hours=1)):
        reopened = backend.open()
        assert reopened.verify().ok  # the chain alone cannot tell
        with pytest.raises(LedgerIntegrityError, match=r"fewer than the 5 verified|the ledger was rewritten"):
            confirm_chain(reopened, [], checkpoints, later)
        reopened.close()
    assert checkpoints.path.read_text(encoding="utf-8") == kept  # never a fresh start


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=True
    ).stdout.strip()


def _clone(tmp_path: Path, name: str) -> GitLedger:
    clone = tmp_path / f"{name}.git"
    if not clone.exists():
        _git(clone, "init", "-q", "--bare", str(clone))
    return GitLedger(clone, remote=str(tmp_path / "remote.git"), env=os.environ)


def _seen_by_a_runner(tmp_path: Path) -> tuple[Path, GitLedger, CheckpointFile]:
    """A git ledger of five records (the bare remote and its writer), verified by the clone `runner`."""
    remote = tmp_path / "remote.git"
    _git(remote, "init", "-q", "--bare", str(remote))
    writer = _clone(tmp_path, "writer")
    for i in range(5):
        writer.append(make_draft(i))
    checkpoints = _file(tmp_path)
    confirm_chain(_clone(tmp_path, "runner"), [], checkpoints, NOW)
    return remote, writer, checkpoints


def test_a_git_branch_whose_tip_does_not_descend_from_the_tip_seen_was_rewritten(tmp_path: Path) -> None:
    remote, _writer, checkpoints = _seen_by_a_runner(tmp_path)
    # The same records in another history: the tip's tree in a new commit without parents.
    orphan = _git(remote, "commit-tree", _git(remote, "rev-parse", "gatekeeper/ledger^{tree}"), "-m", "x")
    _git(remote, "update-ref", "refs/heads/gatekeeper/ledger", orphan)
    with pytest.raises(LedgerIntegrityError, match="does not descend from"):
        confirm_chain(_clone(tmp_path, "runner"), [], checkpoints, NOW + timedelta(hours=1))


@pytest.mark.parametrize("cache", ["kept", "new"])
def test_a_shallow_copy_fetches_the_history_it_needs_to_see_the_tip_descends(
    tmp_path: Path, cache: str
) -> None:
    remote, writer, checkpoints = _seen_by_a_runner(tmp_path)
    for i in range(30):
        writer.append(make_draft(i))
    runner = _clone(tmp_path, "runner" if cache == "kept" else "other-runner")
    assert confirm_chain(runner, [], checkpoints, NOW + timedelta(hours=1)) is False
    if cache == "new":  # it fetched the records since the checkpoint's tip, not the whole history
        assert _git(runner.git.git_dir, "rev-parse", "--is-shallow-repository") == "true"
    moved = checkpoints.load()
    assert (
        moved is not None and moved.seq == 35 and moved.tip == _git(remote, "rev-parse", "gatekeeper/ledger")
    )
