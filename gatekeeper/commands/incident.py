"""`gatekeeper incident open | update | close | list`: the incident records (SOP INC, seed 002 장애관리) with
the 장애보고서's fields — 증상, 영향 범위, 서비스 영향도, 시간대별 경과, 원인 유형, 처리 내역, 시정·예방 조치.

Only holders of the pack's `incidents.openers` roles write them (`_incidents.require_incident_role`); the
gate counts an incident for an emergency change only when its record shows the same. The grade follows
SOP INC: the system's, lowered by time (computed at `close`), region and service priority, at most two
grades. The incident's ID (`INC-…`, or `--id`) is what an emergency RFC names in `incident`.
"""

from __future__ import annotations

import argparse
import json
from typing import Any

from gatekeeper.commands import Context
from gatekeeper.commands._incidents import grade_of, known_incident, require_incident_role, system_incidents
from gatekeeper.commands._notify import notify
from gatekeeper.commands._options import parse_time
from gatekeeper.commands._records import draft, report_stored, store
from gatekeeper.domain.notification import incident_opened
from gatekeeper.domain.records import (
    CAUSE_TYPES,
    REGIONS,
    IncidentClosed,
    IncidentOpened,
    IncidentUpdated,
    entry_of,
)
from gatekeeper.errors import ExitCode, UsageError
from gatekeeper.ledger import LedgerReader
from gatekeeper.messages import msg, ptr, tr
from gatekeeper.reporters.sanitize import for_log

TYPES = ("service-outage", "service-delay", "service-malfunction", "internal", "external", "cyber")


def _corrections(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--region", choices=REGIONS, help="지역 보정: a nationwide service failing regionally"
    )
    parser.add_argument(
        "--service-priority",
        type=int,
        choices=range(1, 10),
        metavar="N",
        help="서비스 중요도 보정: the highest priority among the services affected (1 = most important)",
    )


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="incident_command", metavar="SUBCOMMAND", required=True)
    opened = sub.add_parser("open", help="record an incident (장애 인지/접수)")
    opened.add_argument("--title", required=True, help="제목 (장애명)")
    opened.add_argument("--type", choices=TYPES, default="service-outage", dest="incident_type")
    opened.add_argument("--id", dest="incident_id", help="the incident's ID (default: INC- and the record's)")
    opened.add_argument("--occurred-at", help="장애 발생일시 (ISO 8601 with offset; default: now)")
    opened.add_argument("--detected-at", help="장애 인지일시 (default: now)")
    opened.add_argument("--symptom", default="", help="장애 증상")
    opened.add_argument("--scope", default="", help="영향 범위")
    opened.add_argument("--impact", default="", dest="service_impact", help="서비스 영향도")
    opened.add_argument("--handler", default="", help="처리자")
    opened.add_argument("--rfc", nargs="*", default=[], help="related RFCs")
    _corrections(opened)
    update = sub.add_parser("update", help="record a step of the timeline or an intermediate report")
    update.add_argument("incident", metavar="ID")
    update.add_argument("--note", required=True, help="피해상황 및 대응조치 (시간대별 경과)")
    update.add_argument("--report", action="store_true", help="this was an intermediate report (중간보고)")
    update.add_argument("--symptom", default="", help="장애 증상")
    update.add_argument("--scope", default="", help="영향 범위")
    update.add_argument("--handler", default="", help="처리자")
    update.add_argument("--impact", default="", dest="service_impact", help="서비스 영향도")
    _corrections(update)
    close = sub.add_parser("close", help="record the resolution (장애 종료) and the report's findings")
    close.add_argument("incident", metavar="ID")
    close.add_argument("--resolved-at", help="복구 일시: service restored and confirmed (default: now)")
    close.add_argument(
        "--cause-type", required=True, choices=CAUSE_TYPES, help="원인 유형 (unknown: 원인 불명)"
    )
    close.add_argument("--cause", default="", help="원인 분석 결과")
    close.add_argument("--action", required=True, help="처리 내역")
    close.add_argument("--follow-up", default="", help="시정 및 예방 조치")
    close.add_argument("--note", default="")
    sub.add_parser("list", help="the system's incidents and their state")


def run(args: argparse.Namespace, ctx: Context) -> int:
    command = args.incident_command
    if command == "list":
        return _list(ctx)
    actor = require_incident_role(ctx)
    if command == "open":
        return _open(args, ctx, actor)
    if command == "update":
        return _update(args, ctx)
    return _close(args, ctx)


def _time(ctx: Context, text: str | None, option: str) -> Any:
    now = ctx.runtime.now()
    moment = now if text is None else parse_time(text, option)
    if moment > now:
        raise UsageError(
            msg("{option} {text} is in the future", option=option, text=text),
            hint=msg("give the time it happened"),
        )
    return moment


