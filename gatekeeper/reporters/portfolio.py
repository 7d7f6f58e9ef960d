"""The organisation report: many systems of one ledger side by side (`audit` and `kpi` with `--system`).

Each system's checklist and KPIs are the single-system ones (`checks.audit`, `checks.kpi`), computed on
its own records; this module only lays them out: a row per system and totals, the systems × checklist
items grid of 적합/부적합, the KPIs per system with their monthly trend, and the overdue debts (PIRs,
after-the-fact reviews, incident reports, problem records) across systems. Text, Markdown, JSON and one
self-contained HTML page (`templates/report/portfolio.html.j2`, autoescaped). System ids are the ledger's
text — a record can name any system — so every one is escaped for the medium it is shown in.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from gatekeeper import __version__
from gatekeeper.checks.audit import CONFORM, DEBTS, ITEMS, NONCONFORM, NOT_APPLICABLE, AuditResult
from gatekeeper.checks.kpi import KpiReport, KpiValue
from gatekeeper.messages import ptr
from gatekeeper.reporters.columns import pad
from gatekeeper.reporters.period import period_text
from gatekeeper.reporters.sanitize import for_log, for_markdown

MAX_EVIDENCE = 50
# The KPIs of the per-system table (all of them are in the JSON): the SOP's release figures and DORA's.
KEY_KPIS = (
    "deployment-success-rate",
    "deployment-failure-rate",
    "change-failure-rate",
    "mttr-minutes",
    "lead-time-hours",
    "deployment-frequency",
    "test-success-rate",
)
MARKS = {CONFORM: "✓", NONCONFORM: "✗", NOT_APPLICABLE: "-"}


def _w(lang: str) -> dict[str, str]:
    """The report's headings and words in `lang` (the HTML template reads them as `w`; `systems` is a
    template it fills in itself, said here without its field)."""
    return {
        "title": ptr(lang, "organisation report", "Organisation SOP audit"),
        "kpi-title": ptr(lang, "organisation report", "Organisation KPIs"),
        "systems": ptr(lang, "organisation report", "{n} systems"),
        "system": ptr(lang, "organisation report", "System"),
        "name": ptr(lang, "organisation report", "Name"),
        "grade": ptr(lang, "organisation report", "Grade"),
        "period": ptr(lang, "organisation report", "Period"),
        "generated": ptr(lang, "organisation report", "Generated"),
        "conform": ptr(lang, "organisation report", "conform"),
        "nonconform": ptr(lang, "organisation report", "NONCONFORM"),
        "not-applicable": ptr(lang, "organisation report", "n/a"),
        "verdict": ptr(lang, "organisation report", "Verdict"),
        "total": ptr(lang, "organisation report", "Total"),
        "grid": ptr(lang, "organisation report", "Checklist items by system"),
        "items": ptr(lang, "organisation report", "Items"),
        "legend": ptr(lang, "organisation report", "Items"),
        "unregistered": ptr(
            lang, "organisation report", "* not in the `systems:` registry: judged as grade 1, the strictest"
        ),
        "debts": ptr(lang, "organisation report", "Overdue debts across systems"),
        "no-debts": ptr(lang, "organisation report", "No overdue debts."),
        "item": ptr(lang, "organisation report", "Item"),
        "evidence": ptr(lang, "organisation report", "Evidence"),
        "note": ptr(lang, "organisation report", "Why"),
        "kpis": ptr(lang, "organisation report", "KPIs by system"),
        "trends": ptr(lang, "organisation report", "Monthly deployments and success rate by system"),
        "month": ptr(lang, "organisation report", "Month"),
        "none": ptr(lang, "organisation report", "No system has records in the ledger."),
        "met": ptr(lang, "organisation report", "met"),
        "unmet": ptr(lang, "organisation report", "not met"),
        "nodata": ptr(lang, "organisation report", "no data"),
        "measured": ptr(lang, "organisation report", "measured"),
    }


def _cells(lang: str) -> dict[str, str]:
    """What a cell of the HTML grid shows (the whole word is its tooltip): marks in English, whose words
    would not fit twenty-five columns on a page; the catalogue's Korean is the word itself (적합/부적합)."""
    return {
        CONFORM: ptr(lang, "organisation report: grid cell", "✓"),
        NONCONFORM: ptr(lang, "organisation report: grid cell", "✗"),
        NOT_APPLICABLE: "–",
    }


