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
    if ctx.lang == "ko":
        text = f"commit-msg 훅을 설치했습니다: {target}"
        if kept is not None:
            text += f"\n이전 훅은 {kept}(으)로 보관했으며 더는 실행되지 않습니다"
    else:
        text = f"installed the commit-msg hook in {target}"
        if kept is not None:
            text += f"\nthe previous hook is kept as {kept}; it no longer runs"
    return ctx.done(text, hook=str(target), kept=None if kept is None else str(kept))