def _open(args: argparse.Namespace, ctx: Context, actor: str) -> int:
    import uuid

    occurred = _time(ctx, args.occurred_at, "--occurred-at")
    detected = _time(ctx, args.detected_at, "--detected-at")
    ident = (args.incident_id or f"INC-{uuid.uuid4().hex[:8]}").strip()
    if not ident or len(ident) > 100 or any(c.isspace() for c in ident):
        raise UsageError(
            msg("--id is empty, longer than 100 characters or holds spaces"), hint=msg("e.g. INC-2026-0007")
        )
    grade = grade_of(ctx, occurred, None, args.region or "", args.service_priority)
    payload = IncidentOpened(
        type=args.incident_type,
        grade=int(grade),
        title=args.title,
        system_grade=int(ctx.config.system.grade),
        occurred_at=occurred,
        detected_at=detected,
        handler=args.handler,
        owner=actor,
        incident_id=ident,
        symptom=args.symptom,
        scope=args.scope,
        service_impact=args.service_impact,
        region=args.region or "",
        service_priority=args.service_priority,
    )

    def unique(reader: LedgerReader) -> None:  # checked under the ledger's lock: an ID is given once
        for found in reader.find(kind=str(payload.KIND), system=ctx.config.system.id):
            if entry_of(found).payload.incident_id == ident:
                raise UsageError(
                    msg("incident {ident} exists already (record {seq})", ident=ident, seq=found.seq),
                    hint=msg("choose another --id, or update that incident"),
                )

    record = draft(ctx, str(payload.KIND), payload.dump(), tuple(args.rfc))
    stored = store(ctx, record, unique)
    code = report_stored(ctx, stored, tr(ctx.lang, "{ident}, grade {grade}", ident=ident, grade=int(grade)))
    if (
        "attestation" not in stored.data
        and ctx.policy.approvals.attestation_level(ctx.config.system.grade) == "required"
    ):
        # Recorded all the same (an incident is never lost), but nothing shows who opened it.
        ctx.runtime.stderr.write(
            "gatekeeper: warning: "
            + tr(
                ctx.lang,
                "incident {ident} was recorded without the CI platform's signature: no emergency change "
                "can answer for it (open it in a pipeline job that may request an OIDC token)",
                ident=ident,
            )
            + "\n"
        )
    notify(
        ctx,
        lambda: [
            incident_opened(
                system=stored.system,
                incident=ident,
                title=args.title,
                grade=int(grade),
                opened_by=stored.actor,
                record_hash=stored.hash,
                at=record.at,
                rfcs=stored.rfcs,
            )
        ],
    )
    return code


def _update(args: argparse.Namespace, ctx: Context) -> int:
    state = known_incident(ctx, args.incident)
    grade = None
    if args.region or args.service_priority:
        grade = int(grade_of(ctx, state.start, state.resolved_at, args.region or "", args.service_priority))
    payload = IncidentUpdated(
        incident=state.id,
        note=args.note,
        report=args.report,
        grade=grade,
        region=args.region or "",
        service_priority=args.service_priority,
        symptom=args.symptom,
        scope=args.scope,
        service_impact=args.service_impact,
        handler=args.handler,
    )
    stored = store(ctx, draft(ctx, str(payload.KIND), payload.dump(), state.rfcs))
    said = tr(ctx.lang, "{id} (intermediate report)", id=state.id) if args.report else state.id
    return report_stored(ctx, stored, said)


def _close(args: argparse.Namespace, ctx: Context) -> int:
    state = known_incident(ctx, args.incident)
    if state.closed is not None:
        raise UsageError(
            msg("incident {id} is closed already", id=state.id),
            hint=msg("record later findings with `incident update`"),
        )
    resolved = _time(ctx, args.resolved_at, "--resolved-at")
    if resolved < state.start:
        raise UsageError(
            msg(
                "--resolved-at is before the incident occurred ({start})",
                start=state.start.isoformat(),
            ),
            hint=msg("give the time service was restored and confirmed"),
        )
    region = str(state.latest("region") or "")
    priority = state.latest("service_priority") or None
    grade = grade_of(ctx, state.start, resolved, region, priority)
    payload = IncidentClosed(
        incident=state.id,
        resolved_at=resolved,
        grade=int(grade),
        cause_type=args.cause_type,
        cause=args.cause,
        action=args.action,
        follow_up=args.follow_up,
        note=args.note,
    )
    stored = store(ctx, draft(ctx, str(payload.KIND), payload.dump(), state.rfcs))
    summary = msg("{id} closed, grade {grade}", id=state.id, grade=int(grade))
    if args.cause_type == "unknown":
        summary = msg(
            "{id} closed, grade {grade}; cause unknown: register it with "
            "`gatekeeper problem open --incident {id}`",
            id=state.id,
            grade=int(grade),
        )
    return report_stored(ctx, stored, summary.said(ctx.lang))


def _list(ctx: Context) -> int:
    incidents = system_incidents(ctx)
    rows = [
        {
            "id": s.id,
            "title": s.opened.title,
            "grade": s.grade,
            "occurred_at": s.start.isoformat(),
            "resolved_at": s.resolved_at.isoformat() if s.resolved_at else None,
            "minutes": None if s.minutes is None else round(s.minutes, 1),
            "reports": len(s.reports),
            "closed": s.closed is not None,
            "problems": len(s.problems),
        }
        for s in incidents.by_id.values()
    ]
    if ctx.output_format == "json":
        ctx.out(json.dumps({"ok": True, "incidents": rows}, ensure_ascii=False, indent=2))
        return int(ExitCode.OK)
    if not rows:
        ctx.out(tr(ctx.lang, "no incidents recorded"))
    for row in rows:
        state = ptr(ctx.lang, "incident", "closed") if row["closed"] else ptr(ctx.lang, "incident", "open")
        minutes = "-" if row["minutes"] is None else f"{row['minutes']:g}"
        ctx.out(
            f"{for_log(str(row['id']))}  {state}  "
            + tr(ctx.lang, "grade {grade}  {minutes} min  ", grade=row["grade"], minutes=minutes)
            + for_log(str(row["title"]))
        )
    return int(ExitCode.OK)
