"""Gate latency with a ledger of 100 versus 100,000 records (target: ratio <= 1.5).

The ledger is an organisation-wide one: 20 systems over five years (about 1,000 records per system and
year: approvals, test evidence, deployments, PIRs, notices), so the 100,000-record ledger holds a
realistic history rather than one system's impossible year. Both ledgers are sqlite files built in bulk
with correctly chained records; the gate runs in-process (`gatekeeper --format json gate`), and the median
of several runs is compared. The gate reads the ledger through indexed queries bounded by RFC, kind,
system and time horizon, so the history before the horizon should not cost anything.

The runs are those of a persistent runner: the first gate verifies the whole chain and leaves its
checkpoint (gatekeeper.ledger.checkpoint), later gates verify what was appended since and every record
they read. The first gate's time (whole-chain verification, as on every fresh hosted runner) is printed
too, for the record; the target is about the steady state. bench_fresh measures the fresh runner itself,
on every backend, with the project and history written here.
"""

from __future__ import annotations

import io
import os
import statistics
import subprocess
import tempfile
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

from benchmarks.ledgers import fill_sqlite
from gatekeeper.cli import main as cli_main
from gatekeeper.ledger import Draft, Record
from gatekeeper.runtime import Runtime

NOW = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)  # Tuesday 20:00 KST
SYSTEMS = [f"system-{i:02d}" for i in range(19)] + ["minwon-portal"]
REPEATS = 15
CONFIG = """\
version: 1
system: {id: minwon-portal, name: 민원포털, grade: 1, audience: internal}
policy: kr-ap-sop
roles: {agency-manager: [park], agency-officer: [kim, lee], operator-manager: [han], cab: [kim, park, choi]}
evidence: [{kind: unit, paths: ['reports/unit/*.xml']}, {kind: integration, paths: ['reports/it/*.xml']}]
ledger: {backend: sqlite, path: .gatekeeper/ledger.db}
"""
SQLITE_LEDGER = "{backend: sqlite, path: .gatekeeper/ledger.db}"
RFC_ID = "RFC-2026-9999"
RFC = """\
id: RFC-2026-9999
title: 민원 신청 화면 개선
type: normal
requester: lee
systems: [minwon-portal]
reason: 민원인 입력 오류를 줄이기 위해 신청 화면의 검증을 강화한다
test_plan: 단위테스트 40건, 통합테스트 12건, 사전검증 시나리오 5건을 수행한다
rollback_plan: 이전 릴리스 태그로 재배포하고 신청 테이블 정합성을 점검한다
"""
JUNIT = (
    '<?xml version="1.0"?><testsuite name="s" tests="2"><testcase name="a"/><testcase name="b"/></testsuite>'
)
CHAIN = [
    ("change-review", "kim"),
    ("change-approval", "park"),
    ("cab", "choi"),
    ("release-first", "han"),
    ("release-second", "lee"),
]


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, check=True, capture_output=True, text=True).stdout.strip()


