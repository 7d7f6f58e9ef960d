"""Parse a generated 500 MB JUnit file: peak RSS of our parser (target <= 150 MB) and throughput against
`junitparser` on the same file, each measured in its own subprocess (resource.getrusage RUSAGE_CHILDREN).

Run: `python -m benchmarks.bench_evidence [--mb 500]` (or `make bench`, which runs every benchmark).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RSS_TARGET_MB = 150.0

_OURS = """
import json, sys
from pathlib import Path
from gatekeeper.adapters.evidence import parse_report
s = parse_report(Path(sys.argv[1]), max_bytes=1 << 40)
print(json.dumps([s.tests, s.passed, s.failed, s.errors, s.skipped]))
"""

_JUNITPARSER = """
import json, sys
from junitparser import Error, Failure, JUnitXml, Skipped
xml = JUnitXml.fromfile(sys.argv[1])
counts = [0, 0, 0, 0, 0]
for suite in xml:
    for case in suite:
        kinds = {type(r) for r in case.result}
        counts[0] += 1
        if Error in kinds: counts[3] += 1
        elif Failure in kinds: counts[2] += 1
        elif Skipped in kinds: counts[4] += 1
        else: counts[1] += 1
print(json.dumps(counts))
"""


def generate(path: Path, megabytes: int) -> int:
    """A Surefire-like report of many suites, with failures, errors, skips and captured output."""
    target = megabytes * 1024 * 1024
    output = "log line with some detail about what the test did\n" * 3
    written = 0
    with path.open("w", encoding="utf-8") as out:
        out.write('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="bench">\n')
        suite = 0
        while written < target:
            lines = [
                f'<testsuite name="com.example.Suite{suite}" timestamp="2026-11-24T10:00:00" hostname="ci">'
            ]
            for case in range(200):
                name = f'<testcase classname="com.example.Suite{suite}" name="test_{case}" time="0.01"'
                if case % 50 == 1:
                    failure = '<failure message="expected 1 but was 2">trace &amp; more</failure>'
                    lines.append(f"{name}>{failure}</testcase>")
                elif case % 97 == 2:
                    lines.append(f'{name}><error message="boom">stack</error></testcase>')
                elif case % 31 == 3:
                    lines.append(f"{name}><skipped/></testcase>")
                else:
                    lines.append(f"{name}><system-out>{output}</system-out></testcase>")
            lines.append("</testsuite>\n")
            chunk = "\n".join(lines)
            out.write(chunk)
            written += len(chunk)
            suite += 1
        out.write("</testsuites>\n")
    return path.stat().st_size


def _run(code: str, path: Path) -> tuple[list[int], float, float]:
    """Counts, seconds and the peak RSS (MB) of all children so far — run the smaller process first."""
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code, str(path)], capture_output=True, text=True, check=True)
    seconds = time.perf_counter() - started
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # Linux: kilobytes
    return json.loads(done.stdout), seconds, peak_mb


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--mb", type=int, default=500, help="size of the generated JUnit file in MB")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-evidence-") as folder:
        path = Path(folder) / "big-junit.xml"
        size = generate(path, args.mb)
        size_mb = size / 1024 / 1024
        ours, our_seconds, our_peak = _run(_OURS, path)
        theirs, their_seconds, their_peak = _run(_JUNITPARSER, path)
    print(f"evidence: generated JUnit file {size_mb:.0f} MB, {ours[0]} test cases")
    for label, seconds, peak in (
        ("gatekeeper.adapters.evidence", our_seconds, our_peak),
        ("junitparser", their_seconds, their_peak),
    ):
        print(f"  {label:<20} {seconds:6.1f} s  {size_mb / seconds:6.1f} MB/s  peak RSS {peak:7.1f} MB")
    print(f"  throughput ratio gatekeeper/junitparser: {their_seconds / our_seconds:.2f}x")
    print(f"  peak RSS target <= {RSS_TARGET_MB:.0f} MB: {'met' if our_peak <= RSS_TARGET_MB else 'NOT met'}")
    print("  (RUSAGE_CHILDREN is the maximum over all children so far: junitparser runs second)")
    agree = ours == theirs
    print(f"  counts agree with junitparser: {agree} {ours} vs {theirs}")
    return 0 if agree and our_peak <= RSS_TARGET_MB else 1


if __name__ == "__main__":
    raise SystemExit(main())
