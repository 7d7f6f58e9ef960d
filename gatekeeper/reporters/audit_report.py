"""The self-contained HTML audit report `audit --html` writes: the checklist, the KPIs with trend charts,
the deployment ledger of the period and the configuration baseline; `audit_form` is the same content (no
charts) as a `Form`, for `audit --hwpx` (`gatekeeper.reporters.hwpx`).

A jinja2 template under `templates/report/` with autoescaping: every value from RFCs, commits and the
ledger is untrusted text. One file: inline CSS, charts as inline SVG drawn from numbers computed here, no
scripts, no external assets, A4 print styles.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from gatekeeper import __version__
from gatekeeper.checks.audit import AuditResult
from gatekeeper.checks.kpi import KpiReport, KpiValue
from gatekeeper.domain import RecordKind
from gatekeeper.domain.baseline import DriftFacts
from gatekeeper.domain.records import DeploymentFinished, DeploymentStarted, entry_of
from gatekeeper.ledger import LedgerReader, Record
from gatekeeper.messages import ptr
from gatekeeper.reporters.charts import trend_charts
from gatekeeper.reporters.forms import Form, FormField, FormSection

MAX_LEDGER_ROWS = 500


def words(lang: str) -> dict[str, str]:
    """The report's headings and words in `lang` (the template reads them as `w`)."""
    return {
        "title": ptr(lang, "audit report", "SOP audit report"),
        "system": ptr(lang, "audit report", "System"),
        "grade": ptr(lang, "audit report", "Grade"),
        "period": ptr(lang, "audit report", "Period"),
        "generated": ptr(lang, "audit report", "Generated"),
        "checklist": ptr(lang, "audit report", "Verification checklist"),
        "kpis": ptr(lang, "audit report", "KPIs"),
        "trends": ptr(lang, "audit report", "Trends"),
        "ledger": ptr(lang, "audit report", "Deployment ledger"),
        "baseline": ptr(lang, "audit report", "Configuration baseline"),
        "area": ptr(lang, "audit report", "Area"),
        "question": ptr(lang, "audit report", "Question"),
        "result": ptr(lang, "audit report", "Result"),
        "evidence": ptr(lang, "audit report", "Evidence"),
        "kpi": ptr(lang, "audit report", "KPI"),
        "value": ptr(lang, "audit report", "Value"),
        "target": ptr(lang, "audit report", "Target"),
        "status": ptr(lang, "audit report", "Status"),
        "sop": ptr(lang, "audit report", "SOP"),
        "met": ptr(lang, "audit report", "met"),
        "unmet": ptr(lang, "audit report", "not met"),
        "measured": ptr(lang, "audit report", "measured"),
        "nodata": ptr(lang, "audit report", "no data"),
        "conform": ptr(lang, "audit report", "Conform"),
        "nonconform": ptr(lang, "audit report", "Nonconform"),
        "not-applicable": ptr(lang, "audit report", "Not applicable"),
        "deployments": ptr(lang, "audit report", "Deployments per month"),
        "failure": ptr(lang, "audit report", "Deployment failure rate (%)"),
        "mttr": ptr(lang, "audit report", "Mean time to recover (min)"),
        "seq": ptr(lang, "audit report", "Seq"),
        "started": ptr(lang, "audit report", "Started"),
        "finished": ptr(lang, "audit report", "Finished"),
        "rfcs": ptr(lang, "audit report", "RFCs"),
        "env": ptr(lang, "audit report", "Environment"),
        "type": ptr(lang, "audit report", "Type"),
        "actor": ptr(lang, "audit report", "Actor"),
        "outcome": ptr(lang, "audit report", "Result"),
        "in-progress": ptr(lang, "audit report", "in progress"),
        "no-baseline": ptr(lang, "audit report", "No baseline is recorded."),
        "no-items": ptr(lang, "audit report", "No configuration items are declared."),
        "item": ptr(lang, "audit report", "Item"),
        "file": ptr(lang, "audit report", "File"),
        "change": ptr(lang, "audit report", "Change"),
        "commits": ptr(lang, "audit report", "Commits"),
        "drift": ptr(lang, "audit report", "Drift"),
        "no-deployments": ptr(lang, "audit report", "No deployments in the period."),
        "no-changes": ptr(lang, "audit report", "No changes since the baseline."),
        "artifacts": ptr(lang, "audit report", "Deployed artefacts"),
        "artifact": ptr(lang, "audit report", "Artefact"),
        "digest": ptr(lang, "audit report", "Digest"),
        "deployed-by": ptr(lang, "audit report", "Deployed by"),
        # A template the report's page fills in itself (`.format`): said here without its fields.
        "baseline-of": ptr(lang, "audit report", "Baseline {label} (commit {commit}) compared with {target}"),
    }


