"""The default git ledger on a fresh hosted runner: sealed shards cannot be forged past the gate.

A fresh runner reads the ledger branch's tip only, and checks each sealed shard (its records gzip-compressed
in one blob, beside a seal naming their range, their SHA-256 and the hashes before and after them) with one
pass over its bytes. A developer with push access to the ledger branch edits a sealed shard by hand — and
recomputes whatever a seal lets them recompute — then pushes it on top, or force-pushes a rebuilt branch.
The fresh runner's gate must block (gate.error naming the ledger) and `ledger verify` name the first bad
seq; a runner that verified the branch before refuses a branch whose tip does not descend from the tip it
saw (the tamper-proofing rule), never starting over from the forged chain.

The baseline is the allowed grade-1 deployment of tests/acceptance.py (5 records) with a shard size of 2:
seq 1 is sealed shard 000000, seqs 2-3 sealed shard 000001 (approvals), seqs 4-5 the open shard 000002.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import gatekeeper.ledger.git as git_ledger
from gatekeeper.ledger import canonical_json, record_hash
from tests.adversarial.conftest import Recorder
from tests.adversarial.test_forgery import RFC_ID, Deployment, deployed

BRANCH = "gatekeeper/ledger"
SHARD = "000001"  # seqs 2 and 3, sealed


@pytest.fixture
def sealed(tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> Deployment:
    monkeypatch.setattr(git_ledger, "SHARD_SIZE", 2)
    deployment = deployed("git", tmp_path, request, monkeypatch, {})
    listing = _git(Path(deployment.spec.location), "ls-tree", "-r", "--name-only", BRANCH).split()
    assert f"records/{SHARD}.jsonl.gz" in listing and f"records/{SHARD}.seal.json" in listing, listing
    return deployment


def _git(git_dir: Path, *args: str) -> str:
    return subprocess.run(
        ["git", f"--git-dir={git_dir}", *args], capture_output=True, text=True, check=True
    ).stdout


def _lines(work: Path) -> list[dict[str, Any]]:
    data = gzip.decompress((work / f"records/{SHARD}.jsonl.gz").read_bytes())
    return [json.loads(line) for line in data.splitlines()]


def _seal(work: Path) -> dict[str, Any]:
    seal: dict[str, Any] = json.loads((work / f"records/{SHARD}.seal.json").read_text(encoding="utf-8"))
    return seal


def _write(work: Path, bodies: list[dict[str, Any]], **seal_changes: object) -> None:
    """The shard's records written back, its seal's digest recomputed to match (and any other field)."""
    data = b"".join(canonical_json(body).encode() + b"\n" for body in bodies)
    (work / f"records/{SHARD}.jsonl.gz").write_bytes(gzip.compress(data, mtime=0))
    seal = {**_seal(work), "digest": "sha256:" + hashlib.sha256(data).hexdigest(), **seal_changes}
    (work / f"records/{SHARD}.seal.json").write_text(canonical_json(seal), encoding="utf-8")


def _edited(work: Path) -> int:
    bodies = _lines(work)
    bodies[0]["actor"] = "mallory"  # another approver, the record's hash kept
    _write(work, bodies)
    return 2


def _rehashed_to_the_seal(work: Path) -> int:
    bodies = _lines(work)
    bodies[0]["actor"] = "mallory"
    bodies[0]["hash"] = record_hash(bodies[0])
    bodies[1]["prev"] = bodies[0]["hash"]
    bodies[1]["hash"] = record_hash(bodies[1])
    _write(work, bodies, last_hash=bodies[1]["hash"])
    return 4  # the open shard's first record still names the old hash


def _digest_only(work: Path) -> int:
    (work / f"records/{SHARD}.seal.json").write_text(
        canonical_json({**_seal(work), "digest": "sha256:" + "0" * 64}), encoding="utf-8"
    )
    return 2


def _dropped(work: Path) -> int:
    bodies = _lines(work)
    _write(work, bodies[1:], count=1)
    return 2


def _uncompressed(work: Path) -> int | None:
    path = work / f"records/{SHARD}.jsonl.gz"
    path.write_bytes(gzip.decompress(path.read_bytes()))
    return None  # the branch is unreadable as a whole: an integrity error, no seq to name


def _unsealed(work: Path) -> int:
    """The sealed shard replaced by record files of the older layout, one edited."""
    bodies = _lines(work)
    bodies[0]["actor"] = "mallory"
    (work / f"records/{SHARD}.jsonl.gz").unlink()
    (work / f"records/{SHARD}.seal.json").unlink()
    (work / f"records/{SHARD}").mkdir()
    for body in bodies:
        (work / f"records/{SHARD}/{body['seq']:09d}.json").write_text(canonical_json(body), encoding="utf-8")
    return 2


SEALED_FORGERIES: dict[str, tuple[Callable[[Path], int | None], str]] = {
    "an approval's approver edited, the seal's digest recomputed": (_edited, "does not match its hash"),
    "an approval edited and re-hashed, the shard re-chained and its seal recomputed": (
        _rehashed_to_the_seal,
        "prev does not match",
    ),
    "the seal's digest replaced": (_digest_only, "digest"),
    "an approval dropped from the shard, the seal recounted": (_dropped, "expected seq 2"),
    "the shard stored uncompressed": (_uncompressed, "not gzip"),
    "the sealed shard turned back into record files, one edited": (_unsealed, "does not match its hash"),
}


def _forge(deployment: Deployment, tmp_path: Path, edit: Callable[[Path], int | None]) -> int | None:
    """Edit the ledger branch's files by hand and push the result on top, as push access allows."""
    work = tmp_path / "forger"
    subprocess.run(["git", "clone", "-q", "-b", BRANCH, deployment.spec.location, str(work)], check=True)
    first_bad = edit(work)
    for args in (["add", "-A"], ["commit", "-q", "-m", "ledger 6"], ["push", "-q", "origin", BRANCH]):
        subprocess.run(
            ["git", "-C", str(work), "-c", "user.name=m", "-c", "user.email=m@example.org", *args], check=True
        )
    return first_bad


