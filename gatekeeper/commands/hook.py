"""`gatekeeper hook install`: the commit-msg hook that checks each message as it is written.

The hook lands where git looks for hooks (`git rev-parse --git-path hooks`, which honours
core.hooksPath). A hook gatekeeper did not write is never overwritten without `--force`; with it, the old
hook is kept beside the new one as `commit-msg.local`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from gatekeeper.commands import Context
from gatekeeper.commands._hooks import install
from gatekeeper.messages import tr


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="hook_command", metavar="SUBCOMMAND", required=True)
    install = sub.add_parser("install", help="install the commit-msg hook in this repository")
    install.add_argument(
        "--force", action="store_true", help="replace a commit-msg hook gatekeeper did not write"
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.adapters.git import git

    root = Path(git(ctx.runtime.cwd, "rev-parse", "--show-toplevel").strip())
    target, kept = install(root, force=args.force, python=sys.executable)
    text = tr(ctx.lang, "installed the commit-msg hook in {target}", target=target)
    if kept is not None:
        text += "\n" + tr(ctx.lang, "the previous hook is kept as {kept}; it no longer runs", kept=kept)
    return ctx.done(text, hook=str(target), kept=None if kept is None else str(kept))
