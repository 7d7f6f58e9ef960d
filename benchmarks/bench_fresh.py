"""The fresh runner — every GitHub- or GitLab-hosted job — on each ledger backend, at 1,000, 10,000 and
100,000 records.

A fresh runner has a new shallow clone of the project (`git clone --depth 1`, as actions/checkout makes it),
a new connection to the ledger, and no checkpoint (an empty HOME), so it verifies the whole chain before it
believes a record; the git ledger is fetched by gatekeeper itself. Each case runs gatekeeper in processes
of its own, as a job step does, with the clock fixed at a Tuesday 20:00 KST:

- `gate`: the clone, then `gatekeeper gate` (its peak RSS is measured);
- `deploy start` + `deploy finish`: the clone, then both commands (the records they append are removed
  again afterwards, so every run sees the same ledger).

The ledger is the organisation-wide history of bench_gate (20 systems, five years), ending with the
approvals of the deployed change. Printed, per backend: the median of the runs at each size, the growth
from the smallest to the largest size, and the ratio against SQLite at the same size. Targets (issue 20):
the git gate at 100,000 records <= 3 s and <= 3x SQLite's; growth 1,000 -> 100,000 <= 5x; deploy start +
finish <= 2x the gate; the gate's peak RSS <= 80 MiB at 100,000.

Run: `python -m benchmarks.bench_fresh [--sizes 1000,10000,100000] [--only git] [--repeats 3]` (or
`make bench`). The git ledgers are written with fast-import (about two minutes for 100,000 records); the
PostgreSQL server is a throw-away cluster started for the run.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from benchmarks.bench_gate import NOW, RFC_ID, records, write_project, write_reports
from benchmarks.ledgers import fill_git, fill_postgres, fill_sqlite

ROOT = Path(__file__).resolve().parents[1]
# Who runs the job (outside CI gatekeeper takes the git identity).
IDENTITY = {"GIT_CONFIG_COUNT": "1", "GIT_CONFIG_KEY_0": "user.email", "GIT_CONFIG_VALUE_0": "ci@example.org"}
BACKENDS = ("git", "sqlite", "postgres")
SIZES = (1_000, 10_000, 100_000)
TARGET_SECONDS, TARGET_VS_SQLITE, TARGET_GROWTH, TARGET_DEPLOY, TARGET_RSS_MIB = 3.0, 3.0, 5.0, 2.0, 80
# gatekeeper in a process of its own, with the clock injected (deploy start records the time it runs at),
# writing its peak resident set (VmHWM: of this process's own memory, not inherited from the benchmark
# that started it, as ru_maxrss is on Linux) to the file named first.
DRIVER = (
    "import os, sys\n"
    "from datetime import datetime\n"
    "from pathlib import Path\n"
    "from gatekeeper.cli import main\n"
    "from gatekeeper.runtime import Runtime\n"
    "now = datetime.fromisoformat(sys.argv[2])\n"
    "try:\n"
    "    code = main(sys.argv[3:], Runtime(env=dict(os.environ), cwd=Path.cwd(), clock=lambda: now))\n"
    "finally:\n"
    "    status = Path('/proc/self/status')\n"
    "    lines = status.read_text().splitlines() if status.exists() else []\n"
    "    Path(sys.argv[1]).write_text(next((l.split()[1] for l in lines if l.startswith('VmHWM:')), '0'))\n"
    "sys.exit(code)\n"
)


@dataclass
class Project:
    """One backend's project and ledger at one size, and how to put the ledger back after a deployment."""

    backend: str
    size: int
    remote: Path  # the bare repository a runner clones
    env: dict[str, str]
    reset: list[object] = field(default_factory=list)

    def restore(self) -> None:
        for step in self.reset:
            step()  # type: ignore[operator]


@dataclass
class Run:
    clone: float
    seconds: float
    rss_mib: float


def _ledger_settings(backend: str, size: int, work: Path, dsn: str) -> tuple[str, dict[str, str]]:
    if backend == "git":
        return "{backend: git}", {}  # the branch gatekeeper/ledger of the project's origin
    if backend == "sqlite":
        return f"{{backend: sqlite, path: '{work / f'ledger-{size}.db'}'}}", {}
    return (
        f"{{backend: postgres, dsn_env: GATEKEEPER_LEDGER_DSN, schema: fresh_{size}}}",
        {"GATEKEEPER_LEDGER_DSN": dsn},
    )


