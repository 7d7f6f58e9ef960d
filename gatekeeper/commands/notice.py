"""`gatekeeper notice RFC --to AGENCY.. [--note]`: prior notice of a release to linked agencies."""

from __future__ import annotations

import argparse

from gatekeeper.commands import Context
from gatekeeper.commands._records import draft, report_stored, rfc_digest, signed, store
from gatekeeper.domain import RecordKind
from gatekeeper.errors import UsageError
from gatekeeper.messages import msg, tr


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rfc_id", metavar="RFC", help="the RFC whose release is announced")
    parser.add_argument("--to", nargs="+", required=True, metavar="AGENCY", help="the agencies notified")
    parser.add_argument("--note", default="", help="how and when they were told (stored in the record)")


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.commands._gate import sources_for
    from gatekeeper.facts.gather import role_members
    from gatekeeper.rules.deploy import notice_refusal

    agencies = [a.strip() for a in args.to if a.strip()]
    if not agencies:
        raise UsageError(msg("--to needs at least one agency name"))
    digest = rfc_digest(ctx, args.rfc_id)
    data = {"to": agencies, "note": args.note, "rfc_digest": digest}
    notice = signed(ctx, draft(ctx, str(RecordKind.NOTICE), data, (args.rfc_id,)))
    members = None
    if ctx.policy.deploy.notice_by:
        members = role_members(ctx.config.roles, sources_for(ctx).role_resolver)
    # Refused as the gate would not count it: nothing is written that tells no one (REL-NOTICE).
    attested = (
        None
        if ctx.policy.approvals.attestation_level(ctx.config.system.grade) == "off"
        else ("attestation" in notice.data)
    )
    refused = notice_refusal(
        ctx.policy, ctx.config.system.grade, members, notice.actor, notice.actor_source, attested
    )
    if refused is not None:
        en, ko = refused
        raise UsageError(
            msg("this notice would not count: {en}; nothing was recorded", en=en, ko=ko),
            hint=msg(
                "the agency officer records the notice (the pack's deploy.notice_by) from a "
                "pipeline job that may request an OIDC token (GitHub: `permissions: id-token: "
                "write`; GitLab: `id_tokens:`)"
            ),
        )
    record = store(ctx, notice)
    return report_stored(
        ctx, record, tr(ctx.lang, "{rfc} to {agencies}", rfc=args.rfc_id, agencies=", ".join(agencies))
    )
