"""Expected errors and the exit codes they map to (DESIGN §3).

The CLI's single error boundary turns these into a message and an exit code; anything else is a crash
(exit 3) with a pointer to the log. Each adapter family raises its own subclass so callers can tell a bad
input from an unreachable service.
"""

from __future__ import annotations

from enum import IntEnum

from gatekeeper.messages import Message, msg, tr


class ExitCode(IntEnum):
    OK = 0
    BLOCKED = 1
    INPUT = 2
    INTERNAL = 3


class GatekeeperError(Exception):
    """An expected failure with a message written for the user."""

    exit_code: ExitCode = ExitCode.INPUT

    def __init__(
        self, message: str | Message, *, hint: str | Message = "", ko: str = "", hint_ko: str = ""
    ) -> None:
        # A `Message` brings its Korean from the catalogue; `ko`/`hint_ko` serve texts composed of parts
        # already said in both languages.
        if isinstance(message, Message):
            ko = message.ko
            message = message.en
        if isinstance(hint, Message):
            hint_ko = hint.ko
            hint = hint.en
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.ko = ko  # the message and the fix in Korean (`--lang ko`)
        self.hint_ko = hint_ko

    def render(self, lang: str = "en") -> str:
        message, hint = (self.ko, self.hint_ko) if lang == "ko" and self.ko else (self.message, self.hint)
        return tr(lang, "{message}\n  fix: {hint}", message=message, hint=hint) if hint else message


class UsageError(GatekeeperError):
    """Bad command-line arguments."""


class ConfigError(GatekeeperError):
    """A configuration, policy or RFC file is malformed or invalid."""


class InputError(GatekeeperError):
    """Any other bad input: a commit message file, a test-result file, a time on the command line."""


class GitError(GatekeeperError):
    """git could not answer (not a repository, unknown revision, shallow clone)."""


class LedgerError(GatekeeperError):
    """The ledger could not be read or written. A command that hits this has stored nothing."""

    exit_code = ExitCode.INTERNAL


class LedgerIntegrityError(LedgerError):
    """The ledger's hash chain is broken: a record was edited, removed, inserted or reordered."""

    exit_code = ExitCode.BLOCKED


class PlatformError(GatekeeperError):
    """The GitHub or GitLab API failed."""

    exit_code = ExitCode.INTERNAL


# Optional dependencies: the top-level module -> (the extra that installs it, what needs it).
OPTIONAL_MODULES: dict[str, tuple[str, Message]] = {
    "psycopg": ("postgres", msg("the postgres ledger backend")),
    "hwpx": ("hwpx", msg("HWPX output (--hwpx)")),
}


class MissingExtraError(GatekeeperError):
    """An optional dependency is not installed: a setup problem of this installation (exit 2), said in
    English and Korean with the extra that brings it."""

    def __init__(self, module: str) -> None:
        extra, needs = OPTIONAL_MODULES[module]
        said = msg(
            "{needs} needs the Python package {module}, which is not installed", needs=needs, module=module
        )
        # In English too the Korean line follows: it is a setup problem an operator of either language reads.
        super().__init__(
            f"{said.en}\n  {said.ko}",
            hint=msg("install sop-gatekeeper[{extra}]: pip install 'sop-gatekeeper[{extra}]'", extra=extra),
            ko=said.ko,
        )
        self.module = module
        self.extra = extra

    @classmethod
    def for_import(cls, exc: ImportError) -> MissingExtraError | None:
        """The error for an import of an optional module that failed, or None for any other import."""
        top = (exc.name or "").split(".", 1)[0]
        return cls(top) if top in OPTIONAL_MODULES else None