def build(backend: str, size: int, work: Path, dsn: str) -> Project:
    settings, env = _ledger_settings(backend, size, work, dsn)
    source = work / f"{backend}-{size}-source"
    # Grade 3: its approvals count without the CI platform's attestation (recorded in bulk, they have none).
    digest = write_project(source, settings, reports=False, grade=3)
    remote = work / f"{backend}-{size}.git"
    subprocess.run(["git", "clone", "-q", "--bare", str(source), str(remote)], check=True)
    chained = records(size - 5, digest)
    project = Project(backend, size, remote, env)
    if backend == "git":
        fill_git(remote, chained)
        tip = _out(["git", f"--git-dir={remote}", "rev-parse", "refs/heads/gatekeeper/ledger"])
        ref = ["git", f"--git-dir={remote}", "update-ref", "refs/heads/gatekeeper/ledger", tip]
        project.reset.append(lambda: subprocess.run(ref, check=True))
    elif backend == "sqlite":
        db = work / f"ledger-{size}.db"
        fill_sqlite(db, chained)
        pristine = work / f"ledger-{size}.pristine.db"
        shutil.copyfile(db, pristine)
        project.reset.append(lambda: shutil.copyfile(pristine, db))
    else:
        fill_postgres(dsn, f"fresh_{size}", chained)
        project.reset.append(lambda: _delete_after(dsn, f"fresh_{size}", size))
    return project


def _delete_after(dsn: str, schema: str, size: int) -> None:
    import psycopg

    with psycopg.connect(dsn) as db:
        db.execute(f"DELETE FROM {schema}.records WHERE seq > %s", (size,))


def _out(command: list[str]) -> str:
    return subprocess.run(command, capture_output=True, text=True, check=True).stdout.strip()


def _clone(project: Project, runner: Path) -> float:
    """A job's checkout: a fresh shallow clone of the default branch."""
    started = time.perf_counter()
    subprocess.run(
        ["git", "clone", "-q", "--depth", "1", "--branch", "main", f"file://{project.remote}", str(runner)],
        check=True,
    )
    took = time.perf_counter() - started
    write_reports(runner)  # the job's tests produce them (a committed report is no evidence)
    return took


def _gatekeeper(project: Project, runner: Path, *args: str) -> tuple[float, float, str]:
    """(seconds, peak RSS in MiB, standard output) of one gatekeeper process in the runner's checkout."""
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(runner.parent / "home"), **project.env}
    env.update(PYTHONPATH=str(ROOT), GIT_CONFIG_NOSYSTEM="1", **IDENTITY)
    peak = runner.parent / "peak-rss"
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-c", DRIVER, str(peak), NOW.isoformat(), "--format", "json", *args],
        cwd=runner,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    took = time.perf_counter() - started
    if result.returncode != 0:
        said = result.stdout[-400:] + result.stderr[-800:]
        raise RuntimeError(f"gatekeeper {' '.join(args)} exited {result.returncode}: {said}")
    return took, int(peak.read_text() or 0) / 1024, result.stdout


def gate(project: Project, runner: Path) -> Run:
    clone = _clone(project, runner)
    took, rss, _text = _gatekeeper(project, runner, "gate", "--rfc", RFC_ID)
    return Run(clone, took, rss)


def deploy(project: Project, runner: Path) -> Run:
    clone = _clone(project, runner)
    try:
        start, rss, text = _gatekeeper(project, runner, "deploy", "start", "--rfc", RFC_ID)
        deployment = json.loads(text)["deployment_id"]
        finish, rss_finish, _text = _gatekeeper(
            project, runner, "deploy", "finish", deployment, "--result", "success"
        )
    finally:
        project.restore()
    return Run(clone, start + finish, max(rss, rss_finish))


def _median(runs: list[Run]) -> Run:
    return Run(
        statistics.median(r.clone for r in runs),
        statistics.median(r.seconds for r in runs),
        max(r.rss_mib for r in runs),
    )


