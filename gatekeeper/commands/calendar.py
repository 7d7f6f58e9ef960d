"""`gatekeeper calendar [--from D] [--to D] [--system ID ...|all] [-o FILE.html|FILE.ics]`.

The forward schedule of change (변경 일정): the active RFCs of this repository's store placed by their
requested times and windows, the days' business status, holidays and freezes, the deployments the ledger
records (of any system sharing it), and collisions as `calendar.collision` findings. What it reads is
described in `gatekeeper.checks.calendar`. Exit code: 0, or 1 when a collision is an error for the pack.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from gatekeeper.commands import Context
from gatekeeper.errors import UsageError
from gatekeeper.messages import msg, tr

DEFAULT_DAYS = 42
# The ledger's deployments are read from this far before the period: the systems that deploy are known.
LEDGER_LOOKBACK = timedelta(days=366)


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--from", dest="start", help="first day (YYYY-MM-DD, local) or time with offset; default: today"
    )
    parser.add_argument(
        "--to", dest="end", help=f"last day, inclusive (YYYY-MM-DD); default: {DEFAULT_DAYS} days on"
    )
    parser.add_argument(
        "--system",
        action="extend",
        nargs="+",
        default=[],
        metavar="ID",
        help="the systems to show (repeatable), or `all`; default: this configuration's system",
    )
    parser.add_argument(
        "-o", "--output", metavar="FILE", help="write an HTML month view (.html) or iCalendar (.ics)"
    )


def _period(args: argparse.Namespace, zone: ZoneInfo, now: datetime) -> tuple[datetime, datetime]:
    from gatekeeper.checks.calendar import MAX_DAYS
    from gatekeeper.commands._options import parse_time

    start = (
        parse_time(args.start, "--from", zone=zone)
        if args.start
        else datetime.combine(now.astimezone(zone).date(), time(), zone)
    )
    end = (
        parse_time(args.end, "--to", zone=zone, end=True)
        if args.end
        else datetime.combine(start.astimezone(zone).date() + timedelta(days=DEFAULT_DAYS), time(), zone)
    )
    if end <= start:
        raise UsageError(
            msg(
                "--to {end!r} is not after --from {start!r}",
                end=args.end,
                start=args.start or start.date().isoformat(),
            ),
            hint=msg("give a --to on or after the --from day, or swap the two"),
        )
    if end - start > timedelta(days=MAX_DAYS):
        raise UsageError(
            msg("the period --from .. --to is longer than {MAX_DAYS} days", MAX_DAYS=MAX_DAYS),
            hint=msg("ask for at most {MAX_DAYS} days at a time", MAX_DAYS=MAX_DAYS),
        )
    return start, end


def _deployments(ctx: Context, start: datetime, end: datetime) -> list[object]:
    from gatekeeper.checks.calendar import Deployment
    from gatekeeper.ledger.backends import open_ledger

    ledger = open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)
    try:
        started = list(ledger.find(kind="deployment.started", since=start - LEDGER_LOOKBACK, until=end))
        finished = {
            str(r.data.get("started", "")): r
            for r in ledger.find(kind="deployment.finished", since=start - LEDGER_LOOKBACK)
        }
    finally:
        ledger.close()
    out: list[object] = []
    for record in started:
        done = finished.get(record.id)
        out.append(
            Deployment(
                record.id,
                record.system,
                record.rfcs,
                datetime.fromisoformat(record.at),
                datetime.fromisoformat(done.at) if done is not None else None,
                str(done.data.get("result", "")) if done is not None else "in-progress",
            )
        )
    return out


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.adapters.rfcstore import open_store
    from gatekeeper.checks.calendar import Deployment, as_dict, build, known_systems
    from gatekeeper.domain import Grade
    from gatekeeper.domain.calendar import BusinessCalendar
    from gatekeeper.reporters.change_calendar import render_html, render_ics, render_text

    config, policy = ctx.config, ctx.policy
    zone = ZoneInfo(config.timezone)
    output = ctx.runtime.cwd / Path(args.output) if args.output else None
    if output is not None and output.suffix.lower() not in (".html", ".htm", ".ics"):
        raise UsageError(
            msg("-o {output!r}: the file name ends in neither .html nor .ics", output=args.output),
            hint=msg("name an HTML month view FILE.html or an iCalendar file FILE.ics"),
        )
    start, end = _period(args, zone, ctx.runtime.now())
    rfcs = [
        (e.id, e.rfc)
        for e in open_store(ctx.repo_root, config, ctx.runtime.env).entries()
        if e.rfc is not None
    ]
    deployments = [d for d in _deployments(ctx, start, end) if isinstance(d, Deployment)]
    known = known_systems(config.system.id, rfcs, deployments)
    asked = list(dict.fromkeys(args.system)) or [config.system.id]
    systems = None if "all" in asked else frozenset(asked)
    unknown = sorted((systems or frozenset()) - set(known))
    if unknown:
        raise UsageError(
            msg(
                "--system {unknown}: no such system in this configuration, its RFCs or its ledger",
                unknown=", ".join(unknown),
            ),
            hint=msg("name one of {known}, or `all`", known=", ".join(known)),
        )
    cal = build(
        rfcs=rfcs,
        deployments=deployments,
        calendar=BusinessCalendar.from_config(config, policy),
        policy=policy,
        grade=Grade(config.system.grade),
        start=start,
        end=end,
        systems=systems,
        known=known,
        lang=ctx.lang,
    )
    if output is not None:
        if output.suffix.lower() == ".ics":
            output.write_bytes(render_ics(cal, ctx.runtime.now()))
        else:
            output.write_text(render_html(cal, ctx.lang), encoding="utf-8")
    if ctx.output_format == "json":
        ctx.out(json.dumps(as_dict(cal), ensure_ascii=False, indent=2))
    else:
        ctx.runtime.stdout.write(render_text(cal, ctx.lang))
        if output is not None:
            ctx.out(tr(ctx.lang, "wrote {path}", path=output))
    return 0 if cal.ok else 1
