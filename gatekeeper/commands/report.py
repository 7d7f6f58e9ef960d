"""`gatekeeper report form KIND ID [--html]`, and the HTML audit report `audit --html` writes.

Both are jinja2 templates under `templates/` with autoescaping: every value from RFCs, commits and the
ledger is untrusted text. The HTML report is one self-contained file: inline CSS, charts as inline SVG
drawn from numbers computed here, no scripts, no external assets, A4 print styles.
"""

from __future__ import annotations

import argparse
from collections import deque
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any
from zoneinfo import ZoneInfo

from gatekeeper import __version__
from gatekeeper.checks.audit import AuditResult
from gatekeeper.checks.kpi import KpiReport, KpiValue, deployment_id
from gatekeeper.commands import Context
from gatekeeper.domain import RecordKind
from gatekeeper.errors import InputError
from gatekeeper.facts.baseline import DriftFacts
from gatekeeper.ledger import LedgerReader, Record
from gatekeeper.reporters.sanitize import for_log, for_markdown

MAX_LEDGER_ROWS = 500
FORM_KINDS = ("change-request", "release-plan", "deployment-result", "incident-report")

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


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="report_command", metavar="SUBCOMMAND", required=True)
    form = sub.add_parser("form", help="render an SOP form from RFC and ledger data")
    form.add_argument("kind", choices=FORM_KINDS, metavar="KIND", help=", ".join(FORM_KINDS))
    form.add_argument("id", metavar="ID", help="an RFC ID, a deployment id or an incident record id")
    form.add_argument("--html", action="store_true", help="HTML instead of Markdown")
    form.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")


# ------------------------------------------------------------------------------------------ charts


@dataclass(frozen=True)
class Bar:
    x: float
    y: float
    width: float
    height: float
    label: str
    value: str


@dataclass(frozen=True)
class Chart:
    """A bar chart laid out in SVG user units; the template only draws it."""

    title: str
    bars: tuple[Bar, ...]
    width: int = 320
    height: int = 180
    top: float = 24
    bottom: float = 150
    left: float = 34
    ticks: tuple[tuple[float, str], ...] = field(default_factory=tuple)


def bar_chart(title: str, points: Sequence[tuple[str, float | None]], *, decimals: int = 0) -> Chart:
    width, top, bottom, left, right = 320, 24.0, 150.0, 34.0, 312.0
    values = [v for _, v in points if v is not None]
    peak = max(values, default=0.0) or 1.0
    slot = (right - left) / max(len(points), 1)
    bars = []
    for i, (label, value) in enumerate(points):
        h = 0.0 if value is None else (bottom - top) * value / peak
        text = "–" if value is None else f"{value:.{decimals}f}"
        bar_width = min(slot * 0.7, 36.0)  # one month alone is a bar, not a wall
        bars.append(
            Bar(
                round(left + i * slot + (slot - bar_width) / 2, 1),
                round(bottom - h, 1),
                round(bar_width, 1),
                round(h, 1),
                label,
                text,
            )
        )
    ticks = tuple(
        (round(bottom - (bottom - top) * f, 1), f"{peak * f:.{decimals}f}") for f in (0.0, 0.5, 1.0)
    )
    return Chart(title, tuple(bars), width, 180, top, bottom, left, ticks)


def _month_value(values: tuple[KpiValue, ...], kpi_id: str, use: str = "value") -> float | None:
    for value in values:
        if value.id == kpi_id:
            found = getattr(value, use)
            return None if found is None else float(found)
    return None


def trend_charts(kpis: KpiReport, lang: str) -> list[Chart]:
    words = WORDS[lang]
    months = [(month[2:].replace("-", "."), values) for _system, month, values in kpis.months[-12:]]
    deployments = [(m, _month_value(v, "deployment-success-rate", "denominator") or 0.0) for m, v in months]
    failure = [(m, _month_value(v, "deployment-failure-rate")) for m, v in months]
    mttr = [(m, _month_value(v, "mttr-minutes")) for m, v in months]
    return [
        bar_chart(words["deployments"], deployments),
        bar_chart(words["failure"], failure, decimals=1),
        bar_chart(words["mttr"], mttr, decimals=0),
    ]