def _sum(lang: str, counts: dict[str, int], bad: int, systems: int) -> str:
    return ptr(
        lang,
        "organisation report",
        "{c} conform, {n} nonconform, {a} n/a; {bad} of {all} systems nonconform",
        c=counts[CONFORM],
        n=counts[NONCONFORM],
        a=counts[NOT_APPLICABLE],
        bad=bad,
        all=systems,
    )


@dataclass(frozen=True)
class SystemInfo:
    """A system of the portfolio as the configuration describes it."""

    id: str
    name: str
    grade: int
    registered: bool  # grade and roles from the configuration; else judged as grade 1
    own: bool  # this configuration's own system

    def as_dict(self) -> dict[str, Any]:
        return {"name": self.name, "grade": self.grade, "registered": self.registered}


@dataclass(frozen=True)
class Debt:
    system: str
    item: str
    evidence: str
    note: str

    def as_dict(self) -> dict[str, str]:
        return {"system": self.system, "item": self.item, "evidence": self.evidence, "note": self.note}


@dataclass(frozen=True)
class AuditPortfolio:
    since: datetime | None
    until: datetime | None
    rows: tuple[tuple[SystemInfo, AuditResult], ...]

    @property
    def ok(self) -> bool:
        return all(result.ok for _, result in self.rows)

    def counts(self) -> dict[str, int]:
        out = {CONFORM: 0, NONCONFORM: 0, NOT_APPLICABLE: 0}
        for _, result in self.rows:
            for key, value in result.counts().items():
                out[key] += value
        return out

    def item_results(self) -> list[dict[str, Any]]:
        """Each checklist item over every system: nonconform where one system is, evidence `system:ref`."""
        out = []
        for item_id, (area, _sop, asked) in ITEMS.items():
            question = asked.en
            bad: list[str] = []
            good: list[str] = []
            for info, result in self.rows:
                item = next(i for i in result.items if i.id == item_id)
                refs = [f"{info.id}:{ref}" for ref in item.evidence]
                (bad if item.result == NONCONFORM else good if item.result == CONFORM else []).extend(refs)
                question = item.question
            results = [next(i for i in r.items if i.id == item_id).result for _, r in self.rows]
            verdict = (
                NONCONFORM if NONCONFORM in results else CONFORM if CONFORM in results else NOT_APPLICABLE
            )
            evidence = (bad if verdict == NONCONFORM else good)[:MAX_EVIDENCE]
            out.append(
                {
                    "id": item_id,
                    "area": area,
                    "question": question,
                    "result": verdict,
                    "evidence": evidence,
                }
            )
        return out

    def debts(self) -> list[Debt]:
        out: list[Debt] = []
        for info, result in self.rows:
            for item in result.items:
                if item.id in DEBTS and item.result == NONCONFORM:
                    out.extend(
                        Debt(info.id, item.id, ref, note)
                        for ref, note in zip(item.evidence, item.notes, strict=False)
                    )
        return out

    def as_dict(self) -> dict[str, Any]:
        bad = sum(not result.ok for _, result in self.rows)
        return {
            "ok": self.ok,
            "system": None,
            "period": {
                "since": self.since.isoformat() if self.since else None,
                "until": self.until.isoformat() if self.until else None,
            },
            "summary": self.counts(),
            "items": self.item_results(),
            "systems": [{**result.as_dict(), **info.as_dict()} for info, result in self.rows],
            "totals": {"systems": len(self.rows), "nonconform": bad, "conform": len(self.rows) - bad},
            "debts": [d.as_dict() for d in self.debts()],
        }


@dataclass(frozen=True)
class KpiPortfolio:
    since: datetime | None
    until: datetime | None
    rows: tuple[tuple[SystemInfo, KpiReport], ...]
    total: KpiReport  # every system's tallies summed; its months are per system

    @property
    def ok(self) -> bool:
        return all(report.ok for _, report in self.rows)

    def as_dict(self) -> dict[str, Any]:
        body = self.total.as_dict()
        body["ok"] = self.ok
        body["system"] = None
        body["systems"] = [{**report.as_dict(), **info.as_dict()} for info, report in self.rows]
        return body


