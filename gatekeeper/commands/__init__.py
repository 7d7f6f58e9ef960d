"""Command implementations: one module per command, each with `configure(parser)` and `run(args, ctx)`.

`Context` gives a command what it may use — the injected runtime, the global options, and the
configuration and policy loaded on first use — so command functions stay short and testable.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.config import Config, Policy, find_config, load_config, policy_for
from gatekeeper.domain import Outcome
from gatekeeper.errors import ExitCode
from gatekeeper.runtime import Runtime

if TYPE_CHECKING:
    from gatekeeper.ledger import Record

# Commands that write or explain the work tree's own configuration rather than govern by it.
WORK_TREE_COMMANDS = frozenset({"init", "schema", "demo"})


@dataclass
class Context:
    runtime: Runtime
    config_option: str | None = None
    output_format: str = "text"
    lang_option: str | None = None
    command: str = ""
    # The last record this command stored (seq, hash): its head is anchored outside the ledger at the end.
    written: tuple[int, str] | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace, runtime: Runtime) -> Context:
        return cls(
            runtime=runtime,
            config_option=getattr(args, "config", None),
            output_format=getattr(args, "output_format", "text"),
            lang_option=getattr(args, "lang", None),
            command=str(getattr(args, "command", "") or ""),
        )

    @cached_property
    def config_path(self) -> Path:
        return find_config(self.runtime.cwd, self.runtime.env, self.config_option)

    @cached_property
    def config(self) -> Config:
        """In CI, the configuration of the protected default branch (`adapters.governance`): the change under
        deployment cannot edit the rules it is judged by. On a workstation, the work tree's."""
        from gatekeeper.adapters.ci import in_ci

        if in_ci(self.runtime.env) and self.command not in WORK_TREE_COMMANDS:
            from gatekeeper.adapters.governance import load_governing

            return load_governing(self.config_path, self.runtime.env)
        return load_config(self.config_path)

    @cached_property
    def repo_root(self) -> Path:
        """The folder holding the configuration file: paths in the config are relative to it."""
        return self.config_path.parent

    @cached_property
    def policy(self) -> Policy:
        return policy_for(self.config, relative_to=self.repo_root)

    @property
    def lang(self) -> str:
        """--lang, then GATEKEEPER_LANG, then English."""
        if self.lang_option:
            return self.lang_option
        chosen = self.runtime.env.get("GATEKEEPER_LANG", "")
        if chosen in {"en", "ko"}:
            return chosen
        return "en"

    def emit(self, outcome: Outcome) -> int:
        """Print an outcome in the chosen format; its exit code follows the decision (DESIGN §3)."""
        from gatekeeper.reporters import render_outcome

        self.runtime.stdout.write(render_outcome(outcome, self.output_format, self.lang))
        from gatekeeper.adapters.ci import in_ci

        if in_ci(self.runtime.env):
            from gatekeeper.reporters.publish import publish_outcome  # job summary, outputs; never raises

            publish_outcome(self.runtime, lambda: self.config, self.lang, outcome, self.command)
        return int(ExitCode.OK if outcome.ok else ExitCode.BLOCKED)

    def wrote(self, record: Record) -> Record:
        """Note a record this command stored (every write command passes its records through here)."""
        if self.written is None or record.seq > self.written[0]:
            self.written = (record.seq, record.hash)
        return record

    def anchor_written(self) -> None:
        """In CI, once the command ends: the head after its last write, kept where the ledger's writers
        cannot change it (`reporters.publish.publish_anchor`). Never raises: the records already stand."""
        from gatekeeper.adapters.ci import in_ci

        if self.written is None or not in_ci(self.runtime.env):
            return
        from gatekeeper.reporters.publish import publish_anchor

        publish_anchor(self.runtime, lambda: self.config, self.lang, *self.written)

    def out(self, text: str) -> None:
        self.runtime.stdout.write(text if text.endswith("\n") else text + "\n")
