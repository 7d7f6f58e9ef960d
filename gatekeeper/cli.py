"""The command line: parse, dispatch to one command module, and map errors to exit codes in one place.

Command modules are imported only when their command runs, so `gatekeeper --version` and the commit-msg
hook never pay for PyGithub, psycopg or jinja2.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import importlib
import sys
import tempfile
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from gatekeeper import __version__
from gatekeeper.errors import ExitCode, GatekeeperError, MissingExtraError
from gatekeeper.messages import msg, tr
from gatekeeper.runtime import Runtime

if TYPE_CHECKING:
    from gatekeeper.commands import Context


class CommandModule(Protocol):
    def configure(self, parser: argparse.ArgumentParser) -> None: ...

    def run(self, args: argparse.Namespace, ctx: object) -> int: ...


# name -> (module, one-line help). The explicit registry is the whole command set.
COMMANDS: dict[str, tuple[str, str]] = {
    "check-commits": ("gatekeeper.commands.check_commits", "check that every commit names an active RFC"),
    "hook": ("gatekeeper.commands.hook", "install the commit-msg hook"),
    "rfc": ("gatekeeper.commands.rfc", "create, validate and show RFC files"),
    "approve": ("gatekeeper.commands.approve", "record an approval step in the ledger"),
    "pir": ("gatekeeper.commands.pir", "record the post-implementation review"),
    "notice": ("gatekeeper.commands.notice", "record a prior notice to linked agencies"),
    "release": (
        "gatekeeper.commands.release",
        "accept, review and close a release after its deployment (인수·일치성 검토·종료)",
    ),
    "delegate": ("gatekeeper.commands.delegate", "hand approval steps to a deputy for a period, or revoke"),
    "incident": ("gatekeeper.commands.incident", "open, update, close and list incidents (장애)"),
    "problem": ("gatekeeper.commands.problem", "register a problem for root-cause analysis (문제)"),
    "evidence": ("gatekeeper.commands.evidence", "record test evidence in the ledger"),
    "window": ("gatekeeper.commands.window", "is a deployment allowed at a time, and when next"),
    "calendar": ("gatekeeper.commands.calendar", "the change calendar: planned changes, freezes, collisions"),
    "gate": ("gatekeeper.commands.gate", "evaluate every rule for a deployment (writes nothing)"),
    "deploy": ("gatekeeper.commands.deploy", "start or finish a governed deployment"),
    "ledger": ("gatekeeper.commands.ledger", "verify, list or export the ledger"),
    "baseline": ("gatekeeper.commands.baseline", "create, diff and verify configuration baselines"),
    "audit": ("gatekeeper.commands.audit", "the SOP audit checklist over ledger and history"),
    "kpi": ("gatekeeper.commands.kpi", "SOP KPIs and DORA metrics against targets"),
    "report": ("gatekeeper.commands.report", "render SOP forms from RFC and ledger data"),
    "init": ("gatekeeper.commands.init", "scaffold gatekeeper in a repository"),
    "schema": ("gatekeeper.commands.schema", "print the JSON Schema of config, rfc or policy files"),
    "demo": ("gatekeeper.commands.demo", "run a whole governed release on the bundled example"),
}


def _global_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="gatekeeper",
        description="Change- and release-governance for CI/CD pipelines (Korean public-sector AP SOP).",
        epilog="exit codes: 0 allowed/passed, 1 blocked/violations, 2 usage or input error, 3 internal error",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"gatekeeper {__version__}")
    parser.add_argument("--config", metavar="FILE", help="configuration file (default: .gatekeeper.yml)")
    parser.add_argument(
        "--format",
        choices=["text", "json", "markdown"],
        default="text",
        dest="output_format",
        help="output format; a command that cannot print it refuses it (exit 2), see the README's table",
    )
    parser.add_argument("--lang", choices=["en", "ko"], default=None, help="language of messages")
    return parser


class _Parser(argparse.ArgumentParser):
    """argparse exits with 2 on its own; route its errors through our boundary instead."""

    def error(self, message: str) -> None:  # type: ignore[override]
        from gatekeeper.errors import UsageError

        raise UsageError(
            msg(
                "{prog}: {message}",
                prog=self.prog,
                message=message,
                argparse_ko_message=_argparse_ko(message),
            ),
            hint=msg("see `{prog} --help`", prog=self.prog),
        )


# argparse's own messages, as the catalogue says them (`--lang ko`): (argparse's English, as a pattern; the
# same as a message of the catalogue, its parts named).
_ARGPARSE = (
    (r"unrecognized arguments: (?P<x>.*)", msg("unrecognized arguments: {x}")),
    (r"the following arguments are required: (?P<x>.*)", msg("the following arguments are required: {x}")),
    (
        r"argument (?P<a>[^:]+): invalid choice: (?P<x>.*?) \(choose from (?P<c>.*)\)",
        msg("argument {a}: invalid choice: {x} (choose from {c})"),
    ),
    (r"argument (?P<a>[^:]+): expected one argument", msg("argument {a}: expected one argument")),
    (
        r"argument (?P<a>[^:]+): expected at least one argument",
        msg("argument {a}: expected at least one argument"),
    ),
    (
        r"argument (?P<a>[^:]+): invalid (?P<t>\w+) value: (?P<x>.*)",
        msg("argument {a}: invalid {t} value: {x}"),
    ),
    (
        r"argument (?P<a>[^:]+): not allowed with argument (?P<b>.*)",
        msg("argument {a}: not allowed with argument {b}"),
    ),
    (r"one of the arguments (?P<x>.*) is required", msg("one of the arguments {x} is required")),
    (r"ambiguous option: (?P<x>.*)", msg("ambiguous option: {x}")),
)


def _argparse_ko(message: str) -> str:
    """argparse's message in Korean; one it does not know is named as a command-line error as it is."""
    import re

    for pattern, said in _ARGPARSE:
        matched = re.fullmatch(pattern, message)
        if matched:
            return said.filled(**matched.groupdict()).said("ko")
    return tr("ko", "command-line error: {message}", message=message)


