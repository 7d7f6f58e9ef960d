"""The SOP's forms (변경요청서, 배포계획서, 배포결과서, 장애보고서) from RFC content and typed ledger records,
rendered by jinja2 templates under `templates/forms/` (Markdown or HTML, autoescaped: every value is
untrusted text)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
from functools import partial
from typing import Any

from gatekeeper import __version__
from gatekeeper.domain import SystemRelease
from gatekeeper.domain.incident import IncidentState
from gatekeeper.domain.records import (
    Approval,
    DeploymentFinished,
    DeploymentStarted,
    Entry,
    TestEvidence,
)
from gatekeeper.reporters.sanitize import for_markdown
from gatekeeper.reporters.words import word

FORM_KINDS = ("change-request", "release-plan", "deployment-result", "incident-report")


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
class SignOff:
    """One box of the 결재란: the role that signs, who did (from the ledger) and when."""

    role: str
    name: str = ""
    at: str = ""


@dataclass(frozen=True)
class Form:
    kind: str
    title: str
    subtitle: str
    sections: tuple[FormSection, ...]
    signoff: tuple[SignOff, ...] = ()


@dataclass(frozen=True)
class Letterhead:
    """What every submitted form carries besides its content: the agency and system it is about, and the
    ledger head (seq and hash) it was made from, so a reader can check it against the ledger later."""

    system: str  # "민원포털 (minwon-portal), grade 1"
    agency: str = ""
    head: str = ""  # SEQ:HASH


def system_letterhead(
    lang: str, *, name: str, ident: str, grade: object, agency: str, head: str
) -> Letterhead:
    """The letterhead of a document about one system: `민원포털 (minwon-portal), 1등급`, its agency and the
    ledger head (`SEQ:HASH`) the document was made from."""
    shown = f"{name} ({ident}), {grade}등급" if lang == "ko" else f"{name} ({ident}), grade {grade}"
    return Letterhead(system=shown, agency=agency, head=head)


# How a decision of the ledger stands for the approval rules (`facts.history`), by record seq.
COUNTED, SUPERSEDED, NOT_COUNTED = "counted", "superseded", "not-counted"
STANDING_WORDS = {
    COUNTED: ("counted", "인정"),
    SUPERSEDED: ("superseded", "대체됨"),
    NOT_COUNTED: ("not counted", "불인정"),
}


def when(moment: datetime, zone: tzinfo | None) -> str:
    """A time as forms show it: to the minute in the system's zone (`2026-11-24 20:00 KST`); ISO 8601
    when no zone is given."""
    if zone is None:
        return moment.isoformat()
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


FORM_TITLES = {
    "change-request": ("Change request / change plan", "변경요청서 / 변경계획서"),
    "release-plan": ("Release plan", "배포계획서"),
    "deployment-result": ("Deployment result", "배포결과서"),
    "incident-report": ("Incident report", "장애보고서"),
}


def _t(lang: str, en: str, ko: str) -> str:
    return ko if lang == "ko" else en


def _approvals(
    entries: Iterable[Entry[Approval]],
    lang: str,
    steps: set[str] | None = None,
    *,
    zone: tzinfo | None = None,
    standing: Mapping[int, str] | None = None,
    deputies: Mapping[int, str] | None = None,
) -> tuple[tuple[str, ...], ...]:
    header: tuple[str, ...] = (
        _t(lang, "Step", "단계"),
        _t(lang, "Decision", "결정"),
        _t(lang, "Approver", "승인자"),
        _t(lang, "At", "일시"),
        _t(lang, "Comment", "의견"),
    )
    if standing is not None:
        header += (_t(lang, "Counted", "인정 여부"),)
    rows: list[tuple[str, ...]] = [header]
    for entry in entries:
        approval = entry.payload
        if steps is not None and approval.step not in steps:
            continue
        remarks = [approval.comment] if approval.comment else []
        if approval.conditions:
            remarks.append(_t(lang, "conditions: ", "조건: ") + approval.conditions)
        if approval.minutes:
            remarks.append(_t(lang, "minutes: ", "회의록: ") + approval.minutes)
        row: tuple[str, ...] = (
            word(approval.step, lang),
            word(approval.decision, lang),
            _approver(entry, lang, deputies),
            when(entry.moment, zone),
            "; ".join(remarks),
        )
        if standing is not None:
            en, ko = STANDING_WORDS[standing.get(entry.seq, NOT_COUNTED)]
            row += (_t(lang, en, ko),)
        rows.append(row)
    return tuple(rows)


def _approver(entry: Entry[Approval], lang: str, deputies: Mapping[int, str] | None) -> str:
    """Who gave the decision; a deputy with the delegator they act for: `lee (대리: park)`."""
    delegator = (deputies or {}).get(entry.seq, "")
    if not delegator:
        return entry.actor
    return f"{entry.actor} ({_t(lang, 'deputy of ', '대리: ')}{delegator})"


def _signoff(
    boxes: Iterable[tuple[str, str, str]],
    approvals: Iterable[Entry[Approval]],
    lang: str,
    zone: tzinfo | None,
    standing: Mapping[int, str] | None,
    deputies: Mapping[int, str] | None = None,
) -> tuple[SignOff, ...]:
    """The 결재란 of a form: for each (step, English role, Korean role) the approver whose decision counts."""
    signed: dict[str, Entry[Approval]] = {}
    for entry in approvals:
        approval = entry.payload
        counted = standing is None or standing.get(entry.seq) == COUNTED
        if approval.decision == "approve" and counted:
            signed[approval.step] = entry  # the latest counted approval of the step
    out = []
    for step, en, ko in boxes:
        found = signed.get(step)
        name, at = (_approver(found, lang, deputies), when(found.moment, zone)) if found else ("", "")
        out.append(SignOff(_t(lang, en, ko), name, at))
    return tuple(out)


CHANGE_SIGNOFF = (
    ("change-review", "Review", "검토"),
    ("cab", "CAB", "변경관리위원회"),
    ("change-approval", "Approval", "승인"),
)
RELEASE_SIGNOFF = (
    ("release-first", "First approval", "1차 승인"),
    ("release-second", "Second approval", "2차 승인"),
)


URGENCY_KO = {"low": "낮음", "normal": "보통", "high": "높음", "critical": "긴급"}


def change_request_form(
    rfc: Any,
    approvals: list[Entry[Approval]],
    lang: str,
    *,
    zone: tzinfo | None = None,
    standing: Mapping[int, str] | None = None,
    deputies: Mapping[int, str] | None = None,
) -> Form:
    """변경요청서. `deputies`: approval seq -> the delegator a deputy gave it for (`rules.delegation`)."""
    t = partial(_t, lang)
    impact = rfc.impact
    impact_text = t(
        f"level {impact.level}; systems: {', '.join(impact.systems) or '-'}; agencies: "
        f"{', '.join(impact.agencies) or '-'}; "
        f"service interruption: {'yes' if impact.service_interruption else 'no'}",
        f"수준 {word(impact.level, lang)}; 영향 시스템: {', '.join(impact.systems) or '-'}; 영향 기관: "
        f"{', '.join(impact.agencies) or '-'}; "
        f"서비스 중단: {'예' if impact.service_interruption else '아니오'}",
    )
    requested = when(rfc.schedule.requested_at, zone) if rfc.schedule.requested_at else "-"
    sections = (
        FormSection(
            t("Request", "요청 정보"),
            (
                FormField(t("Change ID", "변경요청ID"), rfc.id),
                FormField(t("Title", "제목"), rfc.title),
                FormField(t("Change type", "변경 유형"), word(rfc.type, lang)),
                FormField(t("Requester", "변경요청자"), rfc.requester),
                FormField(t("Requester's organisation", "요청 조직"), rfc.requester_org or "-"),
                FormField(
                    t("Request date", "변경요청일자"),
                    rfc.request_date.isoformat() if rfc.request_date else "-",
                ),
                FormField(t("Urgency", "긴급 정도"), t(rfc.urgency, URGENCY_KO[rfc.urgency])),
                FormField(t("Target systems", "대상 시스템"), ", ".join(rfc.systems)),
                FormField(t("Worker", "작업자"), rfc.worker or "-"),
                FormField(t("Requested date/time", "요청 일시"), requested),
                FormField(t("Window", "작업 시간대"), rfc.schedule.window or "-"),
                FormField(t("Status", "상태"), word(rfc.status, lang)),
            ),
        ),
        FormSection(
            t("Plan", "변경 계획"),
            (
                FormField(t("Basis of the request", "요청 근거"), rfc.basis or "-", True),
                FormField(t("Reason", "변경 사유"), rfc.reason, True),
                FormField(t("Content", "변경 내용"), rfc.description or "-", True),
                FormField(t("Impact", "영향도"), impact_text, True),
                FormField(
                    t("Documents (revision)", "관련 문서 (개정)"),
                    ", ".join(f"{d.name} ({d.revision})" if d.revision else d.name for d in rfc.documents)
                    or "-",
                    True,
                ),
                FormField(t("Work plan", "작업 계획"), rfc.work_plan or "-", True),
                FormField(t("Deployment plan", "배포 계획"), rfc.deployment_plan or "-", True),
                FormField(t("Test plan", "테스트 계획"), rfc.test_plan or "-", True),
                FormField(t("Rollback plan", "원상복구 계획"), rfc.rollback_plan or "-", True),
            ),
        ),
        FormSection(
            t("Approvals (from the ledger)", "승인 이력 (원장)"),
            table=_approvals(approvals, lang, zone=zone, standing=standing, deputies=deputies),
        ),
    )
    return Form(
        "change-request",
        t(*FORM_TITLES["change-request"]),
        f"{rfc.id} — {rfc.title}",
        sections,
        _signoff(CHANGE_SIGNOFF, approvals, lang, zone, standing, deputies),
    )


SYSTEM_STATE_KO = {
    "none": "배포 전",
    "open": "배포 중",
    "success": "성공",
    "failure": "실패",
    "rolled-back": "원상복구",
    "aborted": "중단",
    "unverified": "검증 불가(저장소 미등록)",
}


def release_plan_form(
    rfc: Any,
    approvals: list[Entry[Approval]],
    evidence: list[Entry[TestEvidence]],
    lang: str,
    *,
    zone: tzinfo | None = None,
    standing: Mapping[int, str] | None = None,
    order: Sequence[SystemRelease] = (),
    deputies: Mapping[int, str] | None = None,
) -> Form:
    """배포계획서. `order`: for an RFC of several systems, each system in the RFC's order with how its
    production deployment stands (CHG-PLAN: deployed one after another)."""
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
    for entry in evidence:
        counts = entry.payload.counts
        tests.append(
            (
                str(entry.payload.kind),
                entry.payload.commit[:10],
                str(counts.tests),
                str(counts.passed),
                str(counts.failed + counts.errors),
                when(entry.moment, zone),
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
        *(
            (
                FormSection(
                    t("Deployment order (one system after another)", "시스템별 배포 순서"),
                    table=(
                        (
                            t("Order", "순서"),
                            t("System", "시스템"),
                            t("State", "상태"),
                            t("Deployment", "배포ID"),
                        ),
                        *(
                            (
                                str(n),
                                s.system,
                                t(s.state, SYSTEM_STATE_KO.get(s.state, s.state)),
                                s.deployment or "-",
                            )
                            for n, s in enumerate(order, 1)
                        ),
                    ),
                ),
            )
            if len(order) > 1
            else ()
        ),
        FormSection(
            t("Approvals (release steps)", "배포 승인"),
            table=_approvals(
                approvals,
                lang,
                {"release-first", "release-second"},
                zone=zone,
                standing=standing,
                deputies=deputies,
            ),
        ),
    )
    return Form(
        "release-plan",
        t(*FORM_TITLES["release-plan"]),
        f"{rfc.id} — {rfc.title}",
        sections,
        _signoff(RELEASE_SIGNOFF, approvals, lang, zone, standing, deputies),
    )


def _closure_section(
    closure: Sequence[Entry[Any]], t: Callable[[str, str], str], zone: tzinfo | None
) -> FormSection:
    """배포관리 3.1–4.3: the production tests, the requester's acceptance test, the consistency review and the
    closure of the deployment, as recorded (whether each counts is the gate's judgement: `rules.closure`)."""
    from gatekeeper.domain.records import ChangeClosed, ReleaseAccepted, ReleaseReviewed, TestEvidence

    def latest(kind: type) -> Entry[Any] | None:
        return next((e for e in reversed(closure) if isinstance(e.payload, kind)), None)

    def by(entry: Entry[Any] | None, text: str) -> str:
        return f"{text} — {entry.actor}, {when(entry.moment, zone)}" if entry is not None else "-"

    tests = [e for e in closure if isinstance(e.payload, TestEvidence)]
    tested = "; ".join(
        f"{e.payload.kind} {e.payload.counts.passed}/{e.payload.counts.tests} ({when(e.moment, zone)})"
        for e in tests
    )
    accepted, reviewed, closed = latest(ReleaseAccepted), latest(ReleaseReviewed), latest(ChangeClosed)
    return FormSection(
        t("Acceptance and closure", "인수테스트 및 종료"),
        (
            FormField(t("Production tests", "운영환경 테스트"), tested or "-"),
            FormField(
                t("Acceptance test", "인수테스트"),
                by(
                    accepted,
                    (
                        t("accepted", "승인")
                        if accepted.payload.result == "accepted"
                        else t("rejected", "반려")
                    )
                    + (f": {accepted.payload.note}" if accepted.payload.note else ""),
                )
                if accepted is not None
                else "-",
            ),
            FormField(
                t("Consistency review", "일치성 검토"),
                by(
                    reviewed,
                    t("plans and result agree", "계획·결과 일치")
                    if reviewed.payload.consistent
                    else t("plans and result disagree", "계획·결과 불일치"),
                )
                if reviewed is not None
                else "-",
            ),
            FormField(t("Closure", "배포·변경 종료"), by(closed, t("closed", "종료")) if closed else "-"),
            FormField(
                t("Improvements for later releases", "향후 배포 개선 사항"),
                (closed.payload.improvements or "-") if closed is not None else "-",
                True,
            ),
        ),
    )


def deployment_result_form(
    started: Entry[DeploymentStarted],
    finished: Entry[DeploymentFinished] | None,
    lang: str,
    *,
    zone: tzinfo | None = None,
    closure: Sequence[Entry[Any]] = (),
) -> Form:
    """배포결과서; `closure`: the records about the deployment after it finished (production tests bound to
    it, acceptance, review, closure), in ledger order."""
    t = partial(_t, lang)
    end = finished.payload if finished else None

    def value(text: str | None) -> str:
        return text or "-"

    sections = (
        FormSection(
            t("Deployment", "배포 정보"),
            (
                FormField(t("Deployment ID", "배포ID"), started.id),
                FormField(t("Change IDs", "변경요청ID"), ", ".join(started.rfcs) or "-"),
                FormField(t("System", "시스템"), started.system),
                FormField(t("Environment", "환경"), value(started.payload.environment)),
                FormField(t("Commit", "커밋"), value(started.payload.commit)),
                FormField(t("Change type", "변경 유형"), word(started.payload.change_type, lang)),
            ),
        ),
        FormSection(
            t("Result", "배포 결과"),
            (
                FormField(t("Start", "시작 일시"), when(started.moment, zone)),
                FormField(
                    t("End", "종료 일시"),
                    when(finished.moment, zone) if finished else t("in progress", "진행 중"),
                ),
                FormField(t("Result", "결과"), value(word(end.result, lang) if end else None)),
                FormField(t("Worker", "작업자"), value(end.worker) if end else started.actor),
                FormField(t("Test result", "테스트 결과"), value(end.test_result if end else None), True),
                FormField(t("Verifier", "검증자"), value(end.verifier if end else None)),
                FormField(t("Errors", "오류 내용"), value(end.errors if end else None), True),
                FormField(
                    t("Monitoring result", "모니터링 결과"), value(end.monitoring if end else None), True
                ),
                FormField(t("Improvements", "개선 사항"), value(end.improvements if end else None), True),
            ),
        ),
        _closure_section(closure, t, zone),
    )
    worker = (end.worker if end else "") or started.actor
    signoff = (
        SignOff(t("Worker", "작업자"), worker, when(started.moment, zone)),
        SignOff(
            t("Verifier", "검증자"),
            (end.verifier if end else "") or "",
            when(finished.moment, zone) if finished and end and end.verifier else "",
        ),
    )
    return Form(
        "deployment-result",
        t(*FORM_TITLES["deployment-result"]),
        f"{started.id} ({', '.join(started.rfcs)})",
        sections,
        signoff,
    )


CAUSE_LABELS = {
    "human": ("human", "인적"),
    "hardware": ("H/W", "H/W"),
    "software": ("S/W", "S/W"),
    "os": ("O/S", "O/S"),
    "network": ("N/W", "N/W"),
    "technical": ("technical", "기술"),
    "unknown": ("unknown", "원인 불명"),
}


def incident_report_form(incident: IncidentState, system_name: str, lang: str) -> Form:
    """장애보고서 (seed 002 장애관리 자-3) of an incident as the one history folds it: its duration is the
    incident's 장애 시간 (`IncidentState.minutes`), the figure the KPIs average."""
    t = partial(_t, lang)
    opened = incident.opened

    def value(found: object) -> str:
        if isinstance(found, datetime):
            return found.isoformat()
        return "-" if found in (None, "") else str(found)

    minutes = incident.minutes
    duration = "-" if minutes is None else t(f"{minutes:.0f} min", f"{minutes:.0f}분")
    cause_type = str(incident.latest("cause_type") or "")
    cause_label = CAUSE_LABELS.get(cause_type)
    closed = incident.closed
    timeline = [
        (t("Time", "시간"), t("Damage and response", "피해상황 및 대응조치"), t("By", "담당자")),
        (incident.opened_at.isoformat(), t("incident recorded", "장애 접수"), incident.opened_by),
    ]
    for step in incident.timeline:
        note = step.note + (t(" (intermediate report)", " (중간보고)") if step.report else "")
        timeline.append((step.at.isoformat(), note or "-", step.actor))
    sections = (
        FormSection(
            t("Incident", "장애 내역"),
            (
                FormField(t("Incident ID", "장애ID"), incident.id),
                FormField(t("System", "시스템명"), f"{system_name} ({incident.system})"),
                FormField(t("Title", "제목"), value(opened.title)),
                FormField(t("Type", "유형"), value(opened.type)),
                FormField(t("Status", "상태"), t("closed", "종료") if closed else t("open", "진행 중")),
                FormField(t("Grade", "장애 등급"), value(incident.grade)),
                FormField(t("Occurred at", "발생 일시"), value(incident.start)),
                FormField(t("Received at", "접수 일시"), value(opened.detected_at or incident.opened_at)),
                FormField(t("Received by", "접수자"), incident.opened_by),
                FormField(t("Resolved at", "복구 일시"), value(incident.resolved_at)),
                FormField(t("Service interruption", "서비스 중단시간(분)"), duration),
                FormField(t("Change IDs", "관련 변경요청"), ", ".join(incident.rfcs) or "-"),
                FormField(t("Deployment", "관련 배포"), value(opened.deployment_id)),
            ),
        ),
        FormSection(
            t("Symptom and scope", "장애 증상 및 범위"),
            (
                FormField(
                    t("Symptom", "장애 증상"), value(incident.latest("symptom") or opened.errors), True
                ),
                FormField(t("Scope", "영향 범위"), value(incident.latest("scope")), True),
                FormField(
                    t("Service impact", "서비스 영향도"), value(incident.latest("service_impact")), True
                ),
            ),
        ),
        FormSection(t("Timeline", "시간대 별 경과 사항"), table=tuple(timeline)),
        FormSection(
            t("Cause analysis", "원인 분석"),
            (
                FormField(
                    t("Analysis", "진행 여부"),
                    t("done", "완료")
                    if closed is not None and cause_type != "unknown"
                    else t("open", "미완료"),
                ),
                FormField(
                    t("Cause type", "원인 유형"),
                    "-" if cause_label is None else t(*cause_label),
                ),
                FormField(t("Findings", "분석 결과"), value(incident.latest("cause") or opened.errors), True),
            ),
        ),
        FormSection(
            t("Handling", "처리 결과"),
            (
                FormField(t("Owner", "담당자"), opened.owner or incident.opened_by),
                FormField(t("Handler", "처리자"), value(incident.latest("handler"))),
                FormField(t("Actions taken", "처리내역"), value(incident.latest("action")), True),
                FormField(
                    t("Corrective and preventive actions", "시정 및 예방조치"),
                    value(incident.latest("follow_up")),
                    True,
                ),
                FormField(
                    t("Problem management", "문제관리 이관"),
                    ", ".join(incident.problems) or "-",
                ),
            ),
        ),
    )
    return Form(
        "incident-report",
        t(*FORM_TITLES["incident-report"]),
        f"{incident.id} — {value(opened.title)}",
        sections,
    )


def render_form(
    form: Form, *, html: bool, lang: str, generated: str, letterhead: Letterhead | None = None
) -> str:
    from gatekeeper.reporters.render import render_template

    values = {
        "form": form,
        "lang": lang,
        "generated": generated,
        "version": __version__,
        "letterhead": letterhead or Letterhead(""),
    }
    if html:
        return render_template("forms/form.html.j2", **values)
    return render_template("forms/form.md.j2", **values, md=for_markdown, md_block=md_block)


def md_block(text: str) -> str:
    """Multi-line untrusted text as Markdown: each line escaped, line breaks kept."""
    return "<br>".join(for_markdown(line) for line in text.splitlines()) or "-"
