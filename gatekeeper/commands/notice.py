"""`gatekeeper notice RFC --to AGENCY.. [--note]`: prior notice of a release to linked agencies."""

from __future__ import annotations

import argparse

from gatekeeper.commands import Context
from gatekeeper.commands._records import draft, report_stored, rfc_digest, store
from gatekeeper.domain import RecordKind
from gatekeeper.errors import UsageError


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rfc_id", metavar="RFC", help="the RFC whose release is announced")
    parser.add_argument("--to", nargs="+", required=True, metavar="AGENCY", help="the agencies notified")
    parser.add_argument("--note", default="", help="how and when they were told (stored in the record)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    agencies = [a.strip() for a in args.to if a.strip()]
    if not agencies:
        raise UsageError("--to needs at least one agency name")
    digest = rfc_digest(ctx, args.rfc_id)
    data = {"to": agencies, "note": args.note, "rfc_digest": digest}
    record = store(ctx, draft(ctx, str(RecordKind.NOTICE), data, (args.rfc_id,)))
    return report_stored(ctx, record, f"{args.rfc_id} to {', '.join(agencies)}")