def _build_parser() -> tuple[argparse.ArgumentParser, argparse._SubParsersAction[_Parser]]:
    parser = _global_parser()
    parser.__class__ = _Parser
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    return parser, sub


def _command_name(argv: Sequence[str]) -> str | None:
    """The first positional token: global options before it may take a value (`--config gate.yml`)."""
    skip = False
    for token in argv:
        if skip:
            skip = False
        elif token in {"--config", "--format", "--lang"}:
            skip = True
        elif not token.startswith("-"):
            return token if token in COMMANDS else None
    return None


def _parse(
    argv: Sequence[str], language: Callable[[], str] = lambda: "en"
) -> tuple[argparse.Namespace, CommandModule]:
    """The command line parsed; `language` (`--lang`, GATEKEEPER_LANG: the configuration is not read yet)
    is asked for the language of `--help` (`commands._help`) only when help is asked for."""
    from gatekeeper.errors import UsageError

    parser, sub = _build_parser()
    command = _command_name(argv)
    for name, (_module, help_text) in COMMANDS.items():
        if name != command:
            sub.add_parser(name, help=help_text, add_help=False)
    if command is None:
        _localize(parser, argv, language)
        args = parser.parse_args(argv)  # --help / --version exit here
        raise UsageError(
            msg("no command given"), hint=msg("run `gatekeeper --help` for the list of commands")
        )
    module: CommandModule = importlib.import_module(COMMANDS[command][0])
    command_parser = sub.add_parser(command, help=COMMANDS[command][1], description=COMMANDS[command][1])
    module.configure(command_parser)
    _localize(parser, argv, language)
    args = parser.parse_args(argv)
    return args, module


def _localize(parser: argparse.ArgumentParser, argv: Sequence[str], language: Callable[[], str]) -> None:
    asked = any(word == "-h" or (len(word) > 3 and "--help".startswith(word)) for word in argv)
    if asked and language() == "ko":  # `--version` and every command read nothing more for it
        from gatekeeper.commands._help import korean

        korean(parser)


