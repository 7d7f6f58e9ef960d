"""Fixtures of the adversarial suite: hypothesis profiles, the PostgreSQL cluster, and the results table.

Profiles: `ci` (few examples, derandomised: what `make test` runs) and `fuzz` (many examples:
`make fuzz` passes `--hypothesis-profile=fuzz`). Every test records what it tried through the `reliability`
fixture; at the end of the run the rows, with each test's result, go to build/adversarial/results.json,
from which `python -m tests.adversarial.reliability` writes docs/reliability.md.
"""

from __future__ import annotations

import json
from collections.abc import Generator, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, settings

from tests.ledger.conftest import pg_dsn  # the shared throw-away PostgreSQL cluster

__all__ = ["pg_dsn"]

_RELAXED = [HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large]
settings.register_profile(
    "ci", max_examples=30, deadline=None, derandomize=True, suppress_health_check=_RELAXED, print_blob=True
)
settings.register_profile("fuzz", max_examples=2500, deadline=None, suppress_health_check=_RELAXED)

ROOT = Path(__file__).resolve().parents[2]
RESULTS = ROOT / "build" / "adversarial" / "results.json"


def pytest_configure(config: pytest.Config) -> None:
    if not config.getoption("hypothesis_profile", default=None):
        settings.load_profile("ci")


@dataclass
class Row:
    test: str
    section: str
    input: str
    fault: str
    outcome: str
    lost: int = 0
    result: str = "not run"


@dataclass
class Recorder:
    """What one test tried; `row` may be called several times (one row per input)."""

    test: str
    section: str
    rows: list[Row] = field(default_factory=list)

    def row(self, input: str, fault: str, outcome: str, *, lost: int = 0) -> None:
        self.rows.append(Row(self.test, self.section, input, fault, outcome, lost))


_ROWS: dict[str, list[Row]] = {}
_RESULTS: dict[str, str] = {}


@pytest.fixture
def reliability(request: pytest.FixtureRequest) -> Iterator[Recorder]:
    module = request.node.module.__name__.rsplit(".", 1)[-1]
    recorder = Recorder(request.node.nodeid, module.removeprefix("test_"))
    yield recorder
    _ROWS.setdefault(request.node.nodeid, []).extend(recorder.rows)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Generator[None, Any, Any]:
    report = yield
    if report.when == "call" or (report.when == "setup" and report.outcome != "passed"):
        outcome = "xfail" if hasattr(report, "wasxfail") else report.outcome
        _RESULTS[item.nodeid] = outcome
    return report


def pytest_sessionfinish(session: pytest.Session) -> None:
    rows = [row for rows in _ROWS.values() for row in rows]
    if not rows:
        return
    for row in rows:
        row.result = _RESULTS.get(row.test, "not run")
    profile = session.config.getoption("hypothesis_profile", default=None) or "ci"
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(
        json.dumps({"profile": profile, "rows": [asdict(r) for r in rows]}, ensure_ascii=False, indent=1),
        encoding="utf-8",
    )
