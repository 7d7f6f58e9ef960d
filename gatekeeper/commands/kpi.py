"""`gatekeeper kpi [--since D] [--until D] [--csv]`: SOP KPIs and DORA keys per system and month.

SQLite and PostgreSQL ledgers are aggregated inside the database (`gatekeeper.ledger.sql_read`); the git
ledger is
streamed record by record through `gatekeeper.checks.kpi.TallyBuilder`.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
from collections.abc import Callable, Mapping
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from gatekeeper.checks.kpi import KpiReport, KpiValue, Tally, report, sql_tallies, tallies_from_records
from gatekeeper.commands import Context
from gatekeeper.config import Config
from gatekeeper.errors import UsageError
from gatekeeper.ledger import LedgerReader
from gatekeeper.reporters.sanitize import for_markdown


def add_period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", help="first day (YYYY-MM-DD, local) or time with offset; default: all")
    parser.add_argument("--until", help="last day, inclusive (YYYY-MM-DD), or an exclusive time with offset")


def configure(parser: argparse.ArgumentParser) -> None:
    add_period(parser)
    parser.add_argument("--csv", action="store_true", help="print CSV (one row per system, month and KPI)")


def parse_moment(text: str | None, zone: ZoneInfo, *, end: bool, option: str) -> datetime | None:
    """A date (local midnight; for --until the next midnight, so the day is included) or an aware time."""
    from gatekeeper.commands.options import parse_time

    return None if text is None else parse_time(text, option, zone=zone, end=end)


def period(args: argparse.Namespace, config: Config) -> tuple[datetime | None, datetime | None]:
    zone = ZoneInfo(config.timezone)
    since = parse_moment(args.since, zone, end=False, option="--since")
    until = parse_moment(args.until, zone, end=True, option="--until")
    if since is not None and until is not None and until <= since:
        raise UsageError("--until is not after --since", hint="swap the two dates")
    return since, until


def requested_dates(ctx: Context) -> dict[str, datetime]:
    """RFC id -> requested date/time, for the change on-time rate. Unreadable RFCs are skipped here (the
    `rfc validate` command and the gate report them)."""
    from gatekeeper.adapters.rfcstore import open_store

    out: dict[str, datetime] = {}
    for entry in open_store(ctx.repo_root, ctx.config, ctx.runtime.env).entries():
        if entry.rfc is not None and entry.rfc.schedule.requested_at is not None:
            out[entry.id] = entry.rfc.schedule.requested_at
    return out


def commit_times(root: Path) -> Callable[[str], datetime | None]:
    """sha -> committer time, read lazily from one `git log` over all commits when first asked."""
    table: dict[str, datetime] = {}
    loaded = False

    def lookup(sha: str) -> datetime | None:
        nonlocal loaded
        if not loaded:
            loaded = True
            from gatekeeper.adapters.git import git
            from gatekeeper.errors import GitError

            try:
                text = git(root, "log", "--all", "--format=%H %cI")
            except GitError:
                return None
            for line in text.splitlines():
                full, _, stamp = line.partition(" ")
                table[full] = datetime.fromisoformat(stamp)
        found = table.get(sha.lower())
        if found is None and len(sha) >= 7:
            found = next((v for k, v in table.items() if k.startswith(sha.lower())), None)
        return found

    return lookup


def compute(
    ledger: LedgerReader,
    config: Config,
    since: datetime | None,
    until: datetime | None,
    *,
    due: Mapping[str, datetime] | None = None,
    commit_time: Callable[[str], datetime | None] | None = None,
) -> dict[tuple[str, str], Tally]:
    """Tallies of this system: in the database for SQL backends, streamed otherwise."""

    zone = ZoneInfo(config.timezone)
    system = config.system.id
    tallies = sql_tallies(
        ledger, zone, system=system, since=since, until=until, due=due, commit_time=commit_time
    )
    if tallies is None:
        records = ledger.find(system=config.system.id, until=until)
        tallies = tallies_from_records(
            records, zone, since=since, until=until, due=due, commit_time=commit_time or (lambda _s: None)
        )
    return {key: tally for key, tally in tallies.items() if key[0] == config.system.id}


def kpi_report(
    ctx: Context, since: datetime | None, until: datetime | None, ledger: LedgerReader
) -> KpiReport:
    tallies = compute(
        ledger, ctx.config, since, until, due=requested_dates(ctx), commit_time=commit_times(ctx.repo_root)
    )
    return report(tallies, ctx.policy, system=ctx.config.system.id, since=since, until=until)


# ------------------------------------------------------------------------------------------ rendering


def _value(value: KpiValue) -> str:
    if value.value is None:
        return "-"
    number = (
        f"{value.value:g}" if value.unit == "deployments" else f"{value.value:.2f}".rstrip("0").rstrip(".")
    )
    return f"{number} {value.unit}" if value.unit != "deployments" else number


def _status(value: KpiValue, lang: str) -> str:
    ko = lang == "ko"
    if value.met is None:
        return ("측정" if ko else "measured") if value.target is None else ("자료 없음" if ko else "no data")
    return ("달성" if ko else "met") if value.met else ("미달" if ko else "NOT MET")


def render_text(result: KpiReport, lang: str) -> str:
    ko = lang == "ko"
    since = result.since.isoformat(timespec="minutes") if result.since else "…"
    until = result.until.isoformat(timespec="minutes") if result.until else "…"
    lines = [f"{'KPI' if not ko else '성과지표'} — {result.system} ({since} ≤ t < {until})"]
    for value in result.kpis:
        target = value.target or "-"
        fraction = (
            f"  ({value.numerator:g}/{value.denominator:g})"
            if value.numerator is not None and value.denominator and value.unit == "%"
            else ""
        )
        lines.append(
            f"  {value.label(lang):<36} {_value(value):>12}  {target:>7}  {_status(value, lang):<8} "
            f"[{value.sop}]{fraction}"
        )
    return "\n".join(lines) + "\n"


def render_markdown(result: KpiReport, lang: str) -> str:
    ko = lang == "ko"
    head = (
        ["지표", "값", "목표", "판정", "SOP", "분자/분모"]
        if ko
        else ["KPI", "Value", "Target", "Status", "SOP", "n/d"]
    )
    lines = [
        f"### {'성과지표' if ko else 'KPIs'}: {for_markdown(result.system)}",
        "",
        "| " + " | ".join(head) + " |",
        "|---|---:|---:|---|---|---:|",
    ]
    for value in result.kpis:
        fraction = (
            f"{value.numerator:g}/{value.denominator:g}"
            if value.numerator is not None and value.denominator is not None
            else ""
        )
        status = _status(value, lang)
        mark = "✅ " if value.met else "⛔ " if value.met is False else ""
        lines.append(
            f"| {value.label(lang)} | {_value(value)} | {value.target or '-'} | {mark}{status} | {value.sop} "
            f"| {fraction} |"
        )
    return "\n".join(lines) + "\n"


def render_csv(result: KpiReport) -> str:
    from gatekeeper.checks.kpi import iter_month_rows

    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(
        ["system", "month", "kpi", "value", "unit", "target", "met", "sop", "numerator", "denominator"]
    )
    for system, month, value in iter_month_rows(result):
        writer.writerow(
            [
                system,
                month,
                value.id,
                "" if value.value is None else value.value,
                value.unit,
                value.target or "",
                "" if value.met is None else str(value.met).lower(),
                value.sop,
                "" if value.numerator is None else value.numerator,
                "" if value.denominator is None else value.denominator,
            ]
        )
    return out.getvalue()


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.ledger.backends import open_ledger

    since, until = period(args, ctx.config)
    ledger = open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)
    try:
        result = kpi_report(ctx, since, until, ledger)
    finally:
        ledger.close()
    if args.csv:
        ctx.runtime.stdout.write(render_csv(result))
    elif ctx.output_format == "json":
        ctx.out(json.dumps(result.as_dict(), ensure_ascii=False, indent=2))
    elif ctx.output_format == "markdown":
        ctx.out(render_markdown(result, ctx.lang))
    else:
        ctx.runtime.stdout.write(render_text(result, ctx.lang))
    return 0 if result.ok else 1
