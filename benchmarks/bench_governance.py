"""Gate latency with the configuration read from the protected default branch, against the gate reading
the work tree's configuration (issue "a change cannot weaken its own gate": report the ratio).

One project of bench_gate (the approved change, passing reports, a ledger of 1,000 records outside the
checkout) is pushed to a bare `origin`; the job works on a branch with one more commit. The CI gate — a
GitHub Actions job (`GITHUB_ACTIONS=true`, the event payload naming `main` as the default branch) —
fetches `main` from `origin`, reads `.gatekeeper.yml` from its tip and compares the governance files with
the deployed commit; the workstation gate reads the work tree. Both run in-process, alternately, with a
persistent runner's checkpoint; the medians and their ratio are printed.

Run: `python -m benchmarks bench_governance` (or `make bench`).
"""

from __future__ import annotations

import io
import json
import os
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

from benchmarks.bench_gate import NOW, RFC_ID, _git, records, write_project
from benchmarks.ledgers import fill_sqlite
from gatekeeper.cli import main as cli_main
from gatekeeper.runtime import Runtime

REPEATS = 15
HISTORY = 1_000


def _project(tmp: Path) -> tuple[Path, dict[str, str]]:
    root = tmp / "project"
    ledger = tmp / "ledger.db"
    digest = write_project(root, f"{{backend: sqlite, path: {ledger}}}")
    fill_sqlite(ledger, records(HISTORY, digest))
    origin = tmp / "origin.git"
    subprocess.run(["git", "init", "-q", "--bare", "-b", "main", str(origin)], check=True)
    _git(root, "remote", "add", "origin", str(origin))
    _git(root, "push", "-q", "origin", "main")
    _git(root, "checkout", "-q", "-b", "feature")
    (root / "app.py").write_text("VALIDATE = True\n", encoding="utf-8")
    _git(root, "add", "app.py")
    _git(
        root,
        "-c",
        "user.name=dev",
        "-c",
        "user.email=dev@example.org",
        "commit",
        "-q",
        "-m",
        f"{RFC_ID} 보완",
    )
    for report in (root / "reports").rglob("*.xml"):
        os.utime(report)  # produced by this job, after its checkout
    event = tmp / "event.json"
    event.write_text(json.dumps({"repository": {"default_branch": "main"}, "inputs": {}}), encoding="utf-8")
    ci = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTOR": "dev",
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": _git(root, "rev-parse", "HEAD"),
        "GITHUB_REF": "refs/heads/feature",
    }
    return root, ci


def _gate_once(root: Path, env: dict[str, str]) -> tuple[float, int]:
    out, err = io.StringIO(), io.StringIO()
    runtime = Runtime(env=env, cwd=root, stdout=out, stderr=err, clock=lambda: NOW)
    started = time.perf_counter()
    code = cli_main(["--format", "json", "gate", "--rfc", RFC_ID], runtime)
    return time.perf_counter() - started, code


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        root, ci = _project(Path(tmp))
        base = {"PATH": os.environ.get("PATH", ""), "HOME": str(Path(tmp) / "runner-home")}
        envs = ({**base}, {**base, **ci})
        runs: tuple[list[tuple[float, int]], list[tuple[float, int]]] = ([], [])
        for env in envs:
            _gate_once(root, env)  # warm-up: imports, the checkpoint
        for _ in range(REPEATS):
            for which, env in enumerate(envs):
                runs[which].append(_gate_once(root, env))
    local, from_base = (statistics.median(t for t, _ in r) for r in runs)
    codes = (runs[0][-1][1], runs[1][-1][1])
    print(f"gate, configuration from the work tree:            {local * 1000:7.1f} ms (exit {codes[0]})")
    print(f"gate in CI, configuration from origin's main tip:  {from_base * 1000:7.1f} ms (exit {codes[1]})")
    print(f"ratio default-branch / work-tree configuration: {from_base / local:.2f}")


if __name__ == "__main__":
    main()
