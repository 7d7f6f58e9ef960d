"""The git ledger's layout: full shards sealed as compressed blobs with a seal, read in bulk from the tip.

A fresh runner fetches the tip only and streams every record through one `git cat-file --batch`; each sealed
shard is checked with one pass over its bytes against its seal, the chain across shards by the seals. These
tests use a tiny shard size, real temporary repositories and a bare remote.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import subprocess
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import gatekeeper.ledger.git as git_ledger
from gatekeeper.errors import LedgerIntegrityError
from gatekeeper.ledger import GENESIS, Record, canonical_json, record_hash
from gatekeeper.ledger.git import GITLINK_MODE, HEAD_FILE, PRIVATE_REF, GitLedger, record_path
from tests.ledger.spec import make_draft

SHARD = 4  # seqs 1-3 in shard 000000, 4-7 in 000001, 8-11 in 000002, ...
BRANCH = "gatekeeper/ledger"


@pytest.fixture(autouse=True)
def _small_shards(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(git_ledger, "SHARD_SIZE", SHARD)


def _git(git_dir: Path, *args: str, input: str | bytes | None = None) -> str:
    data = input.encode() if isinstance(input, str) else input
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], input=data, capture_output=True, check=True
    ).stdout.decode()


def _bare(path: Path) -> Path:
    _git(path, "init", "-q", "--bare", str(path))
    return path


def _ledger(tmp_path: Path, name: str) -> GitLedger:
    return GitLedger(_bare(tmp_path / f"{name}.git"), remote=str(tmp_path / "remote.git"), env=os.environ)


def _tip_entries(remote: Path) -> list[tuple[str, str, str]]:
    """(mode, object, path) of everything under the tip's tree."""
    listing = _git(remote, "ls-tree", "-r", BRANCH)
    return [(line.split()[0], line.split()[2], line.split("\t")[1]) for line in listing.splitlines()]


def _chain(count: int) -> list[Record]:
    records, prev = [], GENESIS
    for seq in range(1, count + 1):
        records.append(make_draft(seq).place(seq, prev))
        prev = records[-1].hash
    return records


def _written(tmp_path: Path, count: int) -> tuple[Path, list[Record]]:
    remote = _bare(tmp_path / "remote.git")
    writer = _ledger(tmp_path, "writer")
    return remote, [writer.append(make_draft(n)) for n in range(1, count + 1)]


def test_full_shards_are_sealed_with_their_digest_and_links_and_everything_reads_back(tmp_path: Path) -> None:
    remote, written = _written(tmp_path, 11)
    assert [(mode, path) for mode, _sha, path in _tip_entries(remote)] == [
        ("100644", HEAD_FILE),
        ("100644", "records/000000.jsonl.gz"),
        ("100644", "records/000000.seal.json"),
        ("100644", "records/000001.jsonl.gz"),
        ("100644", "records/000001.seal.json"),
        ("100644", "records/000002/000000008.json"),
        ("100644", "records/000002/000000009.json"),
        ("100644", "records/000002/000000010.json"),
        ("100644", "records/000002/000000011.json"),
    ]
    lines = gzip.decompress(_blob(remote, "records/000001.jsonl.gz"))
    assert lines == b"".join(r.to_json().encode() + b"\n" for r in written[3:7])
    assert json.loads(_blob(remote, "records/000001.seal.json")) == {
        "shard": "000001",
        "first": 4,
        "last": 7,
        "count": 4,
        "prev": written[2].hash,
        "last_hash": written[6].hash,
        "digest": "sha256:" + hashlib.sha256(lines).hexdigest(),
    }

    reader = _ledger(tmp_path, "reader")  # a fresh clone, as the next CI job is
    assert list(reader.records()) == written
    assert [r.seq for r in reader.records(start_seq=6)] == [6, 7, 8, 9, 10, 11]
    assert [r.seq for r in reader.records(start_seq=9)] == [9, 10, 11]
    assert [r.seq for r in reader.find(kind="approval")] == list(range(1, 12))
    result = reader.verify()
    assert result.ok and result.count == 11 and result.head == written[-1].hash
    partial = reader.verify(6, written[4].hash)
    assert partial.ok and partial.count == 6
    assert reader.head() == written[-1]
    assert reader.extent() == (11, 11)
    assert [seq for seq, _text in reader.stored([2, 5, 9, 40])] == [2, 5, 9]
    # Only the tip was fetched: one commit, and every record came from its tree.
    assert _git(tmp_path / "reader.git", "rev-list", "--count", PRIVATE_REF).strip() == "1"