def measure(project: Project, work: Path, repeats: int) -> tuple[Run, Run]:
    gates, deploys = [], []
    for i in range(repeats):  # alternately, so machine noise hits both alike
        gates.append(gate(project, work / f"gate-{project.backend}-{project.size}-{i}" / "checkout"))
        deploys.append(deploy(project, work / f"deploy-{project.backend}-{project.size}-{i}" / "checkout"))
    return _median(gates), _median(deploys)


def _verdict(ok: bool) -> str:
    return "ok" if ok else "OVER TARGET"


def report(
    results: dict[tuple[str, int], tuple[Run, Run]], backends: tuple[str, ...], sizes: list[int]
) -> None:
    print(
        f"{'backend':>9} {'records':>8} {'clone':>7} {'gate':>7} {'peak RSS':>9} {'start+finish':>13} "
        f"{'deploy/gate':>12} {'gate vs sqlite':>15}"
    )
    for backend in backends:
        for size in sizes:
            gate_run, deploy_run = results[(backend, size)]
            sqlite = results.get(("sqlite", size))
            versus = f"{gate_run.seconds / sqlite[0].seconds:14.2f}x" if sqlite else f"{'-':>15}"
            print(
                f"{backend:>9} {size:>8,} {gate_run.clone:6.2f}s {gate_run.seconds:6.2f}s "
                f"{gate_run.rss_mib:6.0f} MiB {deploy_run.seconds:12.2f}s "
                f"{deploy_run.seconds / gate_run.seconds:11.2f}x {versus}"
            )
        if len(sizes) > 1:
            small, large = results[(backend, sizes[0])][0], results[(backend, sizes[-1])][0]
            growth = large.seconds / small.seconds
            print(
                f"{backend:>9} gate growth {sizes[0]:,} -> {sizes[-1]:,}: {growth:.2f}x "
                f"(target <= {TARGET_GROWTH}) [{_verdict(growth <= TARGET_GROWTH)}]"
            )
    if ("git", sizes[-1]) in results:
        gate_run, deploy_run = results[("git", sizes[-1])]
        print(
            f"git at {sizes[-1]:,}: gate {gate_run.seconds:.2f} s (target <= {TARGET_SECONDS} s) "
            f"[{_verdict(gate_run.seconds <= TARGET_SECONDS)}]; deploy start+finish / gate "
            f"{deploy_run.seconds / gate_run.seconds:.2f} (target <= {TARGET_DEPLOY}) "
            f"[{_verdict(deploy_run.seconds <= TARGET_DEPLOY * gate_run.seconds)}]; peak RSS "
            f"{gate_run.rss_mib:.0f} MiB (target <= {TARGET_RSS_MIB}) "
            f"[{_verdict(gate_run.rss_mib <= TARGET_RSS_MIB)}]"
        )
        if ("sqlite", sizes[-1]) in results:
            ratio = gate_run.seconds / results[("sqlite", sizes[-1])][0].seconds
            print(
                f"git gate / sqlite gate at {sizes[-1]:,}: {ratio:.2f} (target <= {TARGET_VS_SQLITE}) "
                f"[{_verdict(ratio <= TARGET_VS_SQLITE)}]"
            )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_fresh")
    parser.add_argument(
        "--sizes", default=",".join(str(s) for s in SIZES), help="ledger sizes, comma-separated"
    )
    parser.add_argument("--only", action="append", choices=BACKENDS, help="this backend only (repeatable)")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args([] if argv is None else argv)
    sizes = sorted(int(size) for size in args.sizes.split(","))
    backends = tuple(name for name in BACKENDS if name in (args.only or BACKENDS))
    sys.path.insert(0, str(ROOT))
    from tests.ledger.pgcluster import throwaway_cluster

    print(
        f"-- fresh runner: shallow clone, then gatekeeper gate / deploy start + finish in their own "
        f"processes, no checkpoint (median of {args.repeats})"
    )
    results: dict[tuple[str, int], tuple[Run, Run]] = {}
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gatekeeper-fresh-")))
        dsn = stack.enter_context(throwaway_cluster(durable=True)) if "postgres" in backends else ""
        for backend in backends:
            for size in sizes:
                project = build(backend, size, work, dsn)
                results[(backend, size)] = measure(project, work, args.repeats)
    report(results, backends, sizes)


if __name__ == "__main__":
    main(sys.argv[1:])