def _gate_error_names_the_ledger(body: dict[str, Any]) -> bool:
    return any(f["rule"] == "gate.error" and "ledger" in f["subject"] for f in body["findings"])


@pytest.mark.parametrize("how", sorted(SEALED_FORGERIES))
def test_a_forged_sealed_shard_blocks_the_gate_on_a_fresh_runner(
    sealed: Deployment, reliability: Recorder, tmp_path: Path, how: str
) -> None:
    edit, reason = SEALED_FORGERIES[how]
    reliability.row(
        f"git ledger, sealed shard: {how}, pushed on top; then the gate and `ledger verify` on a fresh "
        "runner",
        "forgery (sealed shard)",
        f"gate blocks (gate.error naming the ledger); ledger verify exit 1 ({reason})",
    )
    fresh = {"HOME": str(tmp_path / "fresh-runner")}
    assert sealed.cli("gate", "--rfc", RFC_ID, env=fresh).code == 0  # allowed before the forgery
    first_bad = _forge(sealed, tmp_path, edit)
    fresh = {"HOME": str(tmp_path / "another-fresh-runner")}
    result = sealed.cli("--format", "json", "gate", "--rfc", RFC_ID, env=fresh)
    assert result.code == 1, result.stdout + result.stderr
    assert _gate_error_names_the_ledger(json.loads(result.stdout)), result.stdout
    verify = sealed.cli("--format", "json", "ledger", "verify", env=fresh)
    assert verify.code == 1, verify.stdout + verify.stderr
    assert reason in verify.stdout + verify.stderr, verify.stdout + verify.stderr
    if first_bad is not None:
        assert json.loads(verify.stdout)["first_bad_seq"] == first_bad, verify.stdout


