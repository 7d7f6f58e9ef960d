"""`gatekeeper problem open`: register a problem (문제 등록, SOP PRB, seed 002 문제관리) — an incident whose
root cause is unknown or was fixed by a workaround, or a failed change rolled back without a known cause."""

from __future__ import annotations

import argparse

from gatekeeper.commands import Context
from gatekeeper.commands._incidents import known_incident, require_incident_role
from gatekeeper.commands._records import draft, report_stored, store
from gatekeeper.domain.records import ProblemOpened
from gatekeeper.messages import tr

# 문제 등록(이관) 기준 (seed 002 문제관리 자-1).
REASONS = ("unknown-cause", "workaround", "failed-change", "manager", "trend", "event-log")


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="problem_command", metavar="SUBCOMMAND", required=True)
    opened = sub.add_parser("open", help="register a problem for root-cause analysis")
    opened.add_argument("--title", required=True)
    opened.add_argument("--incident", default="", help="the incident it comes from")
    opened.add_argument("--reason", choices=REASONS, default="unknown-cause", help="등록 기준")
    opened.add_argument("--note", default="")


def run(args: argparse.Namespace, ctx: Context) -> int:
    require_incident_role(ctx)
    ident, rfcs = "", tuple[str, ...]()
    if args.incident:
        state = known_incident(ctx, args.incident)
        ident, rfcs = state.id, state.rfcs
    payload = ProblemOpened(title=args.title, incident=ident, reason=args.reason, note=args.note)
    stored = store(ctx, draft(ctx, str(payload.KIND), payload.dump(), rfcs))
    summary = (
        tr(ctx.lang, "problem {title} for {incident}", title=args.title, incident=ident)
        if ident
        else tr(ctx.lang, "problem {title}", title=args.title)
    )
    return report_stored(ctx, stored, summary)
