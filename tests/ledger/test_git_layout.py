"""The git ledger's layout: full shards are sealed as gitlinks so the branch tip's tree stays small.

A push's connectivity check on the receiving side (GitHub, GitLab or a bare remote) marks the whole tree
of the remote's old tip as already known; a tip tree holding every record made each push cost grow with
the ledger. These tests use a tiny shard size, real temporary repositories and a bare remote.
"""

from __future__ import annotations

import os
import subprocess
import threading
from pathlib import Path

import pytest

import gatekeeper.ledger.git as git_ledger
from gatekeeper.errors import LedgerIntegrityError
from gatekeeper.ledger import GENESIS, Record
from gatekeeper.ledger.git import GITLINK_MODE, HEAD_FILE, GitLedger, record_path
from tests.ledger.spec import make_draft

SHARD = 4  # seqs 1-3 in shard 000000, 4-7 in 000001, 8-11 in 000002, ...


@pytest.fixture(autouse=True)
def _small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(git_ledger, "SHARD_SIZE", SHARD)


def _git(git_dir: Path, *args: str, input: str | None = None) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], input=input, capture_output=True, text=True, check=True
    ).stdout


def _bare(path: Path) -> Path:
    _git(path, "init", "-q", "--bare", str(path))
    return path


def _ledger(tmp_path: Path, name: str) -> GitLedger:
    return GitLedger(_bare(tmp_path / f"{name}.git"), remote=str(tmp_path / "remote.git"), env=os.environ)


def _tip_entries(remote: Path) -> list[tuple[str, str, str]]:
    """(mode, object, path) of everything under the tip's tree, gitlinks not followed."""
    listing = _git(remote, "ls-tree", "-r", "gatekeeper/ledger")
    return [(line.split()[0], line.split()[2], line.split("\t")[1]) for line in listing.splitlines()]


def _chain(count: int) -> list[Record]:
    records, prev = [], GENESIS
    for seq in range(1, count + 1):
        records.append(make_draft(seq).place(seq, prev))
        prev = records[-1].hash
    return records


def _write_old_layout(remote: Path, records: list[Record]) -> None:
    """The layout ledgers had before sealing: every shard a tree under the tip (one commit, fast-import)."""
    _bare(remote)
    stream = ["commit refs/heads/gatekeeper/ledger", "committer g <g@l.invalid> 1767225600 +0000", "data 0"]
    for path, text in [
        *((record_path(r.seq), r.to_json()) for r in records),
        (HEAD_FILE, records[-1].to_json()),
    ]:
        stream += [f"M 100644 inline {path}", f"data {len(text.encode())}", text]
    _git(remote, "fast-import", "--quiet", input="\n".join(stream) + "\n")


def test_full_shards_are_sealed_as_gitlinks_to_ancestors_and_everything_reads_back(tmp_path: Path) -> None:
    remote = _bare(tmp_path / "remote.git")
    writer = _ledger(tmp_path, "writer")
    written = [writer.append(make_draft(n)) for n in range(1, 12)]

    entries = _tip_entries(remote)
    assert [(mode, path) for mode, _sha, path in entries] == [
        ("100644", HEAD_FILE),
        (GITLINK_MODE, "records/000000"),
        (GITLINK_MODE, "records/000001"),
        ("100644", "records/000002/000000008.json"),
        ("100644", "records/000002/000000009.json"),
        ("100644", "records/000002/000000010.json"),
        ("100644", "records/000002/000000011.json"),
    ]
    tip = _git(remote, "rev-parse", "gatekeeper/ledger").strip()
    for _mode, sealed, path in entries[1:3]:
        # the gitlink names an ancestor (so it is fetched, pushed and kept by gc) holding the full shard
        _git(remote, "merge-base", "--is-ancestor", sealed, tip)
        assert len(_git(remote, "ls-tree", f"{sealed}:{path}").splitlines()) == (
            3 if path.endswith("0") else 4
        )

    reader = _ledger(tmp_path, "reader")  # a fresh clone, as the next CI job is
    assert list(reader.records()) == written
    assert [r.seq for r in reader.records(start_seq=6)] == [6, 7, 8, 9, 10, 11]
    assert [r.seq for r in reader.records(start_seq=9)] == [9, 10, 11]
    assert [r.seq for r in reader.find(kind="approval")] == list(range(1, 12))
    result = reader.verify()
    assert result.ok and result.count == 11 and result.head == written[-1].hash
    assert reader.head() == written[-1]