# ------------------------------------------------------------------------------------------ text


def _system_cell(info: SystemInfo) -> str:
    return for_log(info.id, limit=60) + ("" if info.registered else "*")


def _grid(result: AuditResult) -> str:
    marks = "".join(MARKS[i.result] for i in result.items)
    return " ".join(marks[i : i + 5] for i in range(0, len(marks), 5))


def _legend(lang: str) -> list[str]:
    return [f"{n:>2} {item_id}" for n, item_id in enumerate(ITEMS, start=1)]


def _notes(portfolio: AuditPortfolio, lang: str) -> list[str]:
    w = _w(lang)
    lines = []
    if any(not info.registered for info, _ in portfolio.rows):
        lines.append(w["unregistered"])
    own = [info for info, _ in portfolio.rows if info.own]
    if len(portfolio.rows) > len(own):
        lines.append(
            ptr(
                lang,
                "organisation report",
                "configuration.commit-rfc and configuration.baseline are answered for {own} only "
                "(its repository); for the other systems in their own repositories",
                own=for_log(own[0].id) if own else "-",
            )
        )
    return lines


def audit_text(portfolio: AuditPortfolio, lang: str, zone: ZoneInfo) -> str:
    w = _w(lang)
    counts = portfolio.counts()
    bad = sum(not r.ok for _, r in portfolio.rows)
    lines = [
        f"{w['title']} — {w['systems'].format(n=len(portfolio.rows))} "
        f"({period_text(portfolio.since, portfolio.until, zone, lang)})"
    ]
    if not portfolio.rows:
        return "\n".join([*lines, w["none"]]) + "\n"
    width = max(12, *(len(_system_cell(i)) for i, _ in portfolio.rows))
    numbers = " ".join(
        "".join(str(n % 10) for n in range(i + 1, min(i + 6, len(ITEMS) + 1)))
        for i in range(0, len(ITEMS), 5)
    )
    lines.append(
        f"  {pad(w['system'], width)} {pad(w['grade'], 4)} {pad(w['conform'], 6, right=True)} "
        f"{pad(w['nonconform'], 10, right=True)} {pad(w['not-applicable'], 8, right=True)}  "
        f"{pad(w['verdict'], 10)} {numbers}"
    )
    for info, result in portfolio.rows:
        c = result.counts()
        verdict = w[CONFORM] if result.ok else w[NONCONFORM]
        lines.append(
            f"  {pad(_system_cell(info), width)} {pad(str(info.grade), 4)} {c[CONFORM]:>6} "
            f"{c[NONCONFORM]:>10} {c[NOT_APPLICABLE]:>8}  {pad(verdict, 10)} {_grid(result)}"
        )
    lines.append(
        f"  {pad(w['total'], width)} {'':4} {counts[CONFORM]:>6} {counts[NONCONFORM]:>10} "
        f"{counts[NOT_APPLICABLE]:>8}  {w[CONFORM] if portfolio.ok else w[NONCONFORM]}"
    )
    lines.append(_sum(lang, counts, bad, len(portfolio.rows)))
    lines.append(f"{w['legend']} (✓ {w[CONFORM]}, ✗ {w[NONCONFORM]}, - {w[NOT_APPLICABLE]}):")
    lines += ["  " + line for line in _legend(lang)]
    lines += _notes(portfolio, lang)
    lines.append(w["debts"])
    debts = portfolio.debts()
    if not debts:
        lines.append("  " + w["no-debts"])
    for debt in debts:
        lines.append(
            f"  {for_log(debt.system, limit=60)}  {debt.item}  {for_log(debt.evidence)}: {for_log(debt.note)}"
        )
    return "\n".join(lines) + "\n"


