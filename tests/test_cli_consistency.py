"""Every command and subcommand of the parser, run in a prepared real repository with each global `--format`:
it prints that format (JSON parses as one document) or refuses it with exit 2 and a clear message, and its
exit codes are the ones it declares (`gatekeeper.commands.EXIT_CODES`). Issue 18 item 7."""

from __future__ import annotations

import argparse
import importlib
import json
import os
from pathlib import Path
from typing import Any

import pytest

import tests.acceptance as cases
from gatekeeper.cli import COMMANDS
from gatekeeper.commands import EXIT_CODES, FORMATS, declared
from tests.helpers import GitRepo, git, run_cli
from tests.platform.oidc import record_baseline

RFC = cases.RFC_ID
INCIDENT = "INC-2026-0001"
SLOW = {"demo"}  # a whole release: its text run is tests/test_demo.py; here only its refused formats

# One run of each invocation, in order; `{deployment}` is the id `deploy start` printed; `fresh` runs in
# an empty repository; `as` is the git identity of the person at the workstation; `input_error` is a step
# refused as input (exit 2) in this world — every other step reaches its decision, unless the step it
# `needs` was refused for the format asked.
SCENARIO: list[dict[str, Any]] = [
    {"argv": ["check-commits"]},
    {"argv": ["hook", "install"]},
    {"argv": ["rfc", "validate", RFC]},
    {"argv": ["rfc", "show", RFC]},
    {"argv": ["rfc", "new", "--title", "민원 신청 화면의 입력 검증을 강화한다"]},
    {"argv": ["evidence", "add", "--kind", "unit", "--rfc", RFC, "reports/unit/result.xml"]},
    {"argv": ["window", "--at", "2026-11-24T10:00:00+09:00"]},
    {"argv": ["window", "--next", "--at", "2026-11-24T10:00:00+09:00"]},
    {"argv": ["calendar"]},
    {"argv": ["gate", "--rfc", RFC]},
    {"argv": ["deploy", "start", "--rfc", RFC]},
    {"argv": ["deploy", "finish", "{deployment}", "--result", "success"], "needs": "deploy start"},
    # A workstation's closure records do not count for a grade-1 system: refused as input.
    {
        "argv": ["release", "accept", "{deployment}", "--result", "accepted"],
        "needs": "deploy start",
        "input_error": True,
    },
    {
        "argv": ["release", "review", "{deployment}", "--consistent"],
        "needs": "deploy start",
        "input_error": True,
    },
    {"argv": ["release", "close", "{deployment}"], "needs": "deploy start", "input_error": True},
    {"argv": ["approve", RFC, "--step", "agency-officer", "--decision", "approve"]},
    {"argv": ["pir", RFC, "--result", "achieved"], "input_error": True},  # not from the pipeline,
    {"argv": ["notice", RFC, "--to", "행정안전부"], "input_error": True},  # nor a notice (REL-NOTICE)
    {
        "argv": [
            "delegate",
            "--to",
            "jung",
            "--steps",
            "change-approval",
            "--from",
            "2026-12-07",
            "--until",
            "2026-12-11",
        ],
        "as": "park",
        "input_error": True,
    },  # not from the pipeline: it would not count
    {"argv": ["incident", "open", "--title", "로그인 장애", "--id", INCIDENT], "as": "kim"},
    {
        "argv": ["incident", "update", INCIDENT, "--note", "원인 분석 중"],
        "as": "kim",
        "needs": "incident open",
    },
    {
        "argv": ["incident", "close", INCIDENT, "--cause-type", "software", "--action", "재배포"],
        "as": "kim",
        "needs": "incident open",
    },
    {"argv": ["incident", "list"]},
    {"argv": ["problem", "open", "--title", "반복되는 로그인 장애"], "as": "kim"},
    # Not from the pipeline: it would not count (the operator manager's baseline 1.0 is `_world`'s).
    {"argv": ["baseline", "create"], "as": "han", "input_error": True},
    {"argv": ["baseline", "diff"]},
    {"argv": ["baseline", "verify"]},
    {"argv": ["ledger", "verify"]},
    {"argv": ["ledger", "verify", "--attestations"]},
    {"argv": ["ledger", "head"]},
    {"argv": ["ledger", "log"]},
    {"argv": ["ledger", "export"]},
    {"argv": ["audit", "--no-record"]},
    {"argv": ["kpi"]},
    {"argv": ["report", "form", "change-request", RFC]},
    {"argv": ["report", "register", "--output", "register.xlsx"]},
    {"argv": ["schema", "config"]},
    {"argv": ["init", "--no-hook"], "fresh": True},
    {"argv": ["demo"]},
]


def _subcommands(module_name: str) -> list[str]:
    parser = argparse.ArgumentParser()
    importlib.import_module(module_name).configure(parser)
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            return list(action.choices)
    return []


def parser_invocations() -> set[str]:
    """Every `command` and `command subcommand` the CLI parser offers."""
    found = set()
    for name, (module_name, _help) in COMMANDS.items():
        subs = _subcommands(module_name)
        found |= {f"{name} {sub}" for sub in subs} if subs else {name}
    return found