def test_the_tip_tree_stays_bounded_as_the_ledger_grows(tmp_path: Path) -> None:
    remote = _bare(tmp_path / "remote.git")
    writer = _ledger(tmp_path, "writer")
    for n in range(1, 30):
        writer.append(make_draft(n))
        shards = (n // SHARD) + 1
        assert len(_tip_entries(remote)) <= 1 + shards + SHARD  # head, one entry per shard, the open one
    assert writer.verify().ok


def test_a_ledger_in_the_old_layout_stays_readable_and_is_sealed_by_the_next_append(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    old = _chain(10)
    _write_old_layout(remote, old)
    assert {mode for mode, _sha, _path in _tip_entries(remote)} == {"100644"}

    before = _ledger(tmp_path, "before")
    assert list(before.records()) == old and before.verify().ok
    assert [r.seq for r in before.records(start_seq=5)] == [5, 6, 7, 8, 9, 10]

    added = before.append(make_draft(11))
    assert added.seq == 11 and added.prev == old[-1].hash
    sealed = [path for mode, _sha, path in _tip_entries(remote) if mode == GITLINK_MODE]
    assert sealed == ["records/000000", "records/000001"]

    after = _ledger(tmp_path, "after")
    assert list(after.records()) == [*old, added]
    result = after.verify()
    assert result.ok and result.count == 11


def test_an_edited_record_in_a_sealed_shard_is_caught_by_verify(tmp_path: Path) -> None:
    remote = _bare(tmp_path / "remote.git")
    writer = _ledger(tmp_path, "writer")
    for n in range(1, 10):
        writer.append(make_draft(n))
    tip = _git(remote, "rev-parse", "gatekeeper/ledger").strip()
    sealed = _git(remote, "rev-parse", f"{tip}:records/000001").strip()  # a gitlink: the commit's id

    # An attacker rewrites seq 5 inside the sealed shard and repoints the gitlink at a forged commit,
    # keeping the forged commit reachable (a second parent) so every clone fetches it.
    edited = _git(remote, "cat-file", "blob", f"{sealed}:{record_path(5)}").replace('"n":5', '"n":55')
    blob = _git(remote, "hash-object", "-w", "--stdin", input=edited).strip()
    shard_lines = _git(remote, "ls-tree", f"{sealed}:records/000001").replace(
        _git(remote, "rev-parse", f"{sealed}:{record_path(5)}").strip(), blob
    )
    shard = _git(remote, "mktree", input=shard_lines).strip()
    records = _git(remote, "mktree", input=f"040000 tree {shard}\t000001\n").strip()
    forged = _git(
        remote,
        "commit-tree",
        _git(remote, "mktree", input=f"040000 tree {records}\trecords\n").strip(),
        "-m",
        "forged",
    ).strip()
    top = _git(remote, "ls-tree", f"{tip}:records").replace(sealed, forged)
    root = _git(remote, "ls-tree", tip).replace(
        _git(remote, "rev-parse", f"{tip}:records").strip(), _git(remote, "mktree", input=top).strip()
    )
    commit = _git(
        remote,
        "commit-tree",
        _git(remote, "mktree", input=root).strip(),
        "-p",
        tip,
        "-p",
        forged,
        "-m",
        "ledger 9",
    ).strip()
    _git(remote, "update-ref", "refs/heads/gatekeeper/ledger", commit)

    result = _ledger(tmp_path, "auditor").verify()
    assert not result.ok and result.first_bad_seq == 5


def test_a_gitlink_to_a_commit_nobody_has_is_an_integrity_error(tmp_path: Path) -> None:
    remote = _bare(tmp_path / "remote.git")
    writer = _ledger(tmp_path, "writer")
    for n in range(1, 6):
        writer.append(make_draft(n))
    tip = _git(remote, "rev-parse", "gatekeeper/ledger").strip()
    sealed = _git(remote, "rev-parse", f"{tip}:records/000000").strip()
    top = _git(remote, "ls-tree", f"{tip}:records").replace(sealed, "1" * 40)
    root = _git(remote, "ls-tree", tip).replace(
        _git(remote, "rev-parse", f"{tip}:records").strip(), _git(remote, "mktree", input=top).strip()
    )
    commit = _git(remote, "commit-tree", _git(remote, "mktree", input=root).strip(), "-p", tip, "-m", "x")
    _git(remote, "update-ref", "refs/heads/gatekeeper/ledger", commit.strip())

    with pytest.raises(LedgerIntegrityError, match="sealed shard records/000000"):
        _ledger(tmp_path, "auditor").verify()


def test_racing_writers_across_shard_boundaries_lose_nothing(tmp_path: Path) -> None:
    _bare(tmp_path / "remote.git")
    writers = [_ledger(tmp_path, f"w{i}") for i in range(4)]
    for writer in writers:
        writer.retries = 50
    failures: list[BaseException] = []

    def run(writer: GitLedger, base: int) -> None:
        try:
            for n in range(5):
                writer.append(make_draft(base + n))
        except BaseException as exc:  # reported by the assertion below
            failures.append(exc)

    threads = [threading.Thread(target=run, args=(w, 100 * i)) for i, w in enumerate(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert failures == []
    check = _ledger(tmp_path, "check")
    result = check.verify()
    assert result.ok and result.count == 20
    assert sorted(r.data["n"] for r in check.records()) == sorted(
        100 * i + n for i in range(4) for n in range(5)
    )
