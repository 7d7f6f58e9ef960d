"""Inputs that once crashed gatekeeper (exit 3 with a traceback), each now a clear error.

Bad input is exit 2 naming the file or option, the place and the fix, in English and (with `--lang ko`)
Korean. A bad ledger row is an integrity error: `ledger verify` exit 1 naming the row, `gate.error` in
the gate. The limits behind them are shared (gatekeeper/untrusted.py for JSON and times, the YAML reader
for numbers, the report parser for test counts), so each class of input is refused in one place.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.ledger import canonical_json, record_hash
from tests.acceptance import RFC_ID
from tests.adversarial.conftest import Recorder
from tests.adversarial.test_forgery import Deployment, deployed
from tests.helpers import BASE_CONFIG, CliResult, GitRepo, run_cli
from tests.ledger.tamper import rewrite, stored_texts

DEEP = "[" * 200_000 + "]" * 200_000
LONG_INT = "7" * 5000


def _clear(result: CliResult, *needles: str) -> None:
    """Exit 2 with a message holding every needle and a fix; no traceback, no crash log."""
    assert result.code == 2, f"exit {result.code}: {result.stdout}{result.stderr}"
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr
    assert "fix:" in result.stderr or "조치:" in result.stderr, result.stderr
    for needle in needles:
        assert needle in result.stderr, (needle, result.stderr)


# ------------------------------------------------------------------------------------------ times

TIME_COMMANDS = [
    ["window", "--at"],
    ["window", "--next", "--at"],
    ["gate", "--rfc", "RFC-2026-0001", "--at"],
    ["deploy", "start", "--rfc", "RFC-2026-0001", "--at"],
    ["ledger", "log", "--since"],
    ["ledger", "log", "--until"],
    ["kpi", "--since"],
    ["kpi", "--until"],
    ["audit", "--since"],
    ["audit", "--until"],
]
EXTREME_TIMES = ["0001-01-01T00:00:00+09:00", "9999-12-31T23:59:59-12:00", "1969-12-31T23:59:59Z"]


@pytest.mark.parametrize("when", EXTREME_TIMES)
def test_times_outside_the_supported_range_are_usage_errors(
    repo: GitRepo, reliability: Recorder, when: str
) -> None:
    repo.add_rfc("RFC-2026-0001")
    repo.commit("RFC-2026-0001 신청 화면 입력 검증을 강화한다")
    for command in TIME_COMMANDS:
        option = command[-1]
        _clear(run_cli([*command, when], cwd=repo.path), option, repr(when), "1970-01-01 to 8999-12-31")
    korean = run_cli(["--lang", "ko", "window", "--at", when], cwd=repo.path)
    _clear(korean, "계산할 수 있는 시각의 범위", "조치:")
    reliability.row(
        f"--at / --since / --until {when} in window, gate, deploy start, ledger, kpi and audit",
        "time at the edge of what Python represents",
        "exit 2 naming the option, the range and the fix (en/ko)",
    )


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_dates_outside_the_supported_range_are_usage_errors(
    repo: GitRepo, reliability: Recorder, day: str
) -> None:
    for command in (["kpi", "--since"], ["kpi", "--until"], ["audit", "--since"], ["audit", "--until"]):
        _clear(run_cli([*command, day], cwd=repo.path), command[-1], "1970-01-01 to 8999-12-31")
    reliability.row(
        f"kpi / audit --since/--until {day}", "date at the edge of what Python represents", "exit 2 (en/ko)"
    )


def test_the_time_options_keep_their_other_errors(repo: GitRepo) -> None:
    _clear(run_cli(["window", "--at", "2026-11-24T19:30:00"], cwd=repo.path), "no UTC offset")
    _clear(
        run_cli(["ledger", "log", "--since", "yesterday"], cwd=repo.path), "--since", "not an ISO 8601 time"
    )
    _clear(run_cli(["kpi", "--until", "next week"], cwd=repo.path), "not a date or an ISO 8601 time")
    assert run_cli(["window", "--at", "2026-11-24T10:30:00Z"], cwd=repo.path).code == 0
    assert run_cli(["kpi", "--since", "2026-11-01", "--until", "2026-11-30"], cwd=repo.path).code == 0


# ---------------------------------------------------------------------------------- test reports

BAD_COUNTS = ["inf", "1e400", "-inf", "nan", "1e30", "-3", "2.5", LONG_INT, "0" * 5000 + "1" * 11]


@pytest.mark.parametrize("count", BAD_COUNTS, ids=lambda c: c[:8] + (f"..{len(c)}" if len(c) > 8 else ""))
def test_impossible_test_counts_are_input_errors(repo: GitRepo, reliability: Recorder, count: str) -> None:
    report = repo.path / "report.xml"
    report.write_text(
        f'<?xml version="1.0"?>\n<testsuites>\n<testsuite name="s" tests="{count}" failures="0"/>\n'
        "</testsuites>\n",
        encoding="utf-8",
    )
    result = run_cli(["evidence", "add", "--kind", "unit", "report.xml"], cwd=repo.path)
    _clear(result, f"{report}:3:", 'tests="', "not a count of tests", "re-run the tests")
    korean = run_cli(["--lang", "ko", "evidence", "add", "--kind", "unit", "report.xml"], cwd=repo.path)
    _clear(korean, "테스트 수가 아닙니다", "조치:")
    assert run_cli(["ledger", "log"], cwd=repo.path).stdout.strip() == "no records"
    shown = count if len(count) < 12 else f"{count[:4]}… ({len(count)} digits)"
    reliability.row(
        f'JUnit tests="{shown}"', "impossible number", "exit 2 naming file:line, nothing recorded"
    )


def test_an_impossible_count_in_the_workspace_blocks_the_gate(tmp_path: Path, reliability: Recorder) -> None:
    from tests.acceptance import build

    repo = GitRepo.create(tmp_path / "repo")
    at, _ = build(repo, {})
    report = repo.path / "reports" / "unit" / "result.xml"
    report.write_text('<testsuite name="s" tests="1e400" failures="0" errors="0"/>', encoding="utf-8")
    result = run_cli(["--format", "json", "gate", "--rfc", RFC_ID], cwd=repo.path, now=at)
    assert result.code == 1, result.stdout + result.stderr
    errors = [f for f in json.loads(result.stdout)["findings"] if f["rule"] == "gate.error"]
    assert errors and "result.xml" in json.dumps(errors)
    reliability.row(
        'gate with a JUnit report claiming tests="1e400"', "impossible number", "gate.error naming it"
    )


# ------------------------------------------------------------------------------- YAML numbers


@pytest.mark.parametrize(
    ("name", "value"),
    [("a 5,000-digit integer", LONG_INT), ("1e400", "1e400"), (".inf", ".inf"), (".nan", ".nan")],
)
def test_numbers_python_cannot_compute_with_in_yaml_files(
    repo: GitRepo, reliability: Recorder, name: str, value: str
) -> None:
    repo.write(".gatekeeper.yml", BASE_CONFIG.replace("grade: 1", f"grade: {value}"))
    config = run_cli(["window", "--at", "2026-11-24T20:00:00+09:00"], cwd=repo.path)
    _clear(config, ".gatekeeper.yml:2:", "is not one gatekeeper computes with")
    _clear(
        run_cli(["--lang", "ko", "window", "--at", "2026-11-24T20:00:00+09:00"], cwd=repo.path),
        ".gatekeeper.yml:2:",
        "계산할 수 있는 값이 아닙니다",
    )
    repo.write(".gatekeeper.yml", BASE_CONFIG)
    rfc = repo.add_rfc("RFC-2026-0001")
    rfc.write_text(rfc.read_text(encoding="utf-8") + f"impact: {{level: {value}}}\n", encoding="utf-8")
    result = run_cli(["rfc", "validate"], cwd=repo.path)
    assert result.code == 1 and "internal error" not in result.stderr, result.stdout + result.stderr
    assert "RFC-2026-0001.yml:" in result.stdout and "is not one gatekeeper computes with" in result.stdout
    reliability.row(
        f"{name} in .gatekeeper.yml and an RFC file",
        "number Python cannot convert or compute with",
        "exit 2 naming file:line / rfc.invalid",
    )


# ------------------------------------------------------------------------------ CI event payload


@pytest.mark.parametrize(
    ("name", "payload", "needle"),
    [
        ("nested 200,000 deep", '{"before": ' + DEEP + "}", "nested more than 64 levels"),
        ("a 5,000-digit integer", '{"before": ' + LONG_INT + "}", "more digits than Python converts"),
        ("NaN", '{"before": NaN}', "NaN is not a JSON number"),
    ],
)
def test_hostile_event_payloads_are_input_errors(
    repo: GitRepo, reliability: Recorder, tmp_path: Path, name: str, payload: str, needle: str
) -> None:
    repo.add_rfc("RFC-2026-0001")
    head = repo.commit("RFC-2026-0001 신청 화면 입력 검증을 강화한다")
    event = tmp_path / "event.json"
    event.write_text(payload, encoding="utf-8")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_EVENT_NAME": "push",
        "GITHUB_SHA": head,
        "GITHUB_REF": "refs/heads/main",
    }
    _clear(run_cli(["check-commits"], cwd=repo.path, env=env), str(event), needle, "GITHUB_EVENT_PATH")
    _clear(run_cli(["--lang", "ko", "check-commits"], cwd=repo.path, env=env), "이벤트 페이로드")
    reliability.row(f"GitHub event payload: {name}", "hostile JSON", "exit 2 naming the file and the fix")


# --------------------------------------------------------------------------------- ledger rows


def _nan_in_data(texts: list[str]) -> list[str]:
    # NaN cannot be hashed canonically, so the attacker keeps the old hash: any reader must call it corrupt.
    return [texts[0], texts[1].replace('"data":{', '"data":{"score":NaN,', 1), *texts[2:]]


def _huge_float(texts: list[str]) -> list[str]:
    return [texts[0], texts[1].replace('"data":{', '"data":{"score":1e400,', 1), *texts[2:]]


def _deep(texts: list[str]) -> list[str]:
    return [texts[0], texts[1].replace('"data":{', '"data":{"x":' + DEEP + ",", 1), *texts[2:]]


def _moved_to_year_one(texts: list[str]) -> list[str]:
    body: dict[str, Any] = json.loads(texts[1])
    body["at"] = "0001-01-01T00:00:00+09:00"
    body["hash"] = record_hash(body)  # a careful attacker rehashes: the record itself is well-formed
    return [texts[0], canonical_json(body), *texts[2:]]


ROWS = {
    "NaN in its data": _nan_in_data,
    "1e400 in its data": _huge_float,
    "nested 200,000 deep": _deep,
    "dated 0001-01-01 (rehashed)": _moved_to_year_one,
}
ROW_BACKENDS = ["git", "sqlite"]  # PostgreSQL refuses such text itself: its columns are generated from it


@pytest.mark.parametrize("backend", ROW_BACKENDS)
@pytest.mark.parametrize("how", sorted(ROWS))
def test_a_hostile_ledger_row_is_an_integrity_error(
    tmp_path: Path,
    request: pytest.FixtureRequest,
    monkeypatch: pytest.MonkeyPatch,
    reliability: Recorder,
    backend: str,
    how: str,
) -> None:
    deployment: Deployment = deployed(backend, tmp_path, request, monkeypatch, {})
    assert deployment.cli("gate", "--rfc", RFC_ID).code == 0
    rewrite(deployment.spec, ROWS[how](stored_texts(deployment.spec)))
    verify = deployment.cli("--format", "json", "ledger", "verify")
    assert verify.code == 1, verify.stdout + verify.stderr
    # A rehashed record is well-formed as far as the chain goes: the next record's `prev` no longer fits.
    first_bad = 3 if "rehashed" in how else 2
    assert json.loads(verify.stdout)["first_bad_seq"] == first_bad
    for listing in (deployment.cli("ledger", "log"), deployment.cli("ledger", "export")):
        assert listing.code == 1 and "internal error" not in listing.stderr, listing.stderr
        assert "corrupt" in listing.stderr
    deployment.env["HOME"] = str(tmp_path / "fresh-runner")
    code, body = deployment.gate()
    assert code == 1 and any(f["rule"] == "gate.error" for f in body["findings"])
    reliability.row(
        f"{backend} ledger: a row {how}",
        "hostile JSON in the ledger",
        f"ledger verify exit 1 naming seq {first_bad}; log/export exit 1; gate.error",
    )