def audit_markdown(portfolio: AuditPortfolio, lang: str, zone: ZoneInfo) -> str:
    w = _w(lang)
    counts = portfolio.counts()
    bad = sum(not r.ok for _, r in portfolio.rows)
    lines = [
        f"### {w['title']}: {w['systems'].format(n=len(portfolio.rows))} "
        f"({period_text(portfolio.since, portfolio.until, zone, lang)})",
        "",
    ]
    if not portfolio.rows:
        return "\n".join([*lines, w["none"]]) + "\n"
    numbers = list(range(1, len(ITEMS) + 1))
    head = [w["system"], w["grade"], w["conform"], w["nonconform"], w["not-applicable"], w["verdict"]]
    lines += [
        "| " + " | ".join(head + [str(n) for n in numbers]) + " |",
        "|---|---:|---:|---:|---:|---|" + "---|" * len(numbers),
    ]
    emoji = {CONFORM: "✅", NONCONFORM: "⛔", NOT_APPLICABLE: "➖"}
    for info, result in portfolio.rows:
        c = result.counts()
        cells = [emoji[i.result] for i in result.items]
        verdict = f"{emoji[CONFORM]} {w[CONFORM]}" if result.ok else f"{emoji[NONCONFORM]} {w[NONCONFORM]}"
        name = for_markdown(info.id) + ("" if info.registered else "\\*")
        lines.append(
            f"| `{name}` | {info.grade} | {c[CONFORM]} | {c[NONCONFORM]} | {c[NOT_APPLICABLE]} | {verdict} | "
            + " | ".join(cells)
            + " |"
        )
    lines.append(
        f"| **{w['total']}** | | {counts[CONFORM]} | {counts[NONCONFORM]} | {counts[NOT_APPLICABLE]} | "
        f"{w[CONFORM] if portfolio.ok else w[NONCONFORM]} |" + " |" * len(numbers)
    )
    lines += [
        "",
        _sum(lang, counts, bad, len(portfolio.rows)),
        "",
        f"{w['legend']}: " + ", ".join(f"{n} `{item_id}`" for n, item_id in enumerate(ITEMS, start=1)),
    ]
    notes = _notes(portfolio, lang)
    if notes:
        lines += ["", *(for_markdown(n) for n in notes)]
    lines += ["", f"#### {w['debts']}", ""]
    debts = portfolio.debts()
    if not debts:
        lines.append(w["no-debts"])
    else:
        lines += [f"| {w['system']} | {w['item']} | {w['evidence']} | {w['note']} |", "|---|---|---|---|"]
        lines += [
            f"| `{for_markdown(d.system)}` | {d.item} | `{for_markdown(d.evidence)}` "
            f"| {for_markdown(d.note)} |"
            for d in debts
        ]
    return "\n".join(lines) + "\n"


def _kpi(report: KpiReport, kpi_id: str) -> KpiValue:
    return next(v for v in report.kpis if v.id == kpi_id)


def kpi_cell(value: KpiValue) -> str:
    if value.value is None:
        return "-"
    mark = "" if value.met is not False else "!"
    return f"{value.value:g}{mark}"


def kpi_text(portfolio: KpiPortfolio, lang: str, zone: ZoneInfo) -> str:
    w = _w(lang)
    lines = [
        f"{w['kpi-title']} — {w['systems'].format(n=len(portfolio.rows))} "
        f"({period_text(portfolio.since, portfolio.until, zone, lang)})"
    ]
    width = max(12, *(len(_system_cell(i)) for i, _ in portfolio.rows)) if portfolio.rows else 12
    lines.append(f"  {pad(w['system'], width)} " + " ".join(f"{n:>7}" for n in range(1, len(KEY_KPIS) + 1)))
    for info, report in (*portfolio.rows, (None, portfolio.total)):
        name = w["total"] if info is None else _system_cell(info)
        cells = " ".join(f"{kpi_cell(_kpi(report, k)):>7}" for k in KEY_KPIS)
        lines.append(f"  {pad(name, width)} {cells}")
    lines.append(ptr(lang, "organisation report", "! target not met:"))
    for n, kpi_id in enumerate(KEY_KPIS, start=1):
        value = _kpi(portfolio.total, kpi_id)
        lines.append(f"  {n} {value.label(lang)} ({value.unit}; {value.target or '-'})")
    if any(not info.registered for info, _ in portfolio.rows):
        lines.append(w["unregistered"])
    return "\n".join(lines) + "\n"


