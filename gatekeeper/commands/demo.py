"""`gatekeeper demo`: run a whole governed release on the bundled sample system."""

from __future__ import annotations

import argparse
from pathlib import Path

from gatekeeper.commands import Context
from gatekeeper.errors import ExitCode


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--workdir",
        default="gatekeeper-demo",
        help="folder for the demo's repositories and report (emptied first; default: ./gatekeeper-demo)",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.config.language import chosen_language
    from gatekeeper.demo import run_demo

    workdir = Path(args.workdir)
    run_demo(
        workdir if workdir.is_absolute() else ctx.runtime.cwd / workdir,
        ctx.runtime.stdout,
        chosen_language(ctx.lang_option, ctx.runtime.env),
    )
    return int(ExitCode.OK)
