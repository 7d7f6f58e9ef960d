"""Ledger benchmarks, each a ratio against a reference measured in the same run:

1. `ledger verify` of 1,000,000 records (SQLite and PostgreSQL) against `sha256sum` over the same records
   exported as JSON lines — target <= 3x;
2. append latency (median) at ledger sizes 100 and 100,000 for git, SQLite and PostgreSQL — target ratio
   <= 1.5 (append cost must not grow with the ledger);
3. PostgreSQL append throughput with 16 concurrent writer processes (records/s).

Run: `python -m benchmarks.bench_ledger [--records 1000000] [--large 100000]` (or `make bench`); narrow a
run with `--part append|throughput|verify` and `--only git|sqlite|postgres` (append latency of those
backends). The PostgreSQL server is a throw-away cluster started for the run (durable settings: fsync on),
only when a chosen part needs it.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.ledgers import fill_git, fill_postgres, fill_sqlite
from gatekeeper.ledger import Draft, Ledger, Record

ROOT = Path(__file__).resolve().parents[1]
VERIFY_TARGET = 3.0
APPEND_TARGET = 1.5
BACKENDS = ("git", "sqlite", "postgres")
PARTS = ("append", "throughput", "verify")


def _records(count: int) -> Iterator[Record]:
    """A realistic mix of records (about 450 bytes each), chained."""
    record: Record | None = None
    start = datetime(2026, 1, 1, tzinfo=UTC)
    kinds = ("approval", "test.evidence", "deployment.started", "deployment.finished", "notice")
    for seq in range(1, count + 1):
        draft = Draft(
            kind=kinds[seq % len(kinds)],
            system=f"system-{seq % 40}",
            actor=f"user{seq % 97}",
            actor_source="github-actions",
            at=start + timedelta(minutes=seq),
            data={"step": "cab", "decision": "approve", "rfc_digest": "sha256:" + "ab" * 32, "comment": "ok"},
            rfcs=(f"RFC-2026-{seq % 9999:04d}",),
            id=f"00000000-0000-4000-8000-{seq:012d}",
        )
        record = draft.place_after(record)
        yield record


def _timed(action: object) -> float:
    start = time.perf_counter()
    action()  # type: ignore[operator]
    return time.perf_counter() - start


def _append_medians(small: Ledger, large: Ledger, samples: int) -> tuple[float, float]:
    """Median append latency of each ledger, measured alternately so machine noise hits both alike."""
    for ledger in (small, large):
        ledger.append(_draft(0))  # warm-up: connections, first fetch, page cache
    times: tuple[list[float], list[float]] = ([], [])
    for i in range(1, samples + 1):
        for which, ledger in enumerate((small, large)):
            times[which].append(_timed(lambda ledger=ledger, i=i: ledger.append(_draft(i))))
    return statistics.median(times[0]), statistics.median(times[1])


def _draft(i: int) -> Draft:
    return Draft("approval", "bench", "bench", "local", datetime.now(UTC), {"i": i}, ("RFC-2026-0001",))


def _sha256sum(records_file: Path) -> float:
    return _timed(lambda: subprocess.run(["sha256sum", str(records_file)], check=True, capture_output=True))


def _export(ledger: Ledger, path: Path) -> None:
    with path.open("w", encoding="utf-8") as handle:
        for record in ledger.records():
            handle.write(record.to_json() + "\n")


def bench_verify(work: Path, dsn: str, count: int) -> None:
    from gatekeeper.ledger.postgres import PostgresLedger
    from gatekeeper.ledger.sqlite import SqliteLedger

    print(
        f"-- verify {count:,} records vs sha256sum over the same records as JSONL "
        f"(target <= {VERIFY_TARGET}x)"
    )
    db = work / "verify.db"
    fill_sqlite(db, _records(count))
    fill_postgres(dsn, "verify", _records(count))
    for name, opener in (
        ("sqlite", lambda: SqliteLedger(db)),
        ("postgres", lambda: PostgresLedger(dsn, "verify")),
    ):
        ledger = opener()
        export = work / f"{name}.jsonl"
        _export(ledger, export)
        reference = min(_sha256sum(export) for _ in range(3))
        result = None

        def run(ledger: Ledger = ledger) -> None:
            nonlocal result
            result = ledger.verify()

        took = min(_timed(run) for _ in range(2))
        assert result is not None and result.ok and result.count == count, result
        ratio = took / reference
        verdict = "ok" if ratio <= VERIFY_TARGET else "OVER TARGET"
        size = export.stat().st_size / 1e6
        print(
            f"{name:>9}: verify {took:6.2f} s, sha256sum {reference:5.2f} s over {size:.0f} MB "
            f"-> ratio {ratio:4.2f}x [{verdict}]"
        )
        ledger.close()
        export.unlink()


def bench_append(
    work: Path, dsn: str, small: int, large: int, samples: int, backends: tuple[str, ...] = BACKENDS
) -> None:
    from gatekeeper.ledger.git import GitLedger
    from gatekeeper.ledger.postgres import PostgresLedger
    from gatekeeper.ledger.sqlite import SqliteLedger

    print(
        f"-- append latency (median of {samples}) at {small:,} vs {large:,} records "
        f"(target <= {APPEND_TARGET})"
    )
    for name in backends:
        ledgers: list[Ledger] = []
        for size in (small, large):
            if name == "sqlite":
                fill_sqlite(work / f"a{size}.db", _records(size))
                ledgers.append(SqliteLedger(work / f"a{size}.db"))
            elif name == "postgres":
                fill_postgres(dsn, f"append_{size}", _records(size))
                ledgers.append(PostgresLedger(dsn, f"append_{size}"))
            else:
                remote = work / f"remote{size}.git"
                fill_git(remote, _records(size))
                clone = work / f"clone{size}.git"
                subprocess.run(["git", "init", "-q", "--bare", str(clone)], check=True)
                ledgers.append(GitLedger(clone, remote=str(remote), env=os.environ))
        medians = _append_medians(ledgers[0], ledgers[1], samples)
        for ledger in ledgers:
            ledger.close()
        ratio = medians[1] / medians[0]
        verdict = "ok" if ratio <= APPEND_TARGET else "OVER TARGET"
        print(
            f"{name:>9}: {medians[0] * 1000:7.2f} ms at {small:,}, {medians[1] * 1000:7.2f} ms at {large:,} "
            f"-> ratio {ratio:4.2f} [{verdict}]"
        )


def bench_throughput(dsn: str, writers: int, each: int) -> None:
    from gatekeeper.ledger.postgres import PostgresLedger

    print(f"-- PostgreSQL append throughput, {writers} writer processes x {each} appends")
    PostgresLedger(dsn, "throughput").close()
    spec = f'{{"name": "postgres", "location": "{dsn}", "extra": "throughput"}}'
    start = time.perf_counter()
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "tests.ledger.worker", spec, "append", str(each), f"w{i}"],
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
        )
        for i in range(writers)
    ]
    codes = [worker.wait() for worker in workers]
    took = time.perf_counter() - start
    assert codes == [0] * writers, codes
    ledger = PostgresLedger(dsn, "throughput")
    result = ledger.verify()
    ledger.close()
    assert result.ok and result.count == writers * each, result
    print(
        f"{'postgres':>9}: {writers * each:,} appends in {took:.1f} s "
        f"-> {writers * each / took:,.0f} records/s"
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_ledger")
    parser.add_argument("--records", type=int, default=1_000_000, help="ledger size for the verify benchmark")
    parser.add_argument("--small", type=int, default=100)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--samples", type=int, default=30)
    parser.add_argument("--writers", type=int, default=16)
    parser.add_argument("--each", type=int, default=500)
    parser.add_argument(
        "--part", action="append", choices=PARTS, help="run only this part (repeatable; default: all)"
    )
    parser.add_argument(
        "--only", action="append", choices=BACKENDS, help="append latency of this backend only (repeatable)"
    )
    args = parser.parse_args([] if argv is None else argv)
    parts = tuple(args.part or PARTS)
    backends = tuple(name for name in BACKENDS if name in (args.only or BACKENDS))
    sys.path.insert(0, str(ROOT))
    from tests.ledger.pgcluster import throwaway_cluster

    needs_postgres = "postgres" in backends or parts != ("append",)
    with contextlib.ExitStack() as stack:
        work = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="gatekeeper-bench-")))
        dsn = stack.enter_context(throwaway_cluster(durable=True)) if needs_postgres else ""
        if "append" in parts:
            bench_append(work, dsn, args.small, args.large, args.samples, backends)
        if "throughput" in parts:
            bench_throughput(dsn, args.writers, args.each)
        if "verify" in parts:
            bench_verify(work, dsn, args.records)


if __name__ == "__main__":
    main(sys.argv[1:])