# ------------------------------------------------------------------------------------------ ledger rows


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
    ends: dict[str, Record] = {}
    if wanted:
        first = started[0].moment
        for record in ledger.find(kind=RecordKind.DEPLOYMENT_FINISHED.value, system=system, since=first):
            if deployment_id(record) in wanted:
                ends[deployment_id(record)] = record

    def local(moment: datetime) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M")

    rows = []
    for record in started:
        end = ends.get(record.id)
        rows.append(
            DeploymentRow(
                record.seq,
                record.id,
                local(record.moment),
                local(end.moment) if end else "",
                ", ".join(record.rfcs),
                str(record.data.get("environment", "")),
                str(record.data.get("change_type", "")),
                record.actor,
                str(end.data.get("result", "")) if end else "",
            )
        )
    return rows, total > len(rows)


def audit_html(
    ctx: Context,
    ledger: LedgerReader,
    result: AuditResult,
    drift: DriftFacts,
    since: datetime | None,
    until: datetime | None,
) -> str:
    """The self-contained HTML audit report."""
    from gatekeeper.commands.kpi import kpi_report

    kpis = kpi_report(ctx, since, until, ledger)
    zone = ZoneInfo(ctx.config.timezone)
    rows, truncated = deployment_rows(ledger, ctx.config.system.id, since, until, zone)
    return render_audit_html(
        result,
        kpis,
        rows,
        truncated,
        drift,
        lang=ctx.lang,
        system_name=ctx.config.system.name,
        grade=int(ctx.config.system.grade),
        generated=ctx.runtime.now().astimezone(zone),
        zone=zone,
    )


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
    from gatekeeper.reporters.render import render_template

    lang = lang if lang in WORDS else "en"
    words = WORDS[lang]

    def day(moment: datetime | None) -> str:
        return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M") if moment else "…"

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
        period=f"{day(result.since)} – {day(result.until)}",
        generated=generated.strftime("%Y-%m-%d %H:%M %Z"),
        kpis=[(k, k.label(lang), _kpi_value(k), _kpi_status(k, words)) for k in kpis.kpis],
        charts=trend_charts(kpis, lang),
        rows=rows,
        truncated=words["truncated"].format(n=MAX_LEDGER_ROWS) if truncated else "",
        drift=drift,
    )


def _kpi_value(value: KpiValue) -> str:
    if value.value is None:
        return "–"
    return f"{value.value:g}" + ("" if value.unit == "deployments" else f" {value.unit}")


def _kpi_status(value: KpiValue, words: dict[str, str]) -> tuple[str, str]:
    if value.met is None:
        return ("measured", words["measured"]) if value.target is None else ("nodata", words["nodata"])
    return ("met", words["met"]) if value.met else ("unmet", words["unmet"])


# ------------------------------------------------------------------------------------------ forms


@dataclass(frozen=True)
class FormField:
    label: str
    value: str
    block: bool = False  # multi-line text (plans) rather than a short value


@dataclass(frozen=True)
class FormSection:
    heading: str
    fields: tuple[FormField, ...] = ()
    table: tuple[tuple[str, ...], ...] = ()  # first row is the header


@dataclass(frozen=True)
class Form:
    kind: str
    title: str
    subtitle: str
    sections: tuple[FormSection, ...]


FORM_TITLES = {
    "change-request": ("Change request / change plan", "변경요청서 / 변경계획서"),
    "release-plan": ("Release plan", "배포계획서"),
    "deployment-result": ("Deployment result", "배포결과서"),
    "incident-report": ("Incident report", "장애보고서"),
}


def _t(lang: str, en: str, ko: str) -> str:
    return ko if lang == "ko" else en


def _approvals(
    records: Iterable[Record], lang: str, steps: set[str] | None = None
) -> tuple[tuple[str, ...], ...]:
    header = (
        _t(lang, "Step", "단계"),
        _t(lang, "Decision", "결정"),
        _t(lang, "Approver", "승인자"),
        _t(lang, "At", "일시"),
        _t(lang, "Comment", "의견"),
    )
    rows = [header]
    for record in records:
        step = str(record.data.get("step", ""))
        if steps is not None and step not in steps:
            continue
        rows.append(
            (
                step,
                str(record.data.get("decision", "")),
                record.actor,
                record.at,
                str(record.data.get("comment", "") or ""),
            )
        )
    return tuple(rows)


