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
from gatekeeper.reporters.charts import trend_charts
from gatekeeper.reporters.forms import Form, FormField, FormSection

MAX_LEDGER_ROWS = 500

WORDS: dict[str, dict[str, str]] = {
    "en": {
        "title": "SOP audit report",
        "system": "System",
        "grade": "Grade",
        "period": "Period",
        "generated": "Generated",
        "checklist": "Verification checklist",
        "kpis": "KPIs",
        "trends": "Trends",
        "ledger": "Deployment ledger",
        "baseline": "Configuration baseline",
        "area": "Area",
        "question": "Question",
        "result": "Result",
        "evidence": "Evidence",
        "kpi": "KPI",
        "value": "Value",
        "target": "Target",
        "status": "Status",
        "sop": "SOP",
        "met": "met",
        "unmet": "not met",
        "measured": "measured",
        "nodata": "no data",
        "conform": "Conform",
        "nonconform": "Nonconform",
        "not-applicable": "Not applicable",
        "deployments": "Deployments per month",
        "failure": "Deployment failure rate (%)",
        "mttr": "Mean time to recover (min)",
        "seq": "Seq",
        "started": "Started",
        "finished": "Finished",
        "rfcs": "RFCs",
        "env": "Environment",
        "type": "Type",
        "actor": "Actor",
        "outcome": "Result",
        "in-progress": "in progress",
        "no-baseline": "No baseline is recorded.",
        "no-items": "No configuration items are declared.",
        "item": "Item",
        "file": "File",
        "change": "Change",
        "commits": "Commits",
        "drift": "Drift",
        "none": "none",
        "summary": "{c} conform, {n} nonconform, {a} not applicable",
        "truncated": "Only the latest {n} deployments are listed.",
        "all": "all",
        "no-deployments": "No deployments in the period.",
        "no-changes": "No changes since the baseline.",
        "baseline-of": "Baseline {label} (commit {commit}) compared with {target}",
        "artifacts": "Deployed artefacts",
        "artifact": "Artefact",
        "digest": "Digest",
        "deployed-by": "Deployed by",
    },
    "ko": {
        "title": "SOP 점검 보고서",
        "system": "시스템",
        "grade": "등급",
        "period": "기간",
        "generated": "작성",
        "checklist": "점검표",
        "kpis": "성과지표",
        "trends": "추이",
        "ledger": "배포 관리대장",
        "baseline": "형상 베이스라인",
        "area": "영역",
        "question": "점검 항목",
        "result": "결과",
        "evidence": "근거",
        "kpi": "지표",
        "value": "값",
        "target": "목표",
        "status": "판정",
        "sop": "SOP",
        "met": "달성",
        "unmet": "미달",
        "measured": "측정",
        "nodata": "자료 없음",
        "conform": "적합",
        "nonconform": "부적합",
        "not-applicable": "해당없음",
        "deployments": "월별 배포 건수",
        "failure": "배포 실패율 (%)",
        "mttr": "평균 복구 시간 (분)",
        "seq": "번호",
        "started": "시작",
        "finished": "종료",
        "rfcs": "변경요청",
        "env": "환경",
        "type": "유형",
        "actor": "수행자",
        "outcome": "결과",
        "in-progress": "진행 중",
        "no-baseline": "등록된 베이스라인이 없습니다.",
        "no-items": "선언된 형상항목이 없습니다.",
        "item": "형상항목",
        "file": "파일",
        "change": "변경",
        "commits": "커밋",
        "drift": "무단 변경",
        "none": "없음",
        "summary": "적합 {c}건, 부적합 {n}건, 해당없음 {a}건",
        "truncated": "최근 {n}건의 배포만 표시합니다.",
        "all": "전체",
        "no-deployments": "기간 내 배포가 없습니다.",
        "no-changes": "베이스라인 이후 변경이 없습니다.",
        "baseline-of": "베이스라인 {label} (커밋 {commit})과 {target} 비교",
        "artifacts": "배포 산출물",
        "artifact": "산출물",
        "digest": "다이제스트",
        "deployed-by": "배포",
    },
}
AREAS = {
    "en": {"change": "Change", "release": "Release", "test": "Test", "configuration": "Configuration"},
    "ko": {"change": "변경관리", "release": "배포관리", "test": "테스트관리", "configuration": "형상관리"},
}


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