def test_a_rebuilt_branch_with_forged_sealed_shards_is_refused_where_it_was_seen(
    sealed: Deployment, reliability: Recorder, tmp_path: Path
) -> None:
    """Every record re-chained and every shard resealed, then force-pushed: the chain alone is consistent,
    so only a runner that saw the branch before (or an anchor) can tell — and it must, without starting
    over from the forged chain."""
    reliability.row(
        "git ledger: an approval's approver edited, every record re-hashed, every shard resealed, the "
        "branch force-pushed as one new commit; then the gate on a runner that verified the branch before",
        "forgery (history rewritten through the seals)",
        "gate blocks (gate.error naming the ledger); the runner's checkpoint is kept",
    )
    runner = {"HOME": str(tmp_path / "runner")}
    assert sealed.cli("gate", "--rfc", RFC_ID, env=runner).code == 0  # verifies, keeps a checkpoint
    checkpoints = list((tmp_path / "runner").rglob("*.json"))
    assert len(checkpoints) == 1
    kept = checkpoints[0].read_text(encoding="utf-8")

    remote = Path(sealed.spec.location)
    work = tmp_path / "forger"
    subprocess.run(["git", "clone", "-q", "-b", BRANCH, str(remote), str(work)], check=True)
    _rebuild(work)
    env = ["-c", "user.name=m", "-c", "user.email=m@example.org"]
    subprocess.run(["git", "-C", str(work), "add", "-A"], check=True)
    subprocess.run(["git", "-C", str(work), *env, "commit", "-q", "-m", "ledger 5"], check=True)
    squashed = subprocess.run(
        ["git", "-C", str(work), *env, "commit-tree", "HEAD^{tree}", "-m", "ledger 5"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    subprocess.run(["git", "-C", str(work), "push", "-q", "-f", "origin", f"{squashed}:{BRANCH}"], check=True)

    # The forgery is consistent: a fresh runner's whole-chain verification finds nothing wrong with it ...
    fresh = sealed.cli("ledger", "verify", env={"HOME": str(tmp_path / "fresh-runner")})
    assert fresh.code == 0, fresh.stdout + fresh.stderr
    # ... but the runner that saw the branch before refuses it, and keeps what it verified.
    result = sealed.cli("--format", "json", "gate", "--rfc", RFC_ID, env=runner)
    assert result.code == 1 and _gate_error_names_the_ledger(json.loads(result.stdout)), result.stdout
    assert "force-pushed" in result.stdout or "rewritten" in result.stdout, result.stdout
    assert checkpoints[0].read_text(encoding="utf-8") == kept


def _rebuild(work: Path) -> None:
    """Every record of the branch re-chained after seq 2's approver is changed, every seal recomputed."""
    shards = sorted(p.name.removesuffix(".jsonl.gz") for p in (work / "records").glob("*.jsonl.gz"))
    open_files = sorted((work / "records").glob("*/*.json"))
    bodies: list[dict[str, Any]] = []
    for shard in shards:
        data = gzip.decompress((work / f"records/{shard}.jsonl.gz").read_bytes())
        bodies.extend(json.loads(line) for line in data.splitlines())
    bodies.extend(json.loads(path.read_text(encoding="utf-8")) for path in open_files)
    prev = "0" * 64
    for body in bodies:
        if body["seq"] == 2:
            body["actor"] = "mallory"
        body["prev"] = prev
        body["hash"] = prev = record_hash(body)
    by_seq = {body["seq"]: body for body in bodies}
    for shard in shards:
        seal = json.loads((work / f"records/{shard}.seal.json").read_text(encoding="utf-8"))
        rows = [by_seq[seq] for seq in range(seal["first"], seal["last"] + 1)]
        data = b"".join(canonical_json(body).encode() + b"\n" for body in rows)
        (work / f"records/{shard}.jsonl.gz").write_bytes(gzip.compress(data, mtime=0))
        seal.update(
            prev=by_seq[seal["first"] - 1]["hash"] if seal["first"] > 1 else "0" * 64,
            last_hash=rows[-1]["hash"],
            digest="sha256:" + hashlib.sha256(data).hexdigest(),
        )
        (work / f"records/{shard}.seal.json").write_text(canonical_json(seal), encoding="utf-8")
    for path in open_files:
        path.write_text(canonical_json(by_seq[int(path.stem)]), encoding="utf-8")
    (work / git_ledger.HEAD_FILE).write_text(canonical_json(bodies[-1]), encoding="utf-8")