def change_request_form(rfc: Any, approvals: list[Record], lang: str) -> Form:
    t = partial(_t, lang)
    impact = rfc.impact
    impact_text = t(
        f"level {impact.level}; systems: {', '.join(impact.systems) or '-'}; agencies: "
        f"{', '.join(impact.agencies) or '-'}; "
        f"service interruption: {'yes' if impact.service_interruption else 'no'}",
        f"수준 {impact.level}; 영향 시스템: {', '.join(impact.systems) or '-'}; 영향 기관: "
        f"{', '.join(impact.agencies) or '-'}; "
        f"서비스 중단: {'예' if impact.service_interruption else '아니오'}",
    )
    requested = rfc.schedule.requested_at.isoformat() if rfc.schedule.requested_at else "-"
    sections = (
        FormSection(
            t("Request", "요청 정보"),
            (
                FormField(t("Change ID", "변경요청ID"), rfc.id),
                FormField(t("Title", "제목"), rfc.title),
                FormField(t("Change type", "변경 유형"), str(rfc.type)),
                FormField(t("Requester", "변경요청자"), rfc.requester),
                FormField(t("Target systems", "대상 시스템"), ", ".join(rfc.systems)),
                FormField(t("Requested date/time", "요청 일시"), requested),
                FormField(t("Window", "작업 시간대"), rfc.schedule.window or "-"),
                FormField(t("Status", "상태"), str(rfc.status)),
            ),
        ),
        FormSection(
            t("Plan", "변경 계획"),
            (
                FormField(t("Basis of the request", "요청 근거"), rfc.basis or "-", True),
                FormField(t("Reason", "변경 사유"), rfc.reason, True),
                FormField(t("Content", "변경 내용"), rfc.description or "-", True),
                FormField(t("Impact", "영향도"), impact_text, True),
                FormField(t("Work plan", "작업 계획"), rfc.work_plan or "-", True),
                FormField(t("Deployment plan", "배포 계획"), rfc.deployment_plan or "-", True),
                FormField(t("Test plan", "테스트 계획"), rfc.test_plan or "-", True),
                FormField(t("Rollback plan", "원상복구 계획"), rfc.rollback_plan or "-", True),
            ),
        ),
        FormSection(t("Approvals (from the ledger)", "승인 이력 (원장)"), table=_approvals(approvals, lang)),
    )
    return Form("change-request", t(*FORM_TITLES["change-request"]), f"{rfc.id} — {rfc.title}", sections)


def release_plan_form(rfc: Any, approvals: list[Record], evidence: list[Record], lang: str) -> Form:
    t = partial(_t, lang)
    interruption = t("yes", "예") if rfc.impact.service_interruption else t("no", "아니오")
    tests = [
        (
            t("Kind", "종류"),
            t("Commit", "커밋"),
            t("Tests", "건수"),
            t("Passed", "성공"),
            t("Failed", "실패"),
            t("Recorded", "기록 일시"),
        )
    ]
    for record in evidence:
        totals = record.data.get("totals") if isinstance(record.data.get("totals"), dict) else record.data
        assert isinstance(totals, dict)
        tests.append(
            (
                str(record.data.get("kind", "")),
                str(record.data.get("commit", ""))[:10],
                str(totals.get("tests", "")),
                str(totals.get("passed", "")),
                str(int(totals.get("failed", 0) or 0) + int(totals.get("errors", 0) or 0)),
                record.at,
            )
        )
    sections = (
        FormSection(
            t("Release", "배포 정보"),
            (
                FormField(t("Change ID", "변경요청ID"), rfc.id),
                FormField(t("Author", "작성자"), rfc.requester),
                FormField(t("Release type", "배포 유형"), str(rfc.type)),
                FormField(
                    t("Service impact", "서비스 영향"),
                    f"{rfc.impact.level}; " + t("interruption: ", "서비스 중단: ") + interruption,
                ),
                FormField(t("Linked systems", "연계 시스템"), ", ".join(rfc.impact.integrations) or "-"),
            ),
        ),
        FormSection(
            t("Plan", "계획"),
            (
                FormField(t("Deployment plan", "배포 계획"), rfc.deployment_plan or "-", True),
                FormField(t("Test scenario", "테스트 시나리오"), rfc.test_plan or "-", True),
                FormField(t("Rollback plan", "원상복구 계획"), rfc.rollback_plan or "-", True),
            ),
        ),
        FormSection(t("Test evidence (from the ledger)", "테스트 결과 (원장)"), table=tuple(tests)),
        FormSection(
            t("Approvals (release steps)", "배포 승인"),
            table=_approvals(approvals, lang, {"release-first", "release-second"}),
        ),
    )
    return Form("release-plan", t(*FORM_TITLES["release-plan"]), f"{rfc.id} — {rfc.title}", sections)