def _key(argv: list[str]) -> str:
    subs = _subcommands(COMMANDS[argv[0]][0])
    return f"{argv[0]} {argv[1]}" if subs else argv[0]


def test_the_scenario_runs_every_command_and_subcommand_of_the_parser() -> None:
    assert {_key(step["argv"]) for step in SCENARIO} == parser_invocations()


def test_every_command_declares_its_exit_codes_once() -> None:
    known = parser_invocations() | set(COMMANDS)
    assert set(EXIT_CODES) <= known and set(FORMATS) <= known, "a declaration names no command"
    for key in parser_invocations():
        codes = declared(EXIT_CODES, key)
        assert codes, f"{key} declares no exit codes"
        assert set(codes) <= {0, 1}, f"{key}: 2 and 3 mean the same for every command"
        assert all(said.en and said.ko and said.ko != said.en for said in codes.values())


def _world(tmp_path: Path) -> GitRepo:
    repo = GitRepo.create(tmp_path / "repo")
    cases.build(
        repo,
        {"config": {"baseline": {"items": [{"id": "rfcs", "kind": "document", "paths": ["changes/*.yml"]}]}}},
    )
    # The operator manager's baseline, recorded in the pipeline of the default branch (seed 002 형상관리 1.2).
    record_baseline(repo.path, "1.0", cases.datetime.fromisoformat(cases.TUESDAY_EVENING), "han")
    return repo


def _deployment(repo: GitRepo) -> str:
    found = run_cli(["--format", "json", "ledger", "log", "--kind", "deployment.started"], cwd=repo.path)
    records = json.loads(found.stdout) if found.code == 0 else []
    return str(records[-1]["data"].get("deployment_id", records[-1]["id"])) if records else "none"


def _is_json(text: str) -> bool:
    try:
        json.loads(text)
    except ValueError:
        return False
    return True


@pytest.mark.parametrize("output_format", ["text", "json", "markdown"])
def test_every_command_prints_the_format_asked_or_refuses_it(tmp_path: Path, output_format: str) -> None:
    repo = _world(tmp_path)
    at = cases.datetime.fromisoformat(cases.TUESDAY_EVENING)
    seen: dict[str, set[int]] = {}
    refused: set[str] = set()
    for step in SCENARIO:
        key = _key(step["argv"])
        formats = declared(FORMATS, key) or {"text", "json"}
        if key in SLOW and output_format in formats:
            continue
        cwd = repo.path
        if step.get("fresh"):
            cwd = GitRepo.create(tmp_path / f"fresh-{output_format}", config=None).path
        git(repo.path, "config", "user.email", f"{step.get('as', 'dev')}@example.org")
        argv = [a.replace("{deployment}", _deployment(repo)) for a in step["argv"]]
        result = run_cli(["--format", output_format, *argv], cwd=cwd, now=at)
        shown = f"{output_format} {' '.join(argv)} -> {result.code}\n{result.stdout}\n{result.stderr}"
        assert result.code != 3, shown
        assert "\\n" not in result.stderr, f"a literal backslash-n reaches the reader: {shown}"
        seen.setdefault(key, set()).add(result.code)
        if output_format not in formats:
            assert result.code == 2 and result.stdout == "", shown
            assert f"cannot print --format {output_format}" in result.stderr, shown
            refused.add(key)
            continue
        assert result.code in {*declared(EXIT_CODES, key), 2}, shown
        if step.get("needs") not in refused:
            assert (result.code == 2) == bool(step.get("input_error")), shown
        if result.code == 2:
            continue
        if output_format == "json":
            json.loads(result.stdout)  # one document, nothing before or after it
        else:
            assert result.stdout.strip(), shown
            if not _is_json(result.stdout):  # `schema` prints JSON, where `\n` is a line break's escape
                assert "\\n" not in result.stdout, f"a literal backslash-n reaches the reader: {shown}"
    # The scenario reaches the decisions, not only the errors.
    assert seen["gate"] == seen["deploy start"] == {0} and seen["window"] == {0, 1}, seen


