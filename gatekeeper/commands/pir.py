"""`gatekeeper pir RFC --result achieved|not-achieved [--note]`: the post-implementation review record."""

from __future__ import annotations

import argparse

from gatekeeper.commands import Context
from gatekeeper.commands._records import draft, report_stored, rfc_digest, store
from gatekeeper.domain import RecordKind


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rfc_id", metavar="RFC", help="the RFC the review is about")
    parser.add_argument(
        "--result", required=True, choices=["achieved", "not-achieved"], help="goal achieved?"
    )
    parser.add_argument("--note", default="", help="findings and follow-ups (stored in the record)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    digest = rfc_digest(ctx, args.rfc_id)
    data = {"result": args.result, "note": args.note, "rfc_digest": digest}
    record = store(ctx, draft(ctx, str(RecordKind.PIR), data, (args.rfc_id,)))
    return report_stored(ctx, record, f"{args.rfc_id}: {args.result}")
