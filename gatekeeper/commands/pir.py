"""`gatekeeper pir RFC --result achieved|not-achieved [--follow-up TEXT] [--note]`: the post-implementation
review record (seed 002 변경관리 4.3).

Only a PIR the gate would count is written: by a holder of the pack's `deploy.pir_reviewers` roles (the CAB,
the agency officer), from the pipeline where the pack refuses workstation records, with a follow-up when the
purpose was not achieved (`rules.deploy.pir_refusal`, which the gate and the audit apply to the records).
"""

from __future__ import annotations

import argparse

from gatekeeper.commands import Context
from gatekeeper.commands._records import draft, report_stored, rfc_digest, signed, store
from gatekeeper.domain import RecordKind
from gatekeeper.domain.records import Pir
from gatekeeper.errors import UsageError
from gatekeeper.messages import msg, tr


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rfc_id", metavar="RFC", help="the RFC the review is about")
    parser.add_argument(
        "--result", required=True, choices=["achieved", "not-achieved"], help="goal achieved?"
    )
    parser.add_argument(
        "--follow-up",
        default="",
        metavar="TEXT",
        help="the improvement that follows a purpose not achieved (required with --result not-achieved): "
        "an action, or the RFC that carries it",
    )
    parser.add_argument("--note", default="", help="findings of the review (stored in the record)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.adapters.identity import current_actor
    from gatekeeper.commands._gate import sources_for
    from gatekeeper.facts.gather import role_members
    from gatekeeper.rules.deploy import pir_refusal

    if args.result == "not-achieved" and not args.follow_up.strip():
        raise UsageError(
            msg("--result not-achieved needs --follow-up: the improvement the unmet purpose leads to"),
            hint=msg(
                'name it: --follow-up "RFC-2026-0012: index the address table" (SOP change procedure 4.3)'
            ),
        )
    digest = rfc_digest(ctx, args.rfc_id)
    review = Pir(args.result, args.note, digest, args.follow_up.strip())
    actor = current_actor(ctx.runtime.env, ctx.runtime.cwd)
    members = None
    if ctx.policy.deploy.pir_reviewers:
        members = role_members(ctx.config.roles, sources_for(ctx).role_resolver)
    refused = pir_refusal(ctx.policy, ctx.config.system.grade, members, actor.name, str(actor.source), review)
    if refused is not None:
        en, ko = refused
        raise UsageError(
            msg("this PIR would not count: {en}; nothing was recorded", en=en, ko=ko),
            hint=msg(
                "the CAB or the agency officer records the PIR (the pack's "
                "deploy.pir_reviewers), from the pipeline"
            ),
        )
    unsigned = draft(ctx, str(RecordKind.PIR), review.dump(), (args.rfc_id,))
    pir = signed(ctx, unsigned)
    if "attestation" not in pir.data and ctx.policy.approvals.attestation_level(ctx.config.system.grade) == (
        "required"
    ):
        raise UsageError(
            msg(
                "this PIR would not count: the CI platform cannot sign it here (no OIDC ID "
                "token), so nothing would show who recorded it; nothing was recorded"
            ),
            hint=msg(
                "record it in a pipeline job that may request a token (GitHub: `permissions: "
                "id-token: write`; GitLab: `id_tokens: {GATEKEEPER_ID_TOKEN: {aud: gatekeeper}}`)"
            ),
        )
    record = store(ctx, pir)
    summary = (
        tr(ctx.lang, "{rfc}: achieved", rfc=args.rfc_id)
        if args.result == "achieved"
        else tr(ctx.lang, "{rfc}: not-achieved", rfc=args.rfc_id)
    )
    return report_stored(ctx, record, summary)