def render_audit_html(
    result: AuditResult,
    kpis: KpiReport,
    rows: list[DeploymentRow],
    truncated: bool,
    drift: DriftFacts | None,
    *,
    lang: str,
    system_name: str,
    grade: int,
    generated: datetime,
    zone: ZoneInfo,
) -> str:
    from gatekeeper.reporters.period import period_text
    from gatekeeper.reporters.render import render_template

    lang = lang if lang in WORDS else "en"
    words = WORDS[lang]

    counts = result.counts()
    return render_template(
        "report/audit.html.j2",
        lang=lang,
        w=words,
        areas=AREAS[lang],
        version=__version__,
        result=result,
        summary=words["summary"].format(
            c=counts["conform"], n=counts["nonconform"], a=counts["not-applicable"]
        ),
        system_name=system_name,
        grade=grade,
        period=period_text(result.since, result.until, zone, lang),
        generated=generated.strftime("%Y-%m-%d %H:%M %Z"),
        kpis=[(k, k.label(lang), _kpi_value(k), _kpi_status(k, words)) for k in kpis.kpis],
        charts=trend_charts(kpis, words),
        rows=rows,
        truncated=words["truncated"].format(n=MAX_LEDGER_ROWS) if truncated else "",
        drift=drift,
    )


def audit_form(
    result: AuditResult,
    kpis: KpiReport,
    rows: list[DeploymentRow],
    truncated: bool,
    drift: DriftFacts | None,
    *,
    lang: str,
    system_name: str,
    grade: int,
    generated: datetime,
    zone: ZoneInfo,
) -> Form:
    """The audit report as a form (for HWPX): the sections of the HTML report, each a table, the trends
    left to the KPI table."""
    from gatekeeper.reporters.period import period_text

    lang = lang if lang in WORDS else "en"
    w, areas = WORDS[lang], AREAS[lang]
    counts = result.counts()
    summary = w["summary"].format(c=counts["conform"], n=counts["nonconform"], a=counts["not-applicable"])
    overview = FormSection(
        w["system"],
        (
            FormField(w["system"], f"{system_name} ({result.system})"),
            FormField(w["grade"], str(grade)),
            FormField(w["period"], period_text(result.since, result.until, zone, lang)),
            FormField(w["generated"], generated.strftime("%Y-%m-%d %H:%M %Z")),
            FormField(w["result"], f"{w['conform'] if result.ok else w['nonconform']} — {summary}"),
        ),
    )
    checklist = [(w["area"], w["question"], w["result"], w["evidence"])]
    for item in result.items:
        question = f"{item.question}\n{item.id} · {item.sop}"
        if item.result == "nonconform" and item.notes:
            question += "".join(f"\n· {note}" for note in item.notes[:10])
        evidence = ", ".join(item.evidence[:12])
        if len(item.evidence) > 12:
            evidence += f" … (+{len(item.evidence) - 12})"
        checklist.append((areas[item.area], question, w[item.result], evidence))
    kpi_rows = [(w["kpi"], w["value"], w["target"], w["status"], w["sop"], "n / d")]
    for k in kpis.kpis:
        nd = "–"
        if k.numerator is not None and k.denominator is not None:
            nd = f"{k.numerator:g} / {k.denominator:g}"
        kpi_rows.append(
            (f"{k.label(lang)}\n{k.id}", _kpi_value(k), k.target or "–", _kpi_status(k, w)[1], k.sop, nd)
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
        for r in rows
    ]
    notes = (FormField(w["ledger"], w["truncated"].format(n=MAX_LEDGER_ROWS)),) if truncated else ()
    if not rows:
        notes = (FormField(w["ledger"], w["no-deployments"]),)
    return Form(
        "audit-report",
        w["title"],
        f"{system_name} ({result.system}) — {period_text(result.since, result.until, zone, lang)}",
        (
            overview,
            FormSection(f"1. {w['checklist']}", table=tuple(checklist)),
            FormSection(f"2. {w['kpis']}", table=tuple(kpi_rows)),
            FormSection(f"3. {w['ledger']}", notes, tuple(ledger) if rows else ()),
            *_baseline_sections(drift, w),
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