def _blob(remote: Path, path: str, rev: str = BRANCH) -> bytes:
    return subprocess.run(
        ["git", f"--git-dir={remote}", "cat-file", "blob", f"{rev}:{path}"], capture_output=True, check=True
    ).stdout


def test_a_fresh_reader_runs_the_same_few_git_processes_whatever_the_size(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One `cat-file --batch` streams every record: never a process per record or per shard."""
    started: list[list[str]] = []
    real_popen = subprocess.Popen

    def popen(args: list[str], *rest: Any, **options: Any) -> Any:  # subprocess.run calls it too
        started.append(args)
        return real_popen(args, *rest, **options)

    counts = []
    for size in (6, 30):
        _written(tmp_path / str(size), size)
        reader = _ledger(tmp_path / str(size), "reader")
        started.clear()
        monkeypatch.setattr(subprocess, "Popen", popen)
        assert len(list(reader.find(kind="approval"))) == size and reader.verify().ok
        monkeypatch.setattr(subprocess, "Popen", real_popen)
        counts.append(len(started))
    assert counts[0] == counts[1] <= 8, counts


def test_the_tip_tree_stays_bounded_as_the_ledger_grows(tmp_path: Path) -> None:
    remote = _bare(tmp_path / "remote.git")
    writer = _ledger(tmp_path, "writer")
    for n in range(1, 30):
        writer.append(make_draft(n))
        sealed = n // SHARD
        assert len(_tip_entries(remote)) <= 1 + 2 * sealed + SHARD  # head, seals and shards, the open one
    assert writer.verify().ok


def _write_tree_layout(remote: Path, records: list[Record]) -> None:
    """The first layout: every shard a tree under the tip (one commit, fast-import)."""
    _bare(remote)
    stream = [f"commit refs/heads/{BRANCH}", "committer g <g@l.invalid> 1767225600 +0000", "data 0"]
    for path, text in [
        *((record_path(r.seq), r.to_json()) for r in records),
        (HEAD_FILE, records[-1].to_json()),
    ]:
        stream += [f"M 100644 inline {path}", f"data {len(text.encode())}", text]
    _git(remote, "fast-import", "--quiet", input="\n".join(stream) + "\n")


def _write_gitlink_layout(remote: Path, records: list[Record]) -> None:
    """The second layout: one commit per record, each full shard a gitlink to the last commit holding it."""
    _bare(remote)
    stream: list[str] = []
    open_shard = ""
    for record in records:
        path = record_path(record.seq)
        shard = path.rsplit("/", 1)[0]
        stream += [f"commit refs/heads/{BRANCH}", f"mark :{record.seq}"]
        stream += [f"committer g <g@l.invalid> {1767225600 + record.seq} +0000", "data 0"]
        if open_shard and shard != open_shard:
            stream.append(f"M {GITLINK_MODE} :{record.seq - 1} {open_shard}")
        open_shard = shard
        text = record.to_json()
        for name in (path, HEAD_FILE):
            stream += [f"M 100644 inline {name}", f"data {len(text.encode())}", text]
    _git(remote, "fast-import", "--quiet", input="\n".join(stream) + "\n")


@pytest.mark.parametrize("layout", ["trees", "gitlinks"])
def test_a_ledger_in_an_older_layout_stays_readable_and_is_sealed_by_the_next_append(
    tmp_path: Path, layout: str
) -> None:
    remote = tmp_path / "remote.git"
    old = _chain(10)
    (_write_tree_layout if layout == "trees" else _write_gitlink_layout)(remote, old)

    before = _ledger(tmp_path, "before")
    assert list(before.records()) == old and before.verify().ok
    assert [r.seq for r in before.records(start_seq=5)] == [5, 6, 7, 8, 9, 10]

    added = before.append(make_draft(11))
    assert added.seq == 11 and added.prev == old[-1].hash
    assert [path for _mode, _sha, path in _tip_entries(remote) if not path.startswith("records/000002/")] == [
        HEAD_FILE,
        "records/000000.jsonl.gz",
        "records/000000.seal.json",
        "records/000001.jsonl.gz",
        "records/000001.seal.json",
    ]
    after = _ledger(tmp_path, "after")
    assert list(after.records()) == [*old, added]
    result = after.verify()
    assert result.ok and result.count == 11


def _forge(remote: Path, tmp_path: Path, edit: Callable[[Path], None]) -> None:
    """Rewrite the branch's files by hand and push the result on top, as someone with push access can."""
    work = tmp_path / "forger"
    subprocess.run(["git", "clone", "-q", "-b", BRANCH, str(remote), str(work)], check=True)
    edit(work)
    subprocess.run(["git", "-C", str(work), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(work), "commit", "-q", "-m", "ledger 11"], check=True)
    subprocess.run(["git", "-C", str(work), "push", "-q", "origin", BRANCH], check=True)


def _shard_lines(work: Path, shard: str) -> list[dict[str, Any]]:
    return [
        json.loads(line)
        for line in gzip.decompress((work / f"records/{shard}.jsonl.gz").read_bytes()).splitlines()
    ]


def _reseal(work: Path, shard: str, bodies: list[dict[str, Any]], **seal_changes: object) -> None:
    """Write the shard's records back, and its seal's digest (and any other seal field) to match."""
    data = b"".join(canonical_json(b).encode() + b"\n" for b in bodies)
    (work / f"records/{shard}.jsonl.gz").write_bytes(gzip.compress(data, mtime=0))
    seal = json.loads((work / f"records/{shard}.seal.json").read_text())
    seal.update({"digest": "sha256:" + hashlib.sha256(data).hexdigest(), **seal_changes})
    (work / f"records/{shard}.seal.json").write_text(canonical_json(seal))


def _edited(work: Path) -> None:
    bodies = _shard_lines(work, "000001")
    bodies[1]["data"]["n"] = 55  # seq 5 says something else; its hash stays
    _reseal(work, "000001", bodies)


def _rehashed(work: Path) -> None:
    bodies = _shard_lines(work, "000001")
    bodies[1]["data"]["n"] = 55
    bodies[1]["hash"] = record_hash(bodies[1])  # right for itself; seq 6 names the old hash as its prev
    _reseal(work, "000001", bodies)


def _rehashed_to_the_seal(work: Path) -> None:
    bodies = _shard_lines(work, "000001")
    bodies[1]["data"]["n"] = 55
    for i in range(1, 4):
        if i > 1:
            bodies[i]["prev"] = bodies[i - 1]["hash"]
        bodies[i]["hash"] = record_hash(bodies[i])
    _reseal(work, "000001", bodies, last_hash=bodies[3]["hash"])  # shard 000002's first record still
    # names the old hash as its prev


def _digest_only(work: Path) -> None:
    seal = json.loads((work / "records/000001.seal.json").read_text())
    seal["digest"] = "sha256:" + "0" * 64
    (work / "records/000001.seal.json").write_text(canonical_json(seal))


def _seal_link(work: Path) -> None:
    seal = json.loads((work / "records/000001.seal.json").read_text())
    seal["prev"] = "1" * 64
    (work / "records/000001.seal.json").write_text(canonical_json(seal))


def _dropped(work: Path) -> None:
    bodies = _shard_lines(work, "000001")
    _reseal(work, "000001", [bodies[0], *bodies[2:]], count=3)


SEALED_TAMPERING = {
    "a record edited, the seal's digest recomputed": (_edited, 5, "content does not match its hash"),
    "a record re-hashed, the digest recomputed": (_rehashed, 6, "prev does not match"),
    "records re-hashed to the shard's end, the seal recomputed": (
        _rehashed_to_the_seal,
        8,
        "prev does not match",
    ),
    "the seal's digest changed": (_digest_only, 4, "do not match the digest"),
    "the seal's link to the shard before changed": (_seal_link, 4, "another hash before its first record"),
    "a record dropped, the seal recounted": (_dropped, 5, "expected seq 5, found 6"),
}


@pytest.mark.parametrize("how", sorted(SEALED_TAMPERING))
def test_tampering_with_a_sealed_shard_is_caught(tmp_path: Path, how: str) -> None:
    remote, _written_records = _written(tmp_path, 10)
    edit, first_bad, reason = SEALED_TAMPERING[how]
    _forge(remote, tmp_path, edit)
    result = _ledger(tmp_path, "auditor").verify()
    assert not result.ok and result.first_bad_seq == first_bad, result
    assert reason in result.reason


def _not_gzip(work: Path) -> None:
    (work / "records/000001.jsonl.gz").write_bytes(b"plain text")


def _no_seal(work: Path) -> None:
    (work / "records/000001.seal.json").unlink()


def _stray_file(work: Path) -> None:
    (work / "records/notes.txt").write_text("hello")


def _file_inside_a_sealed_shard(work: Path) -> None:
    (work / "records/000001").mkdir()
    (work / "records/000001/000000005.json").write_text((work / "HEAD.json").read_text())


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (_not_gzip, "sealed shard 000001 is not gzip"),
        (_no_seal, "sealed shard 000001 has no seal"),
        (_stray_file, "holds 'records/notes.txt'"),
        (_file_inside_a_sealed_shard, "record file 5 inside its sealed shard 1"),
    ],
)
def test_a_branch_gatekeeper_could_not_have_written_is_an_integrity_error(
    tmp_path: Path, edit: Callable[[Path], None], message: str
) -> None:
    remote, _records = _written(tmp_path, 10)
    _forge(remote, tmp_path, edit)
    with pytest.raises(LedgerIntegrityError, match=message):
        _ledger(tmp_path, "auditor").verify()


