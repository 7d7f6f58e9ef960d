"""Test evidence: streaming, hardened parsers for test-result files.

API:

    parse_report(path, format="auto", *, max_bytes=DEFAULT_MAX_BYTES) -> TestSummary
    parse_many(paths, format="auto", *, max_bytes=DEFAULT_MAX_BYTES) -> tuple[TestSummary, ...]

Formats (`FORMATS`): `junit` (JUnit XML and its dialects: Maven Surefire, pytest, Jest, Go via gotestsum,
Bazel, nested test suites), `xunit` (xUnit.net v1/v2), `nunit` (NUnit 3 and NUnit 2), `trx` (Visual Studio).
`auto` picks the format from the root element.

Counts are per executed test-case element (the corpus column "runs"; see docs/evidence-formats.md): a test
with several result elements counts once, with the worst result (error > failure > skipped > passed).

Hardening: expat with handlers that refuse any entity declaration (billion laughs, XXE) and any external
DTD; nothing is ever fetched; the file is read in chunks and only a stack of open suites is kept, so memory
does not grow with the file; a size cap (`max_bytes`) refuses oversized files before reading them.
Malformed, empty, oversized, non-test and hostile files raise `InputError` naming the file and the place.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from gatekeeper.adapters.evidence._parse import DEFAULT_MAX_BYTES, FORMATS, parse_file

__all__ = ["DEFAULT_MAX_BYTES", "FORMATS", "TestSummary", "parse_many", "parse_report"]


@dataclass(frozen=True, slots=True)
class TestSummary:
    """What one test-result file says, and the digest that binds a ledger record to the exact file."""

    __test__ = False  # not a pytest test class

    path: Path
    format: str  # junit | xunit | nunit | trx
    digest: str  # "sha256:<hex>" of the file's bytes
    tests: int
    passed: int
    failed: int
    errors: int
    skipped: int
    suites: int
    timestamp: str | None = None  # as the file states it (start of the run), when present
    hostname: str | None = None

    @property
    def executed(self) -> int:
        return self.tests - self.skipped

    @property
    def success_rate(self) -> float | None:
        """Passed ÷ executed × 100 (TST-KPI); None when nothing was executed."""
        return 100.0 * self.passed / self.executed if self.executed else None

    def as_dict(self) -> dict[str, object]:
        return {
            "path": str(self.path),
            "format": self.format,
            "digest": self.digest,
            "tests": self.tests,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "skipped": self.skipped,
            "suites": self.suites,
            "timestamp": self.timestamp,
            "hostname": self.hostname,
        }


def parse_report(path: Path, format: str = "auto", *, max_bytes: int = DEFAULT_MAX_BYTES) -> TestSummary:
    counts = parse_file(Path(path), format, max_bytes)
    return TestSummary(
        path=Path(path),
        format=counts.format,
        digest=counts.digest,
        tests=counts.tests,
        passed=counts.passed,
        failed=counts.failed,
        errors=counts.errors,
        skipped=counts.skipped,
        suites=counts.suites,
        timestamp=counts.timestamp,
        hostname=counts.hostname,
    )


def parse_many(
    paths: Iterable[Path], format: str = "auto", *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[TestSummary, ...]:
    """Every file in order; the first bad file raises (evidence is all-or-nothing)."""
    return tuple(parse_report(path, format, max_bytes=max_bytes) for path in paths)