def test_format_refusal_is_in_korean_too(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    result = run_cli(["--lang", "ko", "--format", "markdown", "ledger", "verify"], cwd=repo.path)
    assert result.code == 2 and result.stdout == ""
    assert "`ledger verify` 명령은 --format markdown 형식으로 출력할 수 없습니다" in result.stderr


def test_window_next_answers_for_the_next_allowed_time_and_its_exit_code_says_so(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    busy = "2026-11-24T10:00:00+09:00"  # Tuesday morning: business hours, a grade-1 normal change waits
    now = run_cli(["--format", "json", "window", "--at", busy], cwd=repo.path)
    later = run_cli(["--format", "json", "window", "--next", "--at", busy], cwd=repo.path)
    asked, answered = json.loads(now.stdout), json.loads(later.stdout)
    assert (now.code, asked["ok"], asked["decision"]) == (1, False, "block")
    assert (later.code, answered["ok"], answered["decision"]) == (0, True, "allow")
    assert answered["at"] == asked["next_allowed"] == "2026-11-24T18:00:00+09:00"
    assert answered["asked"] == busy


@pytest.mark.parametrize(("lang", "output_format"), [("en", "text"), ("ko", "text"), ("ko", "json")])
def test_a_gitlab_job_shows_each_finding_once_in_a_collapsible_section(
    tmp_path: Path, lang: str, output_format: str
) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    repo.add_rfc("RFC-2026-0001")
    repo.commit("RFC-2026-0001 민원 신청 화면 입력 검증 추가")
    repo.write("msg.txt", "fix the screen\n")
    env = {"GITLAB_CI": "true", "CI_PROJECT_DIR": str(repo.path)}
    argv = ["--lang", lang, "--format", output_format, "check-commits", "--message-file", "msg.txt"]
    result = run_cli(argv, cwd=repo.path, env=env)
    log = result.stdout + result.stderr  # GitLab shows both streams in one job log
    assert result.code == 1
    assert log.count("commit.rfc-missing [CFG-P3]") == 1, log
    assert log.count("section_start:") == log.count("section_end:") == 1, log
    section = log[log.index("section_start:") : log.index("section_end:")]
    assert "commit.rfc-missing [CFG-P3]" in section
    assert ("변경요청ID가 없습니다" in section) == (lang == "ko")
    if output_format == "json":
        assert json.loads(result.stdout)["findings"][0]["rule"] == "commit.rfc-missing"


GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("GATEKEEPER_UPDATE_GOLDEN") == "1"  # read at import, as tests/test_reporters.py


@pytest.mark.parametrize(("lang", "output_format"), [("en", "text"), ("ko", "text"), ("ko", "markdown")])
def test_a_kpi_period_reads_as_its_first_and_last_day(tmp_path: Path, lang: str, output_format: str) -> None:
    repo = GitRepo.create(tmp_path / "repo")
    november = ["--since", "2026-11-01", "--until", "2026-11-30"]
    result = run_cli(["--lang", lang, "--format", output_format, "kpi", *november], cwd=repo.path)
    assert result.code in {0, 1}, result.stderr
    assert "2026-11-01 – 2026-11-30" in result.stdout.splitlines()[0]
    assert "≤" not in result.stdout and " t <" not in result.stdout
    name = f"kpi.{lang}.{'md' if output_format == 'markdown' else 'txt'}"
    if UPDATE:
        (GOLDEN / name).write_text(result.stdout, encoding="utf-8", newline="\n")
    assert (GOLDEN / name).read_text(encoding="utf-8") == result.stdout


@pytest.mark.parametrize(
    ("since", "until", "lang", "shown"),
    [
        ("2026-11-01T00:00:00+09:00", "2026-12-01T00:00:00+09:00", "en", "2026-11-01 – 2026-11-30"),
        ("2026-11-01T00:00:00+09:00", "2026-12-01T00:00:00+09:00", "ko", "2026-11-01 – 2026-11-30"),
        ("2026-10-31T15:00:00+00:00", None, "ko", "2026-11-01 – 현재"),
        (None, "2026-11-24T20:30:00+09:00", "en", "start – 2026-11-24 20:30"),
    ],
)
def test_period_text(since: str | None, until: str | None, lang: str, shown: str) -> None:
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from gatekeeper.reporters.period import period_text

    moment = [datetime.fromisoformat(t) if t else None for t in (since, until)]
    assert period_text(moment[0], moment[1], ZoneInfo("Asia/Seoul"), lang) == shown


def test_one_recovery_time_for_one_incident_through_the_cli(tmp_path: Path) -> None:
    """KPI MTTR, DORA time to restore and the 장애보고서 give the same minutes for one rolled-back deployment
    (computed once: `domain.incident.recovery_minutes`; unit test: tests/audit/test_recovery_time.py)."""
    from datetime import timedelta

    repo = _world(tmp_path)
    at = cases.datetime.fromisoformat(cases.TUESDAY_EVENING)
    started = run_cli(["--format", "json", "deploy", "start", "--rfc", RFC], cwd=repo.path, now=at)
    assert started.code == 0, started.stdout + started.stderr
    deployment = json.loads(started.stdout)["deployment_id"]
    later = at + timedelta(minutes=15)
    finish = ["--format", "json", "deploy", "finish", deployment, "--result", "rolled-back"]
    finished = run_cli(finish, cwd=repo.path, now=later)
    assert finished.code == 0, finished.stderr
    incident = json.loads(finished.stdout)["incident"]["id"]
    kpi = run_cli(["--format", "json", "kpi"], cwd=repo.path, now=later)
    values = {k["id"]: k["value"] for k in json.loads(kpi.stdout)["kpis"]}
    form = run_cli(["--lang", "ko", "report", "form", "incident-report", incident], cwd=repo.path, now=later)
    assert form.code == 0, form.stderr
    assert values["mttr-minutes"] == values["time-to-restore-minutes"] == 15.0
    assert "15분" in form.stdout