def areas(lang: str) -> dict[str, str]:
    """The checklist's areas in `lang`."""
    return {
        "change": ptr(lang, "SOP area", "Change"),
        "release": ptr(lang, "SOP area", "Release"),
        "test": ptr(lang, "SOP area", "Test"),
        "configuration": ptr(lang, "SOP area", "Configuration"),
    }


def _summary(lang: str, result: AuditResult) -> str:
    counts = result.counts()
    return ptr(
        lang,
        "audit report",
        "{c} conform, {n} nonconform, {a} not applicable",
        c=counts["conform"],
        n=counts["nonconform"],
        a=counts["not-applicable"],
    )


def _truncated(lang: str) -> str:
    return ptr(lang, "audit report", "Only the latest {n} deployments are listed.", n=MAX_LEDGER_ROWS)


@dataclass(frozen=True)
class DeploymentRow:
    seq: int
    id: str
    started: str
    finished: str
    rfcs: str
    environment: str
    change_type: str
    actor: str
    result: str


def deployment_rows(
    ledger: LedgerReader, system: str, since: datetime | None, until: datetime | None, zone: ZoneInfo
) -> tuple[list[DeploymentRow], bool]:
    """The latest deployments of the period with their results (bounded: at most MAX_LEDGER_ROWS)."""
    kind_started = RecordKind.DEPLOYMENT_STARTED.value
    started: deque[Record] = deque(maxlen=MAX_LEDGER_ROWS)
    total = 0
    for record in ledger.find(kind=kind_started, system=system, since=since, until=until):
        started.append(record)
        total += 1
    wanted = {r.id for r in started}
    ends: dict[str, tuple[Record, DeploymentFinished]] = {}
    if wanted:
        first = started[0].moment
        for record in ledger.find(kind=RecordKind.DEPLOYMENT_FINISHED.value, system=system, since=first):
            finish: DeploymentFinished = entry_of(record).payload
            if finish.started in wanted:
                ends[finish.started] = (record, finish)

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    rows = []
    for record in started:
        start: DeploymentStarted = entry_of(record).payload
        end = ends.get(record.id)
        rows.append(
            DeploymentRow(
                record.seq,
                record.id,
                local(record.moment),
                local(end[0].moment) if end else "",
                ", ".join(record.rfcs),
                start.environment,
                str(start.change_type),
                record.actor,
                str(end[1].result) if end else "",
            )
        )
    return rows, total > len(rows)


@dataclass(frozen=True)
class AuditReport:
    """What the audit report is made from, whichever document it is written as (HTML, HWPX)."""

    result: AuditResult
    kpis: KpiReport
    rows: list[DeploymentRow]
    truncated: bool
    drift: DriftFacts | None
    lang: str
    system_name: str
    grade: int
    generated: datetime
    zone: ZoneInfo


def render_audit_html(report: AuditReport) -> str:
    from gatekeeper.reporters.period import period_text
    from gatekeeper.reporters.render import render_template

    w = words(report.lang)
    return render_template(
        "report/audit.html.j2",
        lang=report.lang,
        w=w,
        areas=areas(report.lang),
        version=__version__,
        result=report.result,
        summary=_summary(report.lang, report.result),
        system_name=report.system_name,
        grade=report.grade,
        period=period_text(report.result.since, report.result.until, report.zone, report.lang),
        generated=report.generated.strftime("%Y-%m-%d %H:%M %Z"),
        kpis=[(k, k.label(report.lang), _kpi_value(k), _kpi_status(k, w)) for k in report.kpis.kpis],
        charts=trend_charts(report.kpis, w),
        rows=report.rows,
        truncated=_truncated(report.lang) if report.truncated else "",
        drift=report.drift,
    )