def test_a_gitlink_to_a_commit_nobody_has_is_an_integrity_error(tmp_path: Path) -> None:
    remote = tmp_path / "remote.git"
    _write_gitlink_layout(remote, _chain(6))
    tip = _git(remote, "rev-parse", BRANCH).strip()
    sealed = _git(remote, "rev-parse", f"{tip}:records/000000").strip()
    top = _git(remote, "ls-tree", f"{tip}:records").replace(sealed, "1" * 40)
    root = _git(remote, "ls-tree", tip).replace(
        _git(remote, "rev-parse", f"{tip}:records").strip(), _git(remote, "mktree", input=top).strip()
    )
    commit = _git(remote, "commit-tree", _git(remote, "mktree", input=root).strip(), "-p", tip, "-m", "x")
    _git(remote, "update-ref", f"refs/heads/{BRANCH}", commit.strip())

    with pytest.raises(LedgerIntegrityError, match="sealed shard records/000000"):
        _ledger(tmp_path, "auditor").verify()


def test_a_shard_whose_records_do_not_chain_is_never_sealed(tmp_path: Path) -> None:
    remote, _records = _written(tmp_path, 7)  # shard 000001 (seqs 4-7) is full and still open

    def edit(work: Path) -> None:
        path = work / record_path(5)
        path.write_text(path.read_text().replace('"n":5', '"n":55'))

    _forge(remote, tmp_path, edit)
    tip = _git(remote, "rev-parse", BRANCH)
    with pytest.raises(LedgerIntegrityError, match="full shard 000001 cannot be sealed"):
        _ledger(tmp_path, "writer2").append(make_draft(8))
    assert _git(remote, "rev-parse", BRANCH) == tip  # nothing stored


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
