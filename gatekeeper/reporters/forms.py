"""The SOP's forms (변경요청서, 배포계획서, 배포결과서, 장애보고서) from RFC content and typed ledger records,
rendered by jinja2 templates under `templates/forms/` (Markdown or HTML, autoescaped: every value is
untrusted text)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, tzinfo
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
from gatekeeper.messages import Message, msg, ptr, tr
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
    shown = tr(lang, "{name} ({ident}), grade {grade}", name=name, ident=ident, grade=grade)
    return Letterhead(system=shown, agency=agency, head=head)


# How a decision of the ledger stands for the approval rules (`facts.history`), by record seq.
COUNTED, SUPERSEDED, NOT_COUNTED = "counted", "superseded", "not-counted"
STANDING_WORDS = {
    COUNTED: msg("counted"),
    SUPERSEDED: msg("superseded"),
    NOT_COUNTED: msg("not counted"),
}


def when(moment: datetime, zone: tzinfo | None) -> str:
    """A time as forms show it: to the minute in the system's zone (`2026-11-24 20:00 KST`); ISO 8601
    when no zone is given."""
    if zone is None:
        return moment.isoformat()
    local = moment.astimezone(zone)
    return f"{local:%Y-%m-%d %H:%M} {local.tzname() or ''}".rstrip()


FORM_TITLES = {
    "change-request": msg("Change request / change plan"),
    "release-plan": msg("Release plan"),
    "deployment-result": msg("Deployment result"),
    "incident-report": msg("Incident report"),
}


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
        tr(lang, "Step"),
        tr(lang, "Decision"),
        tr(lang, "Approver"),
        tr(lang, "At"),
        tr(lang, "Comment"),
    )
    if standing is not None:
        header += (tr(lang, "Counted"),)
    rows: list[tuple[str, ...]] = [header]
    for entry in entries:
        approval = entry.payload
        if steps is not None and approval.step not in steps:
            continue
        remarks = [approval.comment] if approval.comment else []
        if approval.conditions:
            remarks.append(tr(lang, "conditions: ") + approval.conditions)
        if approval.minutes:
            remarks.append(tr(lang, "minutes: ") + approval.minutes)
        row: tuple[str, ...] = (
            word(approval.step, lang),
            word(approval.decision, lang),
            _approver(entry, lang, deputies),
            when(entry.moment, zone),
            "; ".join(remarks),
        )
        if standing is not None:
            row += (STANDING_WORDS[standing.get(entry.seq, NOT_COUNTED)].said(lang),)
        rows.append(row)
    return tuple(rows)


def _approver(entry: Entry[Approval], lang: str, deputies: Mapping[int, str] | None) -> str:
    """Who gave the decision; a deputy with the delegator they act for: `lee (대리: park)`."""
    delegator = (deputies or {}).get(entry.seq, "")
    if not delegator:
        return entry.actor
    return tr(lang, "{actor} (deputy of {delegator})", actor=entry.actor, delegator=delegator)


def _signoff(
    boxes: Iterable[tuple[str, Message]],
    approvals: Iterable[Entry[Approval]],
    lang: str,
    zone: tzinfo | None,
    standing: Mapping[int, str] | None,
    deputies: Mapping[int, str] | None = None,
) -> tuple[SignOff, ...]:
    """The 결재란 of a form: for each (step, role) the approver whose decision counts."""
    signed: dict[str, Entry[Approval]] = {}
    for entry in approvals:
        approval = entry.payload
        counted = standing is None or standing.get(entry.seq) == COUNTED
        if approval.decision == "approve" and counted:
            signed[approval.step] = entry  # the latest counted approval of the step
    out = []
    for step, role in boxes:
        found = signed.get(step)
        name, at = (_approver(found, lang, deputies), when(found.moment, zone)) if found else ("", "")
        out.append(SignOff(role.said(lang), name, at))
    return tuple(out)


CHANGE_SIGNOFF = (
    ("change-review", msg("Review")),
    ("cab", msg("CAB")),
    ("change-approval", msg("Approval")),
)
RELEASE_SIGNOFF = (
    ("release-first", msg("First approval")),
    ("release-second", msg("Second approval")),
)


def _urgency(value: str, lang: str) -> str:
    """An RFC's urgency in `lang`."""
    said = {
        "low": ptr(lang, "urgency", "low"),
        "normal": ptr(lang, "urgency", "normal"),
        "high": ptr(lang, "urgency", "high"),
        "critical": ptr(lang, "urgency", "critical"),
    }
    return said.get(value, value)


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
    impact = rfc.impact
    impact_text = tr(
        lang,
        "level {level}; systems: {systems}; agencies: {agencies}; service interruption: {interruption}",
        level=word(impact.level, lang),
        systems=", ".join(impact.systems) or "-",
        agencies=", ".join(impact.agencies) or "-",
        interruption=msg("yes") if impact.service_interruption else msg("no"),
    )
    requested = when(rfc.schedule.requested_at, zone) if rfc.schedule.requested_at else "-"
    sections = (
        FormSection(
            tr(lang, "Request"),
            (
                FormField(tr(lang, "Change ID"), rfc.id),
                FormField(ptr(lang, "change request form", "Title"), rfc.title),
                FormField(tr(lang, "Change type"), word(rfc.type, lang)),
                FormField(ptr(lang, "change request form", "Requester"), rfc.requester),
                FormField(tr(lang, "Requester's organisation"), rfc.requester_org or "-"),
                FormField(
                    tr(lang, "Request date"),
                    rfc.request_date.isoformat() if rfc.request_date else "-",
                ),
                FormField(tr(lang, "Urgency"), _urgency(rfc.urgency, lang)),
                FormField(tr(lang, "Target systems"), ", ".join(rfc.systems)),
                FormField(tr(lang, "Worker"), rfc.worker or "-"),
                FormField(tr(lang, "Requested date/time"), requested),
                FormField(tr(lang, "Window"), rfc.schedule.window or "-"),
                FormField(ptr(lang, "change request form", "Status"), word(rfc.status, lang)),
            ),
        ),
        FormSection(
            ptr(lang, "change request form", "Plan"),
            (
                FormField(tr(lang, "Basis of the request"), rfc.basis or "-", True),
                FormField(tr(lang, "Reason"), rfc.reason, True),
                FormField(tr(lang, "Content"), rfc.description or "-", True),
                FormField(tr(lang, "Impact"), impact_text, True),
                FormField(
                    tr(lang, "Documents (revision)"),
                    ", ".join(f"{d.name} ({d.revision})" if d.revision else d.name for d in rfc.documents)
                    or "-",
                    True,
                ),
                FormField(tr(lang, "Work plan"), rfc.work_plan or "-", True),
                FormField(tr(lang, "Deployment plan"), rfc.deployment_plan or "-", True),
                FormField(tr(lang, "Test plan"), rfc.test_plan or "-", True),
                FormField(tr(lang, "Rollback plan"), rfc.rollback_plan or "-", True),
            ),
        ),
        FormSection(
            tr(lang, "Approvals (from the ledger)"),
            table=_approvals(approvals, lang, zone=zone, standing=standing, deputies=deputies),
        ),
    )
    return Form(
        "change-request",
        FORM_TITLES["change-request"].said(lang),
        f"{rfc.id} — {rfc.title}",
        sections,
        _signoff(CHANGE_SIGNOFF, approvals, lang, zone, standing, deputies),
    )


