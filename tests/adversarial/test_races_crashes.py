"""Races and crashes through the CLI: racing `deploy start`s, processes killed mid-append, a PostgreSQL
server that goes away and comes back, and a full disk. Nothing acknowledged may be lost, nothing may be
half-written."""

from __future__ import annotations

import json
import os
import random
import resource
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import pytest

from tests.acceptance import RFC_ID
from tests.adversarial.conftest import Recorder
from tests.adversarial.test_forgery import BACKENDS, Deployment, deployed
from tests.helpers import run_cli
from tests.ledger.pgcluster import _free_port, _server_user, pg_bin
from tests.ledger.spec import BackendSpec
from tests.ledger.tamper import stored_texts

ROOT = Path(__file__).resolve().parents[2]


def _start(path: str, env: dict[str, str], at: str) -> tuple[int, str, str]:
    result = run_cli(
        ["--format", "json", "deploy", "start", "--rfc", RFC_ID],
        cwd=Path(path),
        env=env,
        now=datetime.fromisoformat(at),
    )
    return result.code, result.stdout, result.stderr


@pytest.mark.parametrize("backend", BACKENDS)
def test_two_deploy_starts_at_once_exactly_one_wins(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    reliability: Recorder,
    backend: str,
) -> None:
    deployment = deployed(backend, tmp_path, request, monkeypatch, {})
    before = len(stored_texts(deployment.spec))
    with ProcessPoolExecutor(2, mp_context=get_context("fork")) as pool:
        runs = [
            pool.submit(_start, str(deployment.repo.path), deployment.env, deployment.at.isoformat())
            for _ in "ab"
        ]
        results = [run.result() for run in runs]
    codes = sorted(code for code, _, _ in results)
    assert codes == [0, 1], results
    _, out, err = next(r for r in results if r[0] == 1)
    # The loser either saw the winner's record in the gate or lost the race inside the append.
    assert "deploy.concurrent" in out or "holds the deployment lock" in err, (out, err)
    texts = stored_texts(deployment.spec)
    kinds = [json.loads(t)["kind"] for t in texts[before:]]
    # The workspace's reports are recorded with the winner's start, each once (the loser finds them).
    assert [k for k in kinds if k != "test.evidence"] == ["deployment.started"], kinds
    evidence = [json.loads(t)["data"] for t in texts[before:] if json.loads(t)["kind"] == "test.evidence"]
    assert len({(e["kind"], e["digest"]) for e in evidence}) == len(evidence) > 0, evidence
    assert deployment.cli("ledger", "verify").code == 0
    reliability.row(
        f"{backend}: two `deploy start` processes at once", "race", "exactly one started; chain intact"
    )


def _fresh_spec(name: str, tmp_path: Path, request: pytest.FixtureRequest) -> BackendSpec:
    if name == "sqlite":
        return BackendSpec("sqlite", str(tmp_path / "ledger.db"))
    if name == "git":
        remote = tmp_path / "ledger.git"
        subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
        return BackendSpec("git", str(remote), str(tmp_path / "clones"))
    return BackendSpec("postgres", request.getfixturevalue("pg_dsn"), "k_" + os.urandom(6).hex())


@pytest.mark.parametrize("backend", BACKENDS)
def test_processes_killed_at_random_points_lose_nothing_acknowledged(
    tmp_path: Path, request: pytest.FixtureRequest, reliability: Recorder, backend: str
) -> None:
    spec = _fresh_spec(backend, tmp_path, request)
    rng = random.Random(7)  # reproducible kill points
    acknowledged: list[int] = []
    for round_ in range(3):
        worker = subprocess.Popen(
            [sys.executable, "-m", "tests.ledger.worker", spec.to_json(), "forever", "0", f"w{round_}"],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            text=True,
        )
        assert worker.stdout is not None
        wanted = rng.randint(1, 6)
        seen = 0
        for _line in worker.stdout:
            seen += 1
            if seen >= wanted:
                time.sleep(rng.random() / 50)  # somewhere inside the next append
                break
        worker.send_signal(signal.SIGKILL)
        rest, _ = worker.communicate()
        acknowledged.append(seen + len(rest.split()))
    ledger = spec.open()
    try:
        result = ledger.verify()
        stored = sum(1 for _ in ledger.records())
    finally:
        ledger.close()
    assert result.ok, result
    assert stored >= sum(acknowledged)  # an acknowledged record is never lost; an unacknowledged one may land
    reliability.row(
        f"{backend}: appending process SIGKILLed at random points (3 rounds)",
        "crash",
        f"{sum(acknowledged)} acknowledged, all stored; chain verifies",
        lost=max(0, sum(acknowledged) - stored),
    )


# --------------------------------------------------------------------------- PostgreSQL goes away


