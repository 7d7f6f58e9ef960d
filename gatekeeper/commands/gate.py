"""`gatekeeper gate [--env E] [--rfc ID..] [--at T] [--evidence [KIND=]GLOB..]`: evaluate, write nothing.

Exit code 0 when the deployment is allowed, 1 when it is blocked (including every `gate.error`: a fact
that could not be gathered blocks), 2 for bad input.
"""

from __future__ import annotations

import argparse

from gatekeeper.commands import Context
from gatekeeper.commands._gate import add_gate_arguments, run_gate


def configure(parser: argparse.ArgumentParser) -> None:
    add_gate_arguments(parser)


def run(args: argparse.Namespace, ctx: Context) -> int:
    outcome = run_gate(args, ctx)
    code = ctx.emit(outcome)
    if args.at is None:  # a question about another time tells nobody anything
        from gatekeeper.commands._notify import notify_findings

        notify_findings(ctx, outcome.findings)
    return code
