"""`gatekeeper notice RFC --to AGENCY.. [--note]`: prior notice of a release to linked agencies."""

from __future__ import annotations

import argparse

from gatekeeper.commands import Context
from gatekeeper.commands._records import draft, report_stored, rfc_digest, signed, store
from gatekeeper.domain import RecordKind
from gatekeeper.errors import UsageError


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
        raise UsageError(
            "--to needs at least one agency name",
            ko="--to에 기관 이름을 하나 이상 적으세요",
        )
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
            f"this notice would not count: {en}; nothing was recorded",
            hint="the agency officer records the notice (the pack's deploy.notice_by) from a pipeline job "
            "that may request an OIDC token (GitHub: `permissions: id-token: write`; GitLab: `id_tokens:`)",
            ko=f"이 공지는 인정되지 않습니다: {ko}. 기록하지 않았습니다",
            hint_ko="운영기관 담당자가 OIDC 토큰을 받을 수 있는 파이프라인 작업에서 공지를 기록합니다 "
            "(정책 팩의 deploy.notice_by; GitHub: `permissions: id-token: write`, GitLab: `id_tokens:`)",
        )
    record = store(ctx, notice)
    return report_stored(
        ctx, record, f"{args.rfc_id} to {', '.join(agencies)}", f"{args.rfc_id} → {', '.join(agencies)}"
    )