@pytest.fixture
def own_cluster() -> Iterator[tuple[str, tuple[list[str], list[str]]]]:
    """A PostgreSQL cluster of this test alone, so it can be stopped and started (the shared one cannot)."""
    initdb, pg_ctl = pg_bin("initdb"), pg_bin("pg_ctl")
    prefix, uid, gid = _server_user()
    base = Path(tempfile.mkdtemp(prefix="gatekeeper-pg-restart-"))
    if uid is not None and gid is not None:
        os.chown(base, uid, gid)
    port, data = _free_port(), base / "data"
    env = {"PATH": os.environ.get("PATH", ""), "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8"}
    options = f"-p {port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
    start = [*prefix, pg_ctl, "-D", str(data), "-l", str(base / "log"), "-o", options, "-w", "start"]
    stop = [*prefix, pg_ctl, "-D", str(data), "-m", "fast", "-w", "stop"]
    subprocess.run(
        [*prefix, initdb, "-D", str(data), "-U", "gatekeeper", "--auth=trust", "--no-sync"],
        check=True,
        capture_output=True,
        env=env,
    )
    subprocess.run(start, check=True, capture_output=True, env=env)
    try:
        yield f"postgresql://gatekeeper@127.0.0.1:{port}/postgres", (start, stop)
    finally:
        subprocess.run(
            [*prefix, pg_ctl, "-D", str(data), "-m", "immediate", "stop"], capture_output=True, env=env
        )
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.postgres
def test_postgres_stopped_and_restarted_mid_run(
    tmp_path: Path,
    own_cluster: tuple[str, tuple[list[str], list[str]]],
    monkeypatch: pytest.MonkeyPatch,
    request: pytest.FixtureRequest,
    reliability: Recorder,
) -> None:
    dsn, (start, stop) = own_cluster
    deployment = deployed("postgres", tmp_path, request, monkeypatch, {}, dsn)
    assert deployment.cli("gate", "--rfc", RFC_ID).code == 0
    subprocess.run(stop, check=True, capture_output=True)
    code, body = deployment.gate()
    assert code == 1 and any(f["rule"] == "gate.error" and "ledger" in f["subject"] for f in body["findings"])
    approve = deployment.cli("approve", RFC_ID, "--step", "cab", "--decision", "approve")
    assert approve.code == 3 and "internal error" not in approve.stderr, approve.stderr
    subprocess.run(start, check=True, capture_output=True)
    assert deployment.cli("gate", "--rfc", RFC_ID).code == 0
    verify = deployment.cli("--format", "json", "ledger", "verify")
    assert (
        verify.code == 0 and json.loads(verify.stdout)["count"] == 6
    )  # five approvals and the evidence they certify
    reliability.row(
        "PostgreSQL stopped, then started again mid-run",
        "server gone",
        "gate.error and a clear exit 3 while down; allowed again after; nothing half-written",
    )


# ------------------------------------------------------------------------------------- full disk


def _limited(limit: int) -> Any:
    def apply() -> None:
        signal.signal(
            signal.SIGXFSZ, signal.SIG_IGN
        )  # writes past the limit fail with EFBIG, as on a full disk
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))

    return apply


@pytest.mark.parametrize("backend", ["sqlite", "git"])
def test_a_full_disk_is_a_clear_error_and_nothing_is_half_written(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    reliability: Recorder,
    backend: str,
) -> None:
    # Grade 3: the workstation's decision passes approve's checks, so the write itself meets the full disk.
    deployment: Deployment = deployed(backend, tmp_path, request, monkeypatch, {"system": {"grade": 3}})
    before = stored_texts(deployment.spec)
    sizes = [p.stat().st_size for p in tmp_path.rglob("*") if p.is_file()]
    env = {**os.environ, **deployment.env}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "gatekeeper",
            "approve",
            RFC_ID,
            "--step",
            "cab",
            "--decision",
            "approve",
            "--comment",
            os.urandom(50_000).hex(),  # 100 kB that does not compress
        ],
        cwd=deployment.repo.path,
        env=env,
        capture_output=True,
        text=True,
        preexec_fn=_limited(max(sizes) + 16_384),
    )
    assert result.returncode in (2, 3), result.stdout + result.stderr
    assert "Traceback" not in result.stderr and "gatekeeper: " in result.stderr, result.stderr
    after = stored_texts(deployment.spec)
    assert after == before
    assert deployment.cli("ledger", "verify").code == 0
    reliability.row(
        f"{backend}: approve when the disk is full (RLIMIT_FSIZE, EFBIG)",
        "full disk",
        f"exit {result.returncode} with a message; ledger unchanged and verifying",
    )


def _approve(path: str, env: dict[str, str], at: str, n: int) -> tuple[int, str, str]:
    result = run_cli(
        ["approve", RFC_ID, "--step", "cab", "--decision", "approve", "--comment", f"writer {n}"],
        cwd=Path(path),
        env=env,
        now=datetime.fromisoformat(at),
    )
    return result.code, result.stdout, result.stderr


@pytest.mark.slow
def test_eight_git_writers_at_once_lose_nothing(
    tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch, reliability: Recorder
) -> None:
    # Grade 3: a workstation's decision is recorded, so all eight reach the ledger branch.
    deployment = deployed("git", tmp_path, request, monkeypatch, {"system": {"grade": 3}})
    before = len(stored_texts(deployment.spec))
    args = (str(deployment.repo.path), deployment.env, deployment.at.isoformat())
    with ProcessPoolExecutor(8, mp_context=get_context("fork")) as pool:
        results = list(pool.map(_approve, *zip(*[(*args, n) for n in range(8)], strict=True)))
    for code, _, err in results:
        assert code == 0 or (code == 3 and "gatekeeper: error:" in err), err  # a write that failed says so
    acknowledged = {f"writer {n}" for n, (code, _, _) in enumerate(results) if code == 0}
    comments = {json.loads(t)["data"].get("comment") for t in stored_texts(deployment.spec)[before:]}
    assert acknowledged <= comments and len(comments) == len(stored_texts(deployment.spec)) - before
    assert deployment.cli("ledger", "verify").code == 0
    reliability.row(
        "git: 8 `gatekeeper approve` processes pushing the ledger branch at once",
        "race",
        f"{len(acknowledged)} of 8 acknowledged, all stored once; chain intact",
        lost=len(acknowledged - comments),
    )