def _history(count: int) -> list[Draft]:
    """`count` records spread evenly over five years and 20 systems, oldest first."""
    span = timedelta(days=5 * 365)
    drafts: list[Draft] = []
    for n in range(count):
        at = NOW - span + span * (n / max(count, 1)) - timedelta(days=2)
        system = SYSTEMS[n % len(SYSTEMS)]
        rfc = f"RFC-{2021 + n % 5}-{n % 9000:04d}"
        slot = (n // len(SYSTEMS)) % 10
        if slot < 4:
            draft = Draft(
                "approval",
                system,
                "kim",
                "github-actions",
                at,
                {"step": "change-review", "decision": "approve", "rfc_digest": "sha256:0"},
                (rfc,),
            )
        elif slot < 6:
            totals = {"tests": 10, "passed": 10, "failed": 0, "errors": 0, "skipped": 0}
            draft = Draft(
                "test.evidence",
                system,
                "ci",
                "github-actions",
                at,
                {"kind": "unit", "commit": f"{n:040x}", "totals": totals},
                (rfc,),
            )
        elif slot < 8:
            draft = Draft(
                "deployment.started",
                system,
                "ci",
                "github-actions",
                at,
                {"environment": "production", "change_type": "normal"},
                (rfc,),
            )
            drafts.append(draft)
            draft = Draft(
                "deployment.finished",
                system,
                "ci",
                "github-actions",
                at + timedelta(minutes=20),
                {"environment": "production", "started": draft.id, "result": "success"},
                (rfc,),
            )
        elif slot < 9:
            draft = Draft("pir", system, "kim", "github-actions", at, {"result": "achieved"}, (rfc,))
        else:
            draft = Draft("notice", system, "kim", "github-actions", at, {"to": ["행정안전부"]}, (rfc,))
        drafts.append(draft)
    return drafts[:count]


def _chained(drafts: list[Draft]) -> Iterator[Record]:
    record: Record | None = None
    for draft in drafts:
        record = draft.place_after(record)
        yield record


def records(history: int, digest: str) -> Iterator[Record]:
    """`history` records of an organisation's history, then the five approvals of RFC-2026-9999 (bound to
    `digest`, the RFC's content digest) that the gate needs to allow its deployment, chained."""
    chain = [
        Draft(
            "approval",
            "minwon-portal",
            actor,
            "github-actions",
            NOW - timedelta(hours=5 - i),
            {"step": step, "decision": "approve", "rfc_digest": digest},
            (RFC_ID,),
        )
        for i, (step, actor) in enumerate(CHAIN)
    ]
    return _chained([*_history(history), *chain])


def write_reports(root: Path) -> None:
    """The two passing test reports a job produces in its checkout."""
    for kind in ("unit", "it"):
        (root / "reports" / kind).mkdir(parents=True, exist_ok=True)
        (root / "reports" / kind / "r.xml").write_text(JUNIT, encoding="utf-8")


def write_project(root: Path, ledger: str, *, reports: bool = True, grade: int = 1) -> str:
    """A project repository at `root` — the configuration with `ledger` as its ledger settings, the RFC, two
    passing test reports (committed, unless `reports` is False: a job then writes them with
    `write_reports`), one commit on `main` — and the RFC's content digest. `grade` is the system's grade."""
    root.mkdir(parents=True)
    _git(root, "init", "-q", "-b", "main")
    config = CONFIG.replace(SQLITE_LEDGER, ledger).replace("grade: 1,", f"grade: {grade},")
    (root / ".gatekeeper.yml").write_text(config, encoding="utf-8")
    (root / "changes").mkdir()
    (root / "changes" / f"{RFC_ID}.yml").write_text(RFC, encoding="utf-8")
    if reports:
        write_reports(root)
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "dev",
        "GIT_AUTHOR_EMAIL": "dev@example.org",
        "GIT_COMMITTER_NAME": "dev",
        "GIT_COMMITTER_EMAIL": "dev@example.org",
    }
    subprocess.run(["git", "add", "-A"], cwd=root, check=True, env=env)
    subprocess.run(
        ["git", "commit", "-q", "-m", f"{RFC_ID} 신청 화면 입력 검증을 강화한다"],
        cwd=root,
        check=True,
        env=env,
    )
    from gatekeeper.adapters.rfcstore import FileRfcStore
    from gatekeeper.config import load_config

    entry = FileRfcStore(root, load_config(root / ".gatekeeper.yml")).get(RFC_ID)
    assert entry is not None
    return entry.digest


def _repository(root: Path, history: int) -> None:
    # As a job sees it: the test reports produced after the checkout (a committed report is no evidence);
    # grade 3, whose approvals count without the platform's attestation that bulk-written records lack.
    digest = write_project(root, SQLITE_LEDGER, reports=False, grade=3)
    write_reports(root)
    db = root / ".gatekeeper" / "ledger.db"
    db.parent.mkdir()
    fill_sqlite(db, records(history, digest))


def _gate_once(root: Path, home: Path) -> tuple[float, int]:
    out, err = io.StringIO(), io.StringIO()
    env = {"PATH": os.environ.get("PATH", ""), "HOME": str(home)}
    runtime = Runtime(env=env, cwd=root, stdout=out, stderr=err, clock=lambda: NOW)
    started = time.perf_counter()
    code = cli_main(["--format", "json", "gate", "--rfc", RFC_ID], runtime)
    return time.perf_counter() - started, code


def _first_run(root: Path) -> float:
    """The first gate on a fresh runner (whole-chain verification), after a warm-up of imports and caches."""
    _gate_once(root, root.parent / f"{root.name}-warm-up-home")
    return _gate_once(root, root.parent / f"{root.name}-runner-home")[0]


def _medians(small: Path, large: Path) -> tuple[tuple[float, int], tuple[float, int]]:
    """Median gate time on each ledger, measured alternately so machine noise hits both alike."""
    runs: tuple[list[tuple[float, int]], list[tuple[float, int]]] = ([], [])
    for _ in range(REPEATS):
        for which, root in enumerate((small, large)):
            runs[which].append(_gate_once(root, root.parent / f"{root.name}-runner-home"))
    small_median, large_median = (statistics.median(t for t, _ in r) for r in runs)
    return (small_median, runs[0][-1][1]), (large_median, runs[1][-1][1])


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        small, large = Path(tmp) / "small", Path(tmp) / "large"
        _repository(small, 100)
        _repository(large, 100_000)
        first_small, first_large = _first_run(small), _first_run(large)
        (t_small, code_small), (t_large, code_large) = _medians(small, large)
    ratio = t_large / t_small
    print(
        f"first gate on a fresh runner (whole chain): {first_small * 1000:7.1f} ms at 100 records, "
        f"{first_large * 1000:7.1f} ms at 100,000"
    )
    print(f"gate, ledger of 100 records:     {t_small * 1000:7.1f} ms (exit {code_small})")
    print(f"gate, ledger of 100,000 records: {t_large * 1000:7.1f} ms (exit {code_large})")
    print(f"ratio 100,000 / 100: {ratio:.2f} (target <= 1.5) {'OK' if ratio <= 1.5 else 'MISSED'}")


if __name__ == "__main__":
    main()
