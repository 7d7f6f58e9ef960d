"""`--help` in Korean (`--lang ko`, GATEKEEPER_LANG=ko): every command's and subcommand's help, argparse's
own words included, with no English sentence left (`commands._help.HELP_TEXTS`, their Korean in the
message catalogue); English help unchanged."""

from __future__ import annotations

import argparse
import importlib
import re
from pathlib import Path

import pytest

from gatekeeper import cli
from gatekeeper.commands._help import HELP_TEXTS, needs_korean
from tests.helpers import run_cli
from tests.test_korean_everywhere import english_lines


def _parsers() -> list[tuple[tuple[str, ...], argparse.ArgumentParser]]:
    """Every parser of the command line with the words that reach it: the global one, each command's and
    each subcommand's."""
    parser, sub = cli._build_parser()
    for name, (module, help_text) in cli.COMMANDS.items():
        command = sub.add_parser(name, help=help_text, description=help_text)
        importlib.import_module(module).configure(command)
    found: list[tuple[tuple[str, ...], argparse.ArgumentParser]] = []

    def walk(path: tuple[str, ...], at: argparse.ArgumentParser) -> None:
        found.append((path, at))
        for action in at._actions:
            if isinstance(action, argparse._SubParsersAction):
                for name, child in action.choices.items():
                    walk((*path, name), child)

    walk((), parser)
    return found


def _texts(parser: argparse.ArgumentParser) -> list[str]:
    texts = [t for t in (parser.description, parser.epilog) if t]
    texts += [g.title for g in parser._action_groups if g.title]
    for action in parser._actions:
        if action.help and action.help is not argparse.SUPPRESS:
            texts.append(action.help)
        if isinstance(action, argparse._SubParsersAction):
            texts += [c.help for c in action._choices_actions if c.help]
    return texts


def test_every_text_a_parser_declares_has_its_korean() -> None:
    # Declared for the extraction; `test_message_catalogue` requires the Korean of every declared message.
    declared = {m.text for m in HELP_TEXTS}
    missing = sorted(
        {
            text
            for _, parser in _parsers()
            for text in _texts(parser)
            if needs_korean(text) and text not in declared
        }
    )
    assert not missing, "declare in commands/_help.HELP_TEXTS (and give its Korean):\n" + "\n".join(missing)


@pytest.mark.parametrize("path", [p for p, _ in _parsers()], ids=lambda p: " ".join(p) or "gatekeeper")
def test_the_help_of_every_command_is_korean(path: tuple[str, ...], tmp_path: Path) -> None:
    korean = run_cli(["--lang", "ko", *path, "--help"], cwd=tmp_path)
    assert korean.code == 0, korean.stderr
    assert korean.stdout.startswith("사용법: "), korean.stdout
    # The usage synopsis and the lines naming options alone are command-line syntax, not sentences.
    words = korean.stdout.split("\n\n", 1)[-1]
    words = "\n".join(line for line in words.splitlines() if not re.match(r"\s*-[^\uac00-\ud7a3]*$", line))
    assert english_lines(words) == [], "\n".join(english_lines(words))
    english = run_cli(["--lang", "en", *path, "--help"], cwd=tmp_path)
    assert english.stdout.startswith("usage: ") and "show this help message and exit" in english.stdout


def test_the_language_may_come_from_the_environment_or_after_the_command(tmp_path: Path) -> None:
    from_env = run_cli(["deploy", "start", "--help"], cwd=tmp_path, env={"GATEKEEPER_LANG": "ko"})
    after = run_cli(["deploy", "start", "--lang", "ko", "--help"], cwd=tmp_path)
    for result in (from_env, after):
        assert result.code == 0 and "대상 환경" in result.stdout, result.stdout + result.stderr
    wrong = run_cli(["deploy", "start", "--no-such-option"], cwd=tmp_path, env={"GATEKEEPER_LANG": "ko"})
    assert wrong.code == 2 and "알 수 없는 인자" in wrong.stderr and "Traceback" not in wrong.stderr