def kpi_markdown(portfolio: KpiPortfolio, lang: str, zone: ZoneInfo) -> str:
    w = _w(lang)
    labels = [_kpi(portfolio.total, k).label(lang) for k in KEY_KPIS]
    lines = [
        f"### {w['kpi-title']}: {w['systems'].format(n=len(portfolio.rows))} "
        f"({period_text(portfolio.since, portfolio.until, zone, lang)})",
        "",
        "| " + " | ".join([w["system"], *labels]) + " |",
        "|---|" + "---:|" * len(labels),
    ]
    for info, report in (*portfolio.rows, (None, portfolio.total)):
        name = (
            f"**{w['total']}**"
            if info is None
            else f"`{for_markdown(info.id)}`" + ("" if info.registered else "\\*")
        )
        cells = []
        for k in KEY_KPIS:
            value = _kpi(report, k)
            mark = "⛔ " if value.met is False else ""
            cells.append(mark + kpi_cell(value).rstrip("!"))
        lines.append("| " + " | ".join([name, *cells]) + " |")
    targets = ", ".join(
        f"{_kpi(portfolio.total, k).label(lang)} {_kpi(portfolio.total, k).target or '-'}" for k in KEY_KPIS
    )
    lines += ["", ptr(lang, "organisation report", "Targets: {targets}", targets=targets)]
    if any(not info.registered for info, _ in portfolio.rows):
        lines += ["", for_markdown(w["unregistered"])]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------------------ HTML


@dataclass(frozen=True)
class TrendRow:
    system: str
    registered: bool
    cells: tuple[str, ...]  # per month: "deployments · success %"


def _trends(portfolio: KpiPortfolio) -> tuple[tuple[str, ...], tuple[TrendRow, ...]]:
    """The last twelve months with deployments in any system, and each system's figures in them."""
    months = sorted({month for _s, month, _v in portfolio.total.months})[-12:]
    rows = []
    for info, report in portfolio.rows:
        by_month = {month: values for system, month, values in report.months if system == info.id}
        cells = []
        for month in months:
            values = by_month.get(month)
            if values is None:
                cells.append("")
                continue
            rate = next(v for v in values if v.id == "deployment-success-rate")
            shown = "–" if rate.value is None else f"{rate.value:g}%"
            cells.append(f"{rate.denominator or 0:g} · {shown}")
        rows.append(TrendRow(info.id, info.registered, tuple(cells)))
    return tuple(months), tuple(rows)


def render_html(
    audit: AuditPortfolio, kpis: KpiPortfolio, *, lang: str, generated: datetime, zone: ZoneInfo
) -> str:
    from gatekeeper.reporters.render import render_template

    w = _w(lang)
    counts = audit.counts()
    bad = sum(not r.ok for _, r in audit.rows)
    months, trends = _trends(kpis)
    status_words = {"met": w["met"], "unmet": w["unmet"], "nodata": w["nodata"], "measured": w["measured"]}

    def status(value: KpiValue) -> str:
        if value.met is None:
            return "measured" if value.target is None else "nodata"
        return "met" if value.met else "unmet"

    kpi_rows = [
        (info, [(kpi_cell(_kpi(r, k)).rstrip("!"), status(_kpi(r, k))) for k in KEY_KPIS])
        for info, r in kpis.rows
    ]
    total_row = [(kpi_cell(_kpi(kpis.total, k)).rstrip("!"), status(_kpi(kpis.total, k))) for k in KEY_KPIS]
    return render_template(
        "report/portfolio.html.j2",
        lang="ko" if lang == "ko" else "en",
        w=w,
        cells=_cells(lang),
        version=__version__,
        audit=audit,
        counts=counts,
        summary=_sum(lang, counts, bad, len(audit.rows)),
        period=period_text(audit.since, audit.until, zone, lang),
        generated=generated.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z"),
        items=list(ITEMS),
        kpi_labels=[_kpi(kpis.total, k).label(lang) for k in KEY_KPIS],
        kpi_targets=[_kpi(kpis.total, k).target or "–" for k in KEY_KPIS],
        kpi_rows=kpi_rows,
        total_row=total_row,
        status_words=status_words,
        months=months,
        trends=trends,
        debts=audit.debts(),
        notes=_notes(audit, lang),
    )
