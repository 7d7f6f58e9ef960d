"""`gatekeeper hook install`: the commit-msg hook that checks each message as it is written.

The hook lands where git looks for hooks (`git rev-parse --git-path hooks`, which honours
core.hooksPath). A hook gatekeeper did not write is never overwritten without `--force`; with it, the old
hook is kept beside the new one as `commit-msg.local`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from gatekeeper.commands import Context
from gatekeeper.errors import ExitCode, UsageError

MARKER = "# installed by `gatekeeper hook install`"


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="hook_command", metavar="SUBCOMMAND", required=True)
    install = sub.add_parser("install", help="install the commit-msg hook in this repository")
    install.add_argument(
        "--force", action="store_true", help="replace a commit-msg hook gatekeeper did not write"
    )


def hook_script(python: str) -> str:
    """The hook: the interpreter gatekeeper runs under now, so the hook finds the same installation."""
    return (
        "#!/bin/sh\n"
        f"{MARKER}\n"
        "# Checks that the message names an active RFC and gives a reason (SOP CFG-P3).\n"
        f'exec {shlex.quote(python)} -m gatekeeper check-commits --message-file "$1"\n'
    )


def hooks_dir(root: Path) -> Path:
    from gatekeeper.adapters.git import git

    hooks = Path(git(root, "rev-parse", "--git-path", "hooks").strip())
    return hooks if hooks.is_absolute() else root / hooks


def install(root: Path, *, force: bool, python: str) -> tuple[Path, Path | None]:
    """Write the hook; returns its path and where a replaced foreign hook was kept (if any)."""
    target = hooks_dir(root) / "commit-msg"
    kept: Path | None = None
    if target.exists() or target.is_symlink():
        current = target.read_text(encoding="utf-8", errors="replace") if target.is_file() else ""
        if MARKER not in current:
            if not force:
                raise UsageError(
                    f"{target} already exists and was not written by gatekeeper",
                    hint="merge it by hand, or run `gatekeeper hook install --force` (the old hook is "
                    "kept as commit-msg.local)",
                )
            kept = target.with_name("commit-msg.local")
            target.replace(kept)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(hook_script(python), encoding="utf-8")
    target.chmod(0o755)
    return target, kept


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.adapters.git import git

    root = Path(git(ctx.runtime.cwd, "rev-parse", "--show-toplevel").strip())
    target, kept = install(root, force=args.force, python=sys.executable)
    ctx.out(f"installed the commit-msg hook in {target}")
    if kept is not None:
        ctx.out(f"the previous hook is kept as {kept}; it no longer runs")
    return int(ExitCode.OK)
