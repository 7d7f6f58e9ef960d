"""The organisation views (`audit --system all`, `kpi --system all`) over a PostgreSQL ledger shared by many
systems: time, peak memory, and how a single system's reading grows as systems are added.

Issue 19's target is 1,000 systems × 10,000 records (10 million) under 30 s and 500 MB each; this
benchmark generates GATEKEEPER_BENCH_SYSTEMS × GATEKEEPER_BENCH_PER_SYSTEM records (100 × 1,000 by
default: 100,000 records, which this 2-core machine generates and loads in about a minute) with the mix of
`bench_audit` (approvals, evidence, deployments with the facts the gate recorded, PIRs, 2 % failures with
their incidents), each system's history under its own name, all interleaved in time. Every command runs in
a fresh process (`bench_audit._child`); the median of GATEKEEPER_BENCH_REPEAT runs (3) is printed.

Figures, as ratios against references measured in the same run:
- each portfolio command against a streamed scan of every stored record (`SELECT body ... ORDER BY seq`);
- per system: the portfolio command's time divided by the number of systems, against the same command for
  one system alone (`--system sys-0000`) on the same ledger;
- flatness: the single-system `kpi` and `audit --no-record` of one system on the shared ledger against the
  same on a ledger holding that system alone (issue 19: ≤ 1.2×).

`python -m benchmarks bench_portfolio`; GATEKEEPER_BENCH_PG_DSN uses an existing PostgreSQL.
"""

from __future__ import annotations

import heapq
import os
import shutil
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

from benchmarks.bench_audit import CONFIG, REPEAT, _child, _drafts, _postgres, _repo, _scan_postgres

SYSTEMS = int(os.environ.get("GATEKEEPER_BENCH_SYSTEMS", "100"))
PER_SYSTEM = int(os.environ.get("GATEKEEPER_BENCH_PER_SYSTEM", "1000"))
OWN = "minwon-portal"  # the configuration's own system (bench_audit's CONFIG)


def _system(n: int) -> str:
    return OWN if n == 0 else f"sys-{n:04d}"


def _registry(count: int) -> str:
    if count < 2:
        return ""
    lines = ["systems:"]
    for n in range(1, count):
        # One repository deploys every system here (its jobs sign all their records, `bench_audit._sign`):
        # the organisation's audit verifies each system's records against the repository its entry names.
        entry = f"id: {_system(n)}, name: 시스템 {n}, grade: {1 + n % 4}, repository: minwon/portal"
        lines.append(f"  - {{{entry}}}")
    return "\n".join(lines) + "\n"


def _records(systems: int) -> Iterator[object]:
    """Every system's drafts, merged by time and chained; each deployment's recorded facts name the seqs
    of the approvals and evidence of its own system's cycle (as `bench_audit._rows` does for one)."""

    def of(n: int) -> Iterator[tuple[object, int, object]]:
        # Each system's records are made (and signed) under its own name; merged by time, the systems'
        # cycles interleave.
        for i, draft in enumerate(list(_drafts(PER_SYSTEM, system=_system(n)))):  # one signing pool at a time
            yield (draft.at, n * PER_SYSTEM + i, draft)  # type: ignore[attr-defined]

    record = None
    approvals: dict[str, list[int]] = {}
    evidence: dict[str, list[int]] = {}
    for _at, _order, draft in heapq.merge(*(of(n) for n in range(systems))):
        system = draft.system  # type: ignore[attr-defined]
        facts = draft.data.get("facts")  # type: ignore[attr-defined]
        if facts is not None:
            for approval, seq in zip(facts["approvals"], approvals.get(system, [])[-5:], strict=False):
                approval["seq"] = seq
            facts["evidence"] = evidence.get(system, [])[-2:]
        record = draft.place_after(record)  # type: ignore[attr-defined]
        if record.kind == "approval":
            approvals.setdefault(system, []).append(record.seq)
        elif record.kind == "test.evidence":
            evidence.setdefault(system, []).append(record.seq)
        yield record


def _median(command: list[str], repo: Path, env: dict[str, str]) -> tuple[float, int, str]:
    runs = [_child(command, repo, env) for _ in range(REPEAT)]
    times = sorted(seconds for seconds, _ in runs)
    spread = f" ({times[0]:.2f}-{times[-1]:.2f})" if len(times) > 1 else ""
    return statistics.median(times), max(peak for _, peak in runs), spread


def _ledger_repo(work: Path, name: str, dsn: str, systems: int) -> tuple[Path, str, float]:
    from benchmarks.ledgers import fill_postgres

    schema = "bench_" + uuid.uuid4().hex[:8]
    start = time.perf_counter()
    fill_postgres(dsn, schema, _records(systems))  # type: ignore[arg-type]
    loaded = time.perf_counter() - start
    repo = _repo(work / name, f"ledger: {{backend: postgres, dsn_env: BENCH_DSN, schema: {schema}}}")
    config = repo / ".gatekeeper.yml"
    config.write_text(config.read_text(encoding="utf-8") + _registry(systems), encoding="utf-8")
    return repo, schema, loaded


def main() -> None:
    work = Path(tempfile.mkdtemp(prefix="gatekeeper-bench-portfolio-"))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI"))}
    env["GATEKEEPER_LANG"] = "en"
    assert CONFIG  # the configuration is bench_audit's, with a `systems:` registry added
    dsn, stop = _postgres()
    env["BENCH_DSN"] = dsn
    try:
        shared, schema, loaded = _ledger_repo(work, "shared", dsn, SYSTEMS)
        total = SYSTEMS * PER_SYSTEM
        print(
            f"  {SYSTEMS} systems × {PER_SYSTEM:,} records = {total:,} generated and loaded in {loaded:.1f} s"
        )
        alone, _schema, _ = _ledger_repo(work, "alone", dsn, 1)
        scan = _scan_postgres(dsn, schema)
        print(f"  reference: streamed scan of {total:,} records {scan:.2f} s")
        for command in (["kpi"], ["audit", "--no-record"]):
            name = " ".join(command)
            whole, rss, spread = _median([*command, "--system", "all"], shared, env)
            one, _rss, _ = _median([*command, "--system", OWN], shared, env)
            print(
                f"  {name + ' --system all':<30} {whole:7.2f} s{spread}  peak {rss:4d} MiB  "
                f"{whole / scan:5.2f}x scan  per system {whole / SYSTEMS:.3f} s = "
                f"{whole / SYSTEMS / one:4.2f}x a run for one system ({one:.2f} s)",
                flush=True,
            )
            there, _, spread_there = _median(command, shared, env)
            here, _, spread_here = _median(command, alone, env)
            print(
                f"  {name + ' (one system)':<30} {there:7.2f} s{spread_there} sharing with {SYSTEMS - 1} "
                f"others = {there / here:4.2f}x alone ({here:.2f} s{spread_here})",
                flush=True,
            )
    finally:
        stop()  # type: ignore[operator]
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
