"""`gatekeeper release accept|review|close DEPLOYMENT`: closing a release after a successful deployment.

- `accept DEPLOYMENT --result accepted|rejected [--note]`: the requester's acceptance test in production
  (seed 002 배포관리 4.2 배포결과 검토, 테스트관리 4.4 인수테스트); a rejected release goes back to the
  change procedure.
- `review DEPLOYMENT --consistent|--inconsistent [--note]`: the change plan, the release plan and the result
  agree (배포관리 4.1 배포 결과 등록, REL-CONSISTENCY).
- `close DEPLOYMENT [--note] [--improvements]`: the release and the change are closed (배포관리 4.3 배포
  종료, 변경관리 4.2 변경 결과 검토), after the acceptance, the review and the production tests
  (`evidence add --kind K --deployment ID`).

Who may record each is the pack's `closure` section; a record the gate would not count is refused (exit 2)
and nothing is written (`commands._closure`). Until a release is closed, past `closure.deadline_days` the
system's later normal changes are blocked (`release.*-overdue`).
"""

from __future__ import annotations

import argparse

from gatekeeper.commands import Context
from gatekeeper.commands._closure import refuse_uncounted, release_of, require_signature
from gatekeeper.commands._records import append, draft, open_configured, report_stored, signed
from gatekeeper.domain.records import ChangeClosed, ReleaseAccepted, ReleaseReviewed
from gatekeeper.messages import msg

_WHAT = {"accept": "acceptance", "review": "consistency review", "close": "closure"}


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="release_command", metavar="SUBCOMMAND", required=True)
    accept = sub.add_parser(
        "accept", help="record the requester's acceptance test in production (인수테스트)"
    )
    accept.add_argument("deployment_id", metavar="DEPLOYMENT", help="the id `deploy start` printed")
    accept.add_argument("--result", required=True, choices=["accepted", "rejected"])
    accept.add_argument("--note", default="", help="what was tested and found (stored in the record)")
    review = sub.add_parser(
        "review", help="record that the change plan, the release plan and the result agree (일치성 검토)"
    )
    review.add_argument("deployment_id", metavar="DEPLOYMENT", help="the id `deploy start` printed")
    agree = review.add_mutually_exclusive_group(required=True)
    agree.add_argument("--consistent", dest="consistent", action="store_true", help="they agree")
    agree.add_argument("--inconsistent", dest="consistent", action="store_false", help="they do not")
    review.add_argument("--note", default="", help="what was compared (stored in the record)")
    close = sub.add_parser("close", help="close the release and the change (배포·변경 종료)")
    close.add_argument("deployment_id", metavar="DEPLOYMENT", help="the id `deploy start` printed")
    close.add_argument("--note", default="", help="the closure's remarks (stored in the record)")
    close.add_argument(
        "--improvements",
        default="",
        help="what later releases should do differently (배포관리 4.3 개선 사항)",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    command = args.release_command
    deployment = args.deployment_id.strip()
    payload: ReleaseAccepted | ReleaseReviewed | ChangeClosed
    if command == "accept":
        payload = ReleaseAccepted(deployment, args.result, args.note)
        summary = (
            msg("{deployment}: accepted", deployment=deployment)
            if args.result == "accepted"
            else msg("{deployment}: rejected", deployment=deployment)
        )
    elif command == "review":
        payload = ReleaseReviewed(deployment, args.consistent, args.note)
        summary = (
            msg("{deployment}: consistent", deployment=deployment)
            if args.consistent
            else msg("{deployment}: inconsistent", deployment=deployment)
        )
    else:
        payload = ChangeClosed(deployment, args.note, args.improvements)
        summary = msg("{deployment}: closed", deployment=deployment)
    ledger = open_configured(ctx)
    try:
        history, release = release_of(ctx, ledger, deployment)
        record_draft = signed(ctx, draft(ctx, str(payload.KIND), payload.dump(), release.rfcs))
        refuse_uncounted(ctx, history, release, record_draft, _WHAT[command])
        level = ctx.policy.approvals.attestation_level(ctx.config.system.grade)
        require_signature(ctx, record_draft, _WHAT[command], level)
        record = append(ctx, ledger, record_draft)
    finally:
        ledger.close()
    return report_stored(ctx, record, summary.said(ctx.lang))
