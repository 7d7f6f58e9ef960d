"""Under `--lang ko` no command prints an English sentence (issue 18 item 6): every command (help excluded)
runs in a real git repository over one governed change — from the commit check through the gate, the
deployment, an incident, the release closure, the audit and the forms — and every line of its human output
(stdout and stderr, text format) that holds no Hangul must hold no English sentence either.

What may stay as it is, narrowly: text inside backticks (commands to type), options (`--at`), paths, rule
ids and record kinds (`window.business-hours`, `deployment.started`), IDs, hashes, times, numbers, the
literal values a user types on the command line, and a record's data as stored. Everything else left after
removing those must not hold two English words."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from pathlib import Path

from gatekeeper.domain import RecordKind
from gatekeeper.ledger import chain_reason_ko
from tests.acceptance import RFC_ID, build
from tests.helpers import CliResult, GitRepo, git, pipeline_job, run_cli
from tests.platform.oidc import record_baseline

HANGUL = re.compile(r"[가-힣]")
KINDS = sorted((str(kind) for kind in RecordKind), key=len, reverse=True)
ALLOWED = [
    re.compile(r"`[^`]*`"),  # a command or value to type
    re.compile(r"\bgatekeeper(?: [a-z][a-z-]*){0,2}:"),  # the program or command a message is from
    re.compile(r"\{.*$"),  # a record's data, shown as stored (`ledger log`, cut at the line's end)
    re.compile(rf"\b(?:{'|'.join(map(re.escape, KINDS))})\b"),  # record kinds: ids, as stored
    re.compile(r"\b(?:kim|choi|park|han|lee|dev|ci)\b"),  # the logins of the people in the scenario
    re.compile(r"\[[a-z-]+\]"),  # where a record came from: [github-actions], [local]
    re.compile(r"https?://\S+"),
    re.compile(r"(?:^|\s)(?:\.{0,2}/|[A-Za-z]:\\)\S*"),  # paths
    re.compile(r"\S+/\S+"),  # paths and system/environment pairs
    re.compile(r"--?[a-z][a-z0-9-]*"),  # options
    re.compile(r"\b[a-z0-9_]+(?:[.-][a-z0-9_]+)+\b"),  # rule ids, record kinds, values typed (rolled-back)
    re.compile(r"\b[A-Z]+-\d{4}-\d{4}\b"),  # RFC and incident IDs
    re.compile(r"\b(?:sha256:)?[0-9a-f]{7,64}\b"),  # hashes and commits
    re.compile(r"\b\d{4}-\d{2}-\d{2}(?:[T ][0-9:.+-]+Z?)?\b"),  # dates and times
]
WORD = re.compile(r"(?<![A-Za-z])[A-Za-z][a-z']+(?![a-z'])")
RUN = re.compile(r"(?<![A-Za-z])[A-Za-z][a-z']+(?: +[A-Za-z][a-z']+){2,}(?![a-z'])")  # three words in a row


def english_lines(text: str) -> list[str]:
    """The lines of `text` that hold English: two words on a line without Hangul, or three in a row in a
    Korean line ("the commit message의 ...")."""
    found = []
    for line in text.splitlines():
        rest = line
        for pattern in ALLOWED:
            rest = pattern.sub(" ", rest)
        if RUN.search(rest) or (not HANGUL.search(line) and len(WORD.findall(rest)) >= 2):
            found.append(line)
    return found


def test_the_checker_flags_english_and_spares_what_is_typed() -> None:
    assert english_lines("wrote changes/RFC-2026-0001.yml") == []
    assert english_lines("the commit message has no reason") == ["the commit message has no reason"]
    assert english_lines("작성함: changes/RFC-2026-0001.yml") == []
    assert english_lines("the commit message의 제목") == ["the commit message의 제목"]
    assert english_lines("  `gatekeeper ledger verify --anchors heads.txt`") == []
    assert english_lines("window.business-hours  deployment.started  rolled-back") == []
    assert english_lines("  fix: run the job again") == ["  fix: run the job again"]


def test_every_broken_chain_reason_has_its_korean() -> None:
    for reason in (
        "expected seq 3, found 5",
        "prev does not match the previous record's hash",
        "the record's content does not match its hash",
    ):
        assert english_lines(chain_reason_ko(reason)) == [] and HANGUL.search(chain_reason_ko(reason))


def _ko(repo: GitRepo, at: datetime, *args: str, actor: str | None = None) -> CliResult:
    """The command under `--lang ko`; with `actor`, in a GitHub Actions job that person runs."""
    env = pipeline_job(repo, actor) if actor else None
    result = run_cli(["--lang", "ko", *args], cwd=repo.path, now=at, env=env)
    assert result.code in (0, 1, 2), f"{args}: exit {result.code}\n{result.stderr}"
    assert "Traceback" not in result.stderr
    return result


def test_no_command_prints_an_english_sentence_under_lang_ko(repo: GitRepo, tmp_path: Path) -> None:
    at, _ = build(
        repo,
        {"config": {"baseline": {"items": [{"id": "rfcs", "kind": "document", "paths": ["changes/*.yml"]}]}}},
    )
    record_baseline(repo.path, "1.0", at, "han")  # the operator manager's, in the pipeline
    later = at + timedelta(minutes=30)
    message = repo.path / ".git" / "BAD_MSG"
    message.write_text("fix typo\n", encoding="utf-8")
    local: list[tuple[list[str], datetime]] = [
        (["check-commits", "--message-file", ".git/BAD_MSG"], at),
        (["rfc", "validate"], at),
        (["rfc", "show", RFC_ID], at),
        (["rfc", "new", "--title", "다음 변경"], at),
        (["rfc", "show", "RFC-2026-0999"], at),
        (["window", "--at", "2026-11-24T11:00:00+09:00"], at),
        (["window", "--next", "--at", "2026-11-24T11:00:00+09:00"], at),
        (["calendar", "--from", "2026-11-23", "--to", "2026-11-29"], at),
        (["gate", "--rfc", RFC_ID], at),
        (["gate", "--rfc", RFC_ID, "--at", "2026-11-24T11:00:00+09:00"], at),
        (["evidence", "add", "--kind", "unit", "--rfc", RFC_ID, "reports/unit/result.xml"], at),
        (["approve", RFC_ID, "--step", "change-review", "--decision", "approve"], at),
        (["notice", RFC_ID, "--to", "행정안전부"], at),
        (["delegate", "--to", "lee", "--steps", "change-review"], at),
        (["baseline", "create", "--label", "2.0"], at),
        (["baseline", "diff"], at),
        (["baseline", "verify"], at),
    ]
    untranslated: dict[str, list[str]] = {}

    def run(args: list[str], when: datetime, actor: str | None = None) -> CliResult:
        result = _ko(repo, when, *args, actor=actor)
        found = english_lines(result.stdout + result.stderr)
        if found:
            untranslated[" ".join(args)] = found
        return result

    for args, when in local:
        run(args, when)
    started = run(["deploy", "start", "--rfc", RFC_ID], at).stdout.strip().split()[-1]
    finished = run(["deploy", "finish", started, "--result", "failure"], later)
    assert finished.code == 0, finished.stderr
    for args, actor in (
        (["incident", "open", "--title", "로그인 오류", "--id", "INC-2026-0001"], "kim"),
        (["incident", "update", "INC-2026-0001", "--note", "원인 확인 중"], "kim"),
        (["problem", "open", "--title", "원인 분석", "--incident", "INC-2026-0001"], "kim"),
        (["notice", RFC_ID, "--to", "행정안전부"], "kim"),
        (["pir", RFC_ID, "--result", "achieved"], "kim"),
        (["release", "accept", started, "--result", "accepted"], "lee"),
        (["release", "review", started], "kim"),
        (["release", "close", started], "kim"),
        (["approve", RFC_ID, "--step", "change-review", "--decision", "approve"], "kim"),
    ):
        run(args, later, actor)
    for args in (
        ["incident", "list"],
        ["ledger", "verify"],
        ["ledger", "head"],
        ["ledger", "log"],
        ["ledger", "export", "--output", str(tmp_path / "ledger.jsonl")],
        ["audit", "--since", "2026-11-01", "--until", "2026-11-30"],
        ["kpi", "--since", "2026-11-01", "--until", "2026-11-30"],
        ["report", "form", "change-request", RFC_ID],
        ["report", "form", "deployment-result", started],
        ["report", "register", "-o", str(tmp_path / "registers.xlsx")],
        ["audit", "--html", str(tmp_path / "audit.html")],
        ["kpi", "--system", "all"],
        ["calendar", "-o", str(tmp_path / "calendar.ics")],
        ["ledger", "verify", "--attestations"],
        ["baseline", "diff"],
        ["baseline", "verify"],
        ["hook", "install"],
    ):
        run(args, later)
    base = repo.head()
    repo.commit("fix typo", allow_empty=True)
    run(["check-commits", "--range", f"{base}..HEAD"], later)
    fresh = tmp_path / "fresh"
    fresh.mkdir()
    git(fresh, "init", "-q", "-b", "main")
    for args in (["init", "--ci", "github", "--no-hook"], ["init", "--ci", "github", "--no-hook"]):
        result = run_cli(["--lang", "ko", *args], cwd=fresh, now=at)
        found = english_lines(result.stdout + result.stderr)
        if found:
            untranslated[" ".join(args)] = found
    assert untranslated == {}, "\n".join(f"{k}:\n  " + "\n  ".join(v) for k, v in untranslated.items())