def _guarded(runtime: Runtime) -> Runtime:
    """In a CI job, everything printed passes a guard, so that no text from a commit, an RFC, a record or
    a file can act as a workflow command or a log marker (gatekeeper.reporters.sanitize.LogGuard)."""
    from gatekeeper.reporters.sanitize import guard_log

    stdout, stderr = guard_log(runtime.stdout, runtime.env), guard_log(runtime.stderr, runtime.env)
    if stdout is runtime.stdout and stderr is runtime.stderr:
        return runtime
    return dataclasses.replace(runtime, stdout=stdout, stderr=stderr)


def _language(argv: Sequence[str], runtime: Runtime) -> str:
    """The language of an error raised before a command could read its configuration: `--lang` as given
    (the command line may not have parsed), then GATEKEEPER_LANG (`config.language`)."""
    from gatekeeper.config.language import language

    option = None
    for before, token in zip(["", *argv], argv, strict=False):
        if before == "--lang" or token.startswith("--lang="):
            option = token.removeprefix("--lang=")
    return language(option, runtime.env)


def _crash_log(exc: BaseException) -> Path:
    with tempfile.NamedTemporaryFile("w", prefix="gatekeeper-crash-", suffix=".log", delete=False) as log:
        traceback.print_exception(exc, file=log)
        return Path(log.name)


def main(argv: Sequence[str] | None = None, runtime: Runtime | None = None) -> int:
    """The single error boundary: every expected error becomes a message and its exit code."""
    runtime = _guarded(runtime or Runtime())
    argv = list(sys.argv[1:] if argv is None else argv)
    ctx: Context | None = None
    try:
        # argparse prints --help and --version to sys.stdout; send them to the injected stream.
        with contextlib.redirect_stdout(runtime.stdout):
            args, module = _parse(argv, lambda: _language(argv, runtime))
        from gatekeeper.commands import Context, check_format

        check_format(args)
        ctx = Context.from_args(args, runtime)
        try:
            return int(module.run(args, ctx))
        finally:
            ctx.anchor_written()  # whatever happened after a record was stored, its head is anchored
    except GatekeeperError as exc:
        lang = ctx.error_lang() if ctx is not None else _language(argv, runtime)
        runtime.stderr.write(f"gatekeeper: {_said(lang, 'error')}: {exc.render(lang)}\n")
        return int(exc.exit_code)
    except SystemExit as exc:  # argparse --help / --version
        return int(exc.code or 0) if isinstance(exc.code, int) else 0
    except KeyboardInterrupt:
        runtime.stderr.write(f"gatekeeper: {_said(_language(argv, runtime), 'interrupted')}\n")
        return 130
    except BrokenPipeError:
        return int(ExitCode.OK)
    except ImportError as exc:
        missing = MissingExtraError.for_import(exc)
        if missing is None:
            return _crashed(exc, runtime, _language(argv, runtime))
        lang = _language(argv, runtime)
        runtime.stderr.write(f"gatekeeper: {_said(lang, 'error')}: {missing.render(lang)}\n")
        return int(missing.exit_code)
    except Exception as exc:  # the boundary: anything unexpected is a bug, never a pass
        return _crashed(exc, runtime, _language(argv, runtime))


# The boundary's own words: what kind of end a run came to.
_ENDS = {
    "error": msg("error"),
    "interrupted": msg("interrupted"),
    "internal": msg("internal error"),
}


def _said(lang: str, end: str) -> str:
    return _ENDS[end].said(lang)


def _crashed(exc: Exception, runtime: Runtime, lang: str = "en") -> int:
    log = _crash_log(exc)
    report = tr(lang, "  the full trace is in {log}; please report it", log=log)
    runtime.stderr.write(f"gatekeeper: {_said(lang, 'internal')}: {type(exc).__name__}: {exc}\n{report}\n")
    return int(ExitCode.INTERNAL)