def deployment_result_form(started: Record, finished: Record | None, lang: str) -> Form:
    t = partial(_t, lang)
    end = finished.data if finished else {}

    def value(key: str) -> str:
        found = end.get(key)
        return "-" if found in (None, "") else str(found)

    sections = (
        FormSection(
            t("Deployment", "배포 정보"),
            (
                FormField(t("Deployment ID", "배포ID"), started.id),
                FormField(t("Change IDs", "변경요청ID"), ", ".join(started.rfcs) or "-"),
                FormField(t("System", "시스템"), started.system),
                FormField(t("Environment", "환경"), str(started.data.get("environment", "-"))),
                FormField(t("Commit", "커밋"), str(started.data.get("commit", "-"))),
                FormField(t("Change type", "변경 유형"), str(started.data.get("change_type", "-"))),
            ),
        ),
        FormSection(
            t("Result", "배포 결과"),
            (
                FormField(t("Start", "시작 일시"), started.at),
                FormField(t("End", "종료 일시"), finished.at if finished else t("in progress", "진행 중")),
                FormField(t("Result", "결과"), value("result")),
                FormField(t("Worker", "작업자"), value("worker") if finished else started.actor),
                FormField(t("Test result", "테스트 결과"), value("test_result"), True),
                FormField(t("Verifier", "검증자"), value("verifier")),
                FormField(t("Errors", "오류 내용"), value("errors"), True),
                FormField(t("Monitoring result", "모니터링 결과"), value("monitoring"), True),
                FormField(t("Improvements", "개선 사항"), value("improvements"), True),
            ),
        ),
    )
    return Form(
        "deployment-result",
        t(*FORM_TITLES["deployment-result"]),
        f"{started.id} ({', '.join(started.rfcs)})",
        sections,
    )


def incident_report_form(incident: Record, system_name: str, lang: str) -> Form:
    t = partial(_t, lang)
    data = incident.data

    def value(key: str) -> str:
        found = data.get(key)
        return "-" if found in (None, "") else str(found)

    duration = "-"
    occurred, resolved = data.get("occurred_at"), data.get("resolved_at")
    if isinstance(occurred, str) and isinstance(resolved, str):
        try:
            minutes = (
                datetime.fromisoformat(resolved) - datetime.fromisoformat(occurred)
            ).total_seconds() / 60
            duration = t(f"{minutes:.0f} min", f"{minutes:.0f}분")
        except ValueError:
            duration = "-"
    sections = (
        FormSection(
            t("Incident", "장애 정보"),
            (
                FormField(t("Incident ID", "장애ID"), incident.id),
                FormField(t("Type", "유형"), value("type")),
                FormField(t("System", "시스템"), f"{system_name} ({incident.system})"),
                FormField(t("Title", "제목"), value("title")),
                FormField(t("Status", "상태"), value("status")),
                FormField(t("Grade", "장애 등급"), value("grade")),
                FormField(t("Change IDs", "관련 변경요청"), ", ".join(incident.rfcs) or "-"),
                FormField(t("Deployment", "관련 배포"), value("deployment_id")),
            ),
        ),
        FormSection(
            t("Timeline", "경과"),
            (
                FormField(t("Occurred at", "발생 일시"), value("occurred_at")),
                FormField(t("Detected at", "인지 일시"), value("detected_at")),
                FormField(t("Resolved at", "복구 일시"), value("resolved_at")),
                FormField(t("Duration", "장애 시간"), duration),
            ),
        ),
        FormSection(
            t("Handling", "조치"),
            (
                FormField(t("Owner", "담당자"), value("owner") if data.get("owner") else incident.actor),
                FormField(t("Handler", "처리자"), value("handler")),
                FormField(t("Cause", "원인"), value("cause") if data.get("cause") else value("errors"), True),
                FormField(t("Action", "조치 내용"), value("action"), True),
                FormField(t("Follow-up", "후속 조치"), value("follow_up"), True),
            ),
        ),
    )
    return Form(
        "incident-report", t(*FORM_TITLES["incident-report"]), f"{incident.id} — {value('title')}", sections
    )