def _system_state(state: str, lang: str) -> str:
    """How a system's production deployment stands (`SystemRelease.state`), in `lang`."""
    said = {
        "none": ptr(lang, "system release state", "none"),
        "open": ptr(lang, "system release state", "open"),
        "success": ptr(lang, "system release state", "success"),
        "failure": ptr(lang, "system release state", "failure"),
        "rolled-back": ptr(lang, "system release state", "rolled-back"),
        "aborted": ptr(lang, "system release state", "aborted"),
        "unverified": ptr(lang, "system release state", "unverified"),
    }
    return said.get(state, state)


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
    interruption = tr(lang, "yes") if rfc.impact.service_interruption else tr(lang, "no")
    tests = [
        (
            tr(lang, "Kind"),
            tr(lang, "Commit"),
            tr(lang, "Tests"),
            tr(lang, "Passed"),
            tr(lang, "Failed"),
            tr(lang, "Recorded"),
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
            tr(lang, "Release"),
            (
                FormField(tr(lang, "Change ID"), rfc.id),
                FormField(tr(lang, "Author"), rfc.requester),
                FormField(tr(lang, "Release type"), str(rfc.type)),
                FormField(
                    ptr(lang, "release plan form", "Service impact"),
                    f"{rfc.impact.level}; " + tr(lang, "interruption: ") + interruption,
                ),
                FormField(tr(lang, "Linked systems"), ", ".join(rfc.impact.integrations) or "-"),
            ),
        ),
        FormSection(
            ptr(lang, "release plan form", "Plan"),
            (
                FormField(tr(lang, "Deployment plan"), rfc.deployment_plan or "-", True),
                FormField(tr(lang, "Test scenario"), rfc.test_plan or "-", True),
                FormField(tr(lang, "Rollback plan"), rfc.rollback_plan or "-", True),
            ),
        ),
        FormSection(tr(lang, "Test evidence (from the ledger)"), table=tuple(tests)),
        *(
            (
                FormSection(
                    tr(lang, "Deployment order (one system after another)"),
                    table=(
                        (
                            tr(lang, "Order"),
                            ptr(lang, "release plan form", "System"),
                            tr(lang, "State"),
                            ptr(lang, "release plan form", "Deployment"),
                        ),
                        *(
                            (
                                str(n),
                                s.system,
                                _system_state(s.state, lang),
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
            tr(lang, "Approvals (release steps)"),
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
        FORM_TITLES["release-plan"].said(lang),
        f"{rfc.id} — {rfc.title}",
        sections,
        _signoff(RELEASE_SIGNOFF, approvals, lang, zone, standing, deputies),
    )


def _closure_section(closure: Sequence[Entry[Any]], lang: str, zone: tzinfo | None) -> FormSection:
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
        tr(lang, "Acceptance and closure"),
        (
            FormField(tr(lang, "Production tests"), tested or "-"),
            FormField(
                tr(lang, "Acceptance test"),
                by(
                    accepted,
                    (tr(lang, "accepted") if accepted.payload.result == "accepted" else tr(lang, "rejected"))
                    + (f": {accepted.payload.note}" if accepted.payload.note else ""),
                )
                if accepted is not None
                else "-",
            ),
            FormField(
                tr(lang, "Consistency review"),
                by(
                    reviewed,
                    tr(lang, "plans and result agree")
                    if reviewed.payload.consistent
                    else tr(lang, "plans and result disagree"),
                )
                if reviewed is not None
                else "-",
            ),
            FormField(tr(lang, "Closure"), by(closed, tr(lang, "closed")) if closed else "-"),
            FormField(
                tr(lang, "Improvements for later releases"),
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
    end = finished.payload if finished else None

    def value(text: str | None) -> str:
        return text or "-"

    sections = (
        FormSection(
            ptr(lang, "deployment result form", "Deployment"),
            (
                FormField(tr(lang, "Deployment ID"), started.id),
                FormField(ptr(lang, "deployment result form", "Change IDs"), ", ".join(started.rfcs) or "-"),
                FormField(ptr(lang, "deployment result form", "System"), started.system),
                FormField(tr(lang, "Environment"), value(started.payload.environment)),
                FormField(tr(lang, "Commit"), value(started.payload.commit)),
                FormField(tr(lang, "Change type"), word(started.payload.change_type, lang)),
            ),
        ),
        FormSection(
            ptr(lang, "deployment result form: section", "Result"),
            (
                FormField(tr(lang, "Start"), when(started.moment, zone)),
                FormField(
                    tr(lang, "End"),
                    when(finished.moment, zone) if finished else tr(lang, "in progress"),
                ),
                FormField(
                    ptr(lang, "deployment result form", "Result"),
                    value(word(end.result, lang) if end else None),
                ),
                FormField(tr(lang, "Worker"), value(end.worker) if end else started.actor),
                FormField(tr(lang, "Test result"), value(end.test_result if end else None), True),
                FormField(tr(lang, "Verifier"), value(end.verifier if end else None)),
                FormField(tr(lang, "Errors"), value(end.errors if end else None), True),
                FormField(tr(lang, "Monitoring result"), value(end.monitoring if end else None), True),
                FormField(tr(lang, "Improvements"), value(end.improvements if end else None), True),
            ),
        ),
        _closure_section(closure, lang, zone),
    )
    worker = (end.worker if end else "") or started.actor
    signoff = (
        SignOff(tr(lang, "Worker"), worker, when(started.moment, zone)),
        SignOff(
            tr(lang, "Verifier"),
            (end.verifier if end else "") or "",
            when(finished.moment, zone) if finished and end and end.verifier else "",
        ),
    )
    return Form(
        "deployment-result",
        FORM_TITLES["deployment-result"].said(lang),
        f"{started.id} ({', '.join(started.rfcs)})",
        sections,
        signoff,
    )


CAUSE_LABELS = {
    "human": msg("human"),
    "hardware": msg("H/W"),
    "software": msg("S/W"),
    "os": msg("O/S"),
    "network": msg("N/W"),
    "technical": msg("technical"),
    "unknown": msg("unknown"),
}


def incident_report_form(incident: IncidentState, system_name: str, lang: str) -> Form:
    """장애보고서 (seed 002 장애관리 자-3) of an incident as the one history folds it: its duration is the
    incident's 장애 시간 (`IncidentState.minutes`), the figure the KPIs average."""
    opened = incident.opened

    def value(found: object) -> str:
        if isinstance(found, datetime):
            return found.isoformat()
        return "-" if found in (None, "") else str(found)

    minutes = incident.minutes
    duration = "-" if minutes is None else tr(lang, "{minutes:.0f} min", minutes=minutes)
    cause_type = str(incident.latest("cause_type") or "")
    cause_label = CAUSE_LABELS.get(cause_type)
    closed = incident.closed
    timeline = [
        (tr(lang, "Time"), tr(lang, "Damage and response"), tr(lang, "By")),
        (incident.opened_at.isoformat(), tr(lang, "incident recorded"), incident.opened_by),
    ]
    for step in incident.timeline:
        note = step.note + (tr(lang, " (intermediate report)") if step.report else "")
        timeline.append((step.at.isoformat(), note or "-", step.actor))
    sections = (
        FormSection(
            tr(lang, "Incident"),
            (
                FormField(tr(lang, "Incident ID"), incident.id),
                FormField(ptr(lang, "incident report form", "System"), f"{system_name} ({incident.system})"),
                FormField(ptr(lang, "incident report form", "Title"), value(opened.title)),
                FormField(ptr(lang, "incident report form", "Type"), value(opened.type)),
                FormField(
                    ptr(lang, "incident report form", "Status"),
                    tr(lang, "closed") if closed else ptr(lang, "incident report form", "open"),
                ),
                FormField(ptr(lang, "incident report form", "Grade"), value(incident.grade)),
                FormField(tr(lang, "Occurred at"), value(incident.start)),
                FormField(tr(lang, "Received at"), value(opened.detected_at or incident.opened_at)),
                FormField(tr(lang, "Received by"), incident.opened_by),
                FormField(tr(lang, "Resolved at"), value(incident.resolved_at)),
                FormField(tr(lang, "Service interruption"), duration),
                FormField(ptr(lang, "incident report form", "Change IDs"), ", ".join(incident.rfcs) or "-"),
                FormField(ptr(lang, "incident report form", "Deployment"), value(opened.deployment_id)),
            ),
        ),
        FormSection(
            tr(lang, "Symptom and scope"),
            (
                FormField(tr(lang, "Symptom"), value(incident.latest("symptom") or opened.errors), True),
                FormField(tr(lang, "Scope"), value(incident.latest("scope")), True),
                FormField(
                    ptr(lang, "incident report form", "Service impact"),
                    value(incident.latest("service_impact")),
                    True,
                ),
            ),
        ),
        FormSection(tr(lang, "Timeline"), table=tuple(timeline)),
        FormSection(
            tr(lang, "Cause analysis"),
            (
                FormField(
                    tr(lang, "Analysis"),
                    tr(lang, "done")
                    if closed is not None and cause_type != "unknown"
                    else ptr(lang, "incident report form: analysis", "open"),
                ),
                FormField(
                    tr(lang, "Cause type"),
                    "-" if cause_label is None else cause_label.said(lang),
                ),
                FormField(tr(lang, "Findings"), value(incident.latest("cause") or opened.errors), True),
            ),
        ),
        FormSection(
            tr(lang, "Handling"),
            (
                FormField(ptr(lang, "incident report form", "Owner"), opened.owner or incident.opened_by),
                FormField(tr(lang, "Handler"), value(incident.latest("handler"))),
                FormField(tr(lang, "Actions taken"), value(incident.latest("action")), True),
                FormField(
                    tr(lang, "Corrective and preventive actions"),
                    value(incident.latest("follow_up")),
                    True,
                ),
                FormField(
                    tr(lang, "Problem management"),
                    ", ".join(incident.problems) or "-",
                ),
            ),
        ),
    )
    return Form(
        "incident-report",
        FORM_TITLES["incident-report"].said(lang),
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