def audit_form(report: AuditReport) -> Form:
    """The audit report as a form (for HWPX): the sections of the HTML report, each a table, the trends
    left to the KPI table."""
    from gatekeeper.reporters.period import period_text

    w, area = words(report.lang), areas(report.lang)
    summary = _summary(report.lang, report.result)
    period = period_text(report.result.since, report.result.until, report.zone, report.lang)
    overview = FormSection(
        w["system"],
        (
            FormField(w["system"], f"{report.system_name} ({report.result.system})"),
            FormField(w["grade"], str(report.grade)),
            FormField(w["period"], period),
            FormField(w["generated"], report.generated.strftime("%Y-%m-%d %H:%M %Z")),
            FormField(w["result"], f"{w['conform'] if report.result.ok else w['nonconform']} — {summary}"),
        ),
    )
    checklist = [(w["area"], w["question"], w["result"], w["evidence"])]
    for item in report.result.items:
        question = f"{item.question}\n{item.id} · {item.sop}"
        if item.result == "nonconform" and item.notes:
            question += "".join(f"\n· {note}" for note in item.notes[:10])
        evidence = ", ".join(item.evidence[:12])
        if len(item.evidence) > 12:
            evidence += f" … (+{len(item.evidence) - 12})"
        checklist.append((area[item.area], question, w[item.result], evidence))
    kpi_rows = [(w["kpi"], w["value"], w["target"], w["status"], w["sop"], "n / d")]
    for k in report.kpis.kpis:
        nd = "–"
        if k.numerator is not None and k.denominator is not None:
            nd = f"{k.numerator:g} / {k.denominator:g}"
        kpi_rows.append(
            (
                f"{k.label(report.lang)}\n{k.id}",
                _kpi_value(k),
                k.target or "–",
                _kpi_status(k, w)[1],
                k.sop,
                nd,
            )
        )
    ledger = [
        (w["seq"], w["started"], w["finished"], w["rfcs"], w["env"], w["type"], w["actor"], w["outcome"])
    ]
    ledger += [
        (
            str(r.seq),
            r.started,
            r.finished or "–",
            r.rfcs,
            r.environment,
            r.change_type,
            r.actor,
            r.result or w["in-progress"],
        )
        for r in report.rows
    ]
    notes = (FormField(w["ledger"], _truncated(report.lang)),) if report.truncated else ()
    if not report.rows:
        notes = (FormField(w["ledger"], w["no-deployments"]),)
    return Form(
        "audit-report",
        w["title"],
        f"{report.system_name} ({report.result.system}) — {period}",
        (
            overview,
            FormSection(f"1. {w['checklist']}", table=tuple(checklist)),
            FormSection(f"2. {w['kpis']}", table=tuple(kpi_rows)),
            FormSection(f"3. {w['ledger']}", notes, tuple(ledger) if report.rows else ()),
            *_baseline_sections(report.drift, w),
        ),
    )


def _baseline_sections(drift: DriftFacts | None, w: dict[str, str]) -> tuple[FormSection, ...]:
    """The configuration baseline of the HTML report's section 5: file changes and deployed artefacts since
    the latest baseline, each with the RFCs that explain it or `drift`."""
    heading = f"4. {w['baseline']}"
    if drift is None or not drift.items_declared:
        return (FormSection(heading, (FormField(w["baseline"], w["no-items"]),)),)
    diff = drift.diff
    if diff is None:
        return (FormSection(heading, (FormField(w["baseline"], w["no-baseline"]),)),)
    about = w["baseline-of"].format(label=diff.label, commit=diff.base_commit[:10], target=diff.target[:10])
    files = [(w["item"], w["file"], w["change"], w["commits"], w["rfcs"])]
    for item in diff.changed:
        for change in item.changes:
            commits = "\n".join(f"{c.sha[:10]} {c.subject}" for c in change.commits)
            files.append((item.id, change.path, change.status, commits, ", ".join(change.rfcs) or w["drift"]))
    fields = [FormField(w["baseline"], about)]
    if len(files) == 1 and not diff.artifacts:
        fields.append(FormField(w["change"], w["no-changes"]))
    sections = [FormSection(heading, tuple(fields), tuple(files) if len(files) > 1 else ())]
    if diff.artifacts:
        artifacts = [(w["artifact"], w["change"], w["digest"], w["deployed-by"], w["rfcs"])]
        for a in diff.artifacts:
            deployments = "\n".join(f"{d.deployment_id} (seq:{d.seq})" for d in a.deployments)
            digests = f"{a.before[:19] or '-'} → {a.after[:19] or '-'}"
            artifacts.append((a.name, a.status, digests, deployments, ", ".join(a.rfcs) or w["drift"]))
        sections.append(FormSection(w["artifacts"], table=tuple(artifacts)))
    return tuple(sections)


def _kpi_value(value: KpiValue) -> str:
    if value.value is None:
        return "–"
    return f"{value.value:g}" + ("" if value.unit == "deployments" else f" {value.unit}")


def _kpi_status(value: KpiValue, words: dict[str, str]) -> tuple[str, str]:
    if value.met is None:
        return ("measured", words["measured"]) if value.target is None else ("nodata", words["nodata"])
    return ("met", words["met"]) if value.met else ("unmet", words["unmet"])