def render_form(form: Form, *, html: bool, lang: str, generated: str) -> str:
    from gatekeeper.reporters.render import render_template

    if html:
        return render_template(
            "forms/form.html.j2", form=form, lang=lang, generated=generated, version=__version__
        )
    return render_template(
        "forms/form.md.j2",
        form=form,
        lang=lang,
        generated=generated,
        version=__version__,
        md=for_markdown,
        md_block=md_block,
    )


def md_block(text: str) -> str:
    """Multi-line untrusted text as Markdown: each line escaped, line breaks kept."""
    return "<br>".join(for_markdown(line) for line in text.splitlines()) or "-"


def build_form(ctx: Context, ledger: LedgerReader, kind: str, ident: str) -> Form:
    system = ctx.config.system.id
    lang = ctx.lang
    if kind in ("change-request", "release-plan"):
        from gatekeeper.adapters.rfcstore import open_store

        entry = open_store(ctx.repo_root, ctx.config, ctx.runtime.env).get(ident)
        if entry is None:
            raise InputError(
                f"no RFC {ident!r} in the RFC store", hint="`gatekeeper rfc show ID` lists what exists"
            )
        if entry.rfc is None:
            raise InputError(
                f"RFC {ident} does not validate: {entry.error}", hint=f"`gatekeeper rfc validate {ident}`"
            )
        approvals = list(ledger.find(kind=RecordKind.APPROVAL.value, system=system, rfc=ident))
        if kind == "change-request":
            return change_request_form(entry.rfc, approvals, lang)
        evidence = list(ledger.find(kind=RecordKind.TEST_EVIDENCE.value, system=system, rfc=ident))
        return release_plan_form(entry.rfc, approvals, evidence, lang)
    if kind == "deployment-result":
        started = next(
            (
                r
                for r in ledger.find(kind=RecordKind.DEPLOYMENT_STARTED.value, system=system)
                if r.id == ident
            ),
            None,
        )
        if started is None:
            raise InputError(
                f"no deployment {ident!r} of {system} in the ledger",
                hint="use the id `gatekeeper deploy start` printed; `gatekeeper ledger log` lists them",
            )
        finished = next(
            (
                r
                for r in ledger.find(kind=RecordKind.DEPLOYMENT_FINISHED.value, system=system)
                if deployment_id(r) == ident
            ),
            None,
        )
        return deployment_result_form(started, finished, lang)
    incident = next(
        (
            r
            for r in ledger.find(kind=RecordKind.INCIDENT_OPENED.value, system=system)
            if ident in (r.id, r.data.get("deployment_id"))
        ),
        None,
    )
    if incident is None:
        raise InputError(
            f"no incident {ident!r} of {system} in the ledger",
            hint="give the incident record id or the id of the deployment that opened it",
        )
    return incident_report_form(incident, ctx.config.system.name, lang)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.ledger.backends import open_ledger

    ledger = open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)
    try:
        form = build_form(ctx, ledger, args.kind, args.id)
    finally:
        ledger.close()
    zone = ZoneInfo(ctx.config.timezone)
    text = render_form(
        form, html=args.html, lang=ctx.lang, generated=ctx.runtime.now().astimezone(zone).isoformat()
    )
    if args.output:
        target = ctx.runtime.cwd / args.output
        target.write_text(text, encoding="utf-8")
        ctx.out(_t(ctx.lang, f"wrote {for_log(str(target))}", f"{for_log(str(target))} 작성 완료"))
    else:
        ctx.runtime.stdout.write(text)
    return 0
