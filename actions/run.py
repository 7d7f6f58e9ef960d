"""Runs one gatekeeper command for the GitHub Action and its focused wrappers.

Every input arrives through an environment variable (never interpolated into a script), is split like a
shell would split it (shlex, no expansion) and handed to the CLI as an argument list. After the command the
step output `exit-code` is written — also for usage and internal errors, which publish no decision — and
the step fails whenever gatekeeper did not exit 0.
"""

from __future__ import annotations

import os
import secrets
import shlex
import sys
from collections.abc import Callable, Mapping
from pathlib import Path

Builder = Callable[[Mapping[str, str]], list[str]]


def _words(env: Mapping[str, str], name: str) -> list[str]:
    return shlex.split(env.get(f"INPUT_{name}", ""))


def _option(env: Mapping[str, str], name: str, flag: str) -> list[str]:
    value = env.get(f"INPUT_{name}", "").strip()
    return [flag, value] if value else []


def _command(env: Mapping[str, str]) -> list[str]:
    words = _words(env, "COMMAND")
    if not words:
        raise SystemExit(
            "gatekeeper action: the `command` input is empty; e.g. `command: gate --env production`"
        )
    return words


# action name -> how its inputs become the command line after `gatekeeper [global options]`
BUILDERS: dict[str, Builder] = {
    "gatekeeper": _command,
    "check-commits": lambda env: ["check-commits", *_option(env, "RANGE", "--range"), *_words(env, "ARGS")],
    "gate": lambda env: [
        "gate",
        *_option(env, "ENVIRONMENT", "--env"),
        *_option(env, "AT", "--at"),
        *_words(env, "ARGS"),
    ],
    "deploy-start": lambda env: [
        "deploy",
        "start",
        *_option(env, "ENVIRONMENT", "--env"),
        *_words(env, "ARGS"),
    ],
    "deploy-finish": lambda env: [
        "deploy",
        "finish",
        env.get("INPUT_DEPLOYMENT_ID", "").strip(),
        *_option(env, "RESULT", "--result"),
        *_option(env, "VERIFIER", "--verifier"),
        *_words(env, "ARGS"),
    ],
    "approve": lambda env: [
        "approve",
        env.get("INPUT_RFC", "").strip(),
        *_option(env, "STEP", "--step"),
        *_option(env, "DECISION", "--decision"),
        *_option(env, "COMMENT", "--comment"),
        *_words(env, "ARGS"),
    ],
    "audit": lambda env: ["audit", *_option(env, "SINCE", "--since"), *_words(env, "ARGS")],
}


def command_line(action: str, env: Mapping[str, str]) -> list[str]:
    """The full argument list for `gatekeeper`: global options from the shared inputs, then the command."""
    argv: list[str] = []
    argv += _option(env, "CONFIG", "--config")
    argv += _option(env, "FORMAT", "--format")
    argv += _option(env, "LANG", "--lang")
    return argv + [word for word in BUILDERS[action](env) if word != ""]


def _write_output(name: str, value: str) -> None:
    target = os.environ.get("GITHUB_OUTPUT")
    if not target:
        return
    delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
    with Path(target).open("a", encoding="utf-8") as handle:
        handle.write(f"{name}<<{delimiter}\n{value}\n{delimiter}\n")


def main() -> int:
    token = os.environ.get("GATEKEEPER_TOKEN", "")
    if token:
        print(f"::add-mask::{token}", flush=True)
    action = os.environ.get("GATEKEEPER_ACTION", "gatekeeper")
    argv = command_line(action, os.environ)
    print("gatekeeper " + " ".join(shlex.quote(word) for word in argv), flush=True)

    from gatekeeper.cli import main as gatekeeper_main

    code = gatekeeper_main(argv)
    sys.stdout.flush()
    _write_output("exit-code", str(code))
    if code not in (0, 1):
        _write_output("decision", "error")
    return code


if __name__ == "__main__":
    sys.exit(main())
