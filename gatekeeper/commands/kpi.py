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
from zoneinfo import ZoneInfo

from gatekeeper.checks.kpi import KpiReport, KpiValue
from gatekeeper.commands import Context
from gatekeeper.commands._kpi import kpi_report
from gatekeeper.commands._options import add_period, period
from gatekeeper.messages import in_language, ptr, tr
from gatekeeper.reporters.columns import pad
from gatekeeper.reporters.portfolio import KpiPortfolio
from gatekeeper.reporters.sanitize import for_markdown


def configure(parser: argparse.ArgumentParser) -> None:
    from gatekeeper.commands._portfolio import add_system_option

    add_period(parser)
    add_system_option(parser)
    parser.add_argument("--csv", action="store_true", help="print CSV (one row per system, month and KPI)")


# ------------------------------------------------------------------------------------------ rendering


def _value(value: KpiValue) -> str:
    if value.value is None:
        return "-"
    number = (
        f"{value.value:g}" if value.unit == "deployments" else f"{value.value:.2f}".rstrip("0").rstrip(".")
    )
    return f"{number} {value.unit}" if value.unit != "deployments" else number


def _status(value: KpiValue, lang: str) -> str:
    if value.met is None:
        return ptr(lang, "kpi", "measured") if value.target is None else ptr(lang, "kpi", "no data")
    return ptr(lang, "kpi", "met") if value.met else ptr(lang, "kpi", "NOT MET")


def render_text(result: KpiReport, lang: str, zone: ZoneInfo) -> str:
    from gatekeeper.reporters.period import period_text

    shown = period_text(result.since, result.until, zone, lang)
    lines = [tr(lang, "KPI — {system} ({period})", system=result.system, period=shown)]
    for value in result.kpis:
        target = value.target or "-"
        fraction = (
            f"  ({value.numerator:g}/{value.denominator:g})"
            if value.numerator is not None and value.denominator and value.unit == "%"
            else ""
        )
        lines.append(
            f"  {pad(value.label(lang), 36)} {_value(value):>12}  {target:>7}  "
            f"{pad(_status(value, lang), 8)} [{value.sop}]{fraction}"
        )
    lines += [f"  {line}" for line in unverified_lines(result, lang)]
    return "\n".join(lines) + "\n"


def unverified_lines(result: KpiReport, lang: str) -> list[str]:
    """The deployment results the KPIs did not count because no CI job is shown to have written them
    (`KpiReport.unverified`): a heading and one line each."""
    if not result.unverified:
        return []
    head = tr(
        lang, "{count} deployment result(s) are unverified and count in no KPI:", count=len(result.unverified)
    )
    return [head] + [
        f"- seq {u.seq} ({u.deployment}): {in_language(lang, *u.reasons)}" for u in result.unverified
    ]


def render_markdown(result: KpiReport, lang: str, zone: ZoneInfo) -> str:
    from gatekeeper.reporters.period import period_text

    shown = period_text(result.since, result.until, zone, lang)
    head = [
        ptr(lang, "kpi table", "KPI"),
        ptr(lang, "kpi table", "Value"),
        ptr(lang, "kpi table", "Target"),
        ptr(lang, "kpi table", "Status"),
        "SOP",
        ptr(lang, "kpi table", "n/d"),
    ]
    lines = [
        tr(lang, "### KPIs: {system} ({period})", system=for_markdown(result.system), period=shown),
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
    unverified = unverified_lines(result, lang)
    if unverified:  # the heading, then a list whose items are untrusted text (the records' ids)
        lines += ["", for_markdown(unverified[0]), ""]
        lines += [f"- {for_markdown(line.removeprefix('- '))}" for line in unverified[1:]]
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


def portfolio_csv(portfolio: KpiPortfolio) -> str:
    """`render_csv` of each system, then the totals over all of them (system empty)."""
    out = [render_csv(report) for _info, report in portfolio.rows]
    rows = render_csv(portfolio.total).splitlines(keepends=True)
    header = rows[0]
    totals = [row for row in rows[1:] if row.startswith(",total,")]
    return header + "".join("".join(text.splitlines(keepends=True)[1:]) for text in out) + "".join(totals)


def _run_portfolio(args: argparse.Namespace, ctx: Context) -> int:
    """`kpi --system ...`: a row per system and the totals over them."""
    from gatekeeper.commands._kpi import kpi_portfolio
    from gatekeeper.commands._portfolio import select
    from gatekeeper.ledger.backends import open_ledger
    from gatekeeper.reporters.portfolio import kpi_markdown, kpi_text

    since, until = period(args, ctx.config)
    zone = ZoneInfo(ctx.config.timezone)
    ledger = open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)
    try:
        members = select(ctx.config, ledger, args.system)
        portfolio = kpi_portfolio(ctx, members, since, until, ledger)
    finally:
        ledger.close()
    if args.csv:
        ctx.runtime.stdout.write(portfolio_csv(portfolio))
    elif ctx.output_format == "json":
        ctx.out(json.dumps(portfolio.as_dict(), ensure_ascii=False, indent=2))
    elif ctx.output_format == "markdown":
        ctx.out(kpi_markdown(portfolio, ctx.lang, zone))
    else:
        ctx.runtime.stdout.write(kpi_text(portfolio, ctx.lang, zone))
    return 0 if portfolio.ok else 1


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.ledger.backends import open_ledger

    if args.system:
        return _run_portfolio(args, ctx)
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
        ctx.out(render_markdown(result, ctx.lang, ZoneInfo(ctx.config.timezone)))
    else:
        ctx.runtime.stdout.write(render_text(result, ctx.lang, ZoneInfo(ctx.config.timezone)))
    return 0 if result.ok else 1
