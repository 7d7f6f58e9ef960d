"""`gatekeeper approve RFC --step S --decision approve|reject [--comment]`: one approval record.

The record binds the RFC's content digest, so an approval never carries over to an RFC edited after it.
The approver is the CI identity (or the git identity, marked `local`), never a flag; whether that person
may approve the step is the gate's decision, made from the policy's roles.
"""

from __future__ import annotations

import argparse

from gatekeeper.commands import Context
from gatekeeper.commands.ledger import draft, report_stored, rfc_digest, store
from gatekeeper.domain import RecordKind
from gatekeeper.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rfc_id", metavar="RFC", help="the RFC being approved")
    parser.add_argument("--step", required=True, help="the approval step of the policy pack, e.g. cab")
    parser.add_argument("--decision", required=True, choices=["approve", "reject"])
    parser.add_argument("--comment", default="", help="why (stored in the record)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    steps = [str(step) for step in ctx.policy.approvals.steps]
    if args.step not in steps:
        raise UsageError(
            f"{args.step!r} is not an approval step of the policy pack {ctx.policy.name}",
            hint=f"use one of: {', '.join(steps) or '(the pack defines no approval steps)'}",
        )
    digest = rfc_digest(ctx, args.rfc_id)
    record = store(
        ctx,
        draft(
            ctx,
            str(RecordKind.APPROVAL),
            {"step": args.step, "decision": args.decision, "rfc_digest": digest, "comment": args.comment},
            (args.rfc_id,),
        ),
    )
    return report_stored(ctx, record, f"{args.rfc_id} {args.step}: {args.decision}")
