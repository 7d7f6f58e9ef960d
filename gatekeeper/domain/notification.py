"""What people are told, and when (issue 19 item 4): the events a notification channel may carry, built
from records and findings as pure data, Korean first with English.

Each event has an idempotency key. An event about a record (an approval given, an incident opened) takes
the record's hash; an event about a finding (an approval requested, a notice due, a debt overdue, an
intermediate report due) takes a digest of the system, the rule, the subject and the content digest of
the RFCs it concerns, so a gate run again and again on one change asks once. Channels send the key
(`Idempotency-Key`, `Message-ID`) and the adapter's journal refuses to send one key twice.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from gatekeeper.domain import Finding
from gatekeeper.domain.canonical import canonical_json
from gatekeeper.domain.catalogue import CHECKLIST, RULES
from gatekeeper.messages import Message, msg, ptr, tr


class EventKind(StrEnum):
    APPROVAL_REQUESTED = "approval-requested"
    APPROVAL_GIVEN = "approval-given"
    NOTICE_DUE = "notice-due"
    DEBTS_OVERDUE = "debts-overdue"
    INCIDENT_OPENED = "incident-opened"
    INCIDENT_REPORT_DUE = "incident-report-due"


# The name of each event, as subjects and headlines show them.
EVENT_MESSAGES: dict[EventKind, Message] = {
    EventKind.APPROVAL_REQUESTED: msg("Approval requested"),
    EventKind.APPROVAL_GIVEN: msg("Approval given"),
    EventKind.NOTICE_DUE: msg("Prior notice due"),
    EventKind.DEBTS_OVERDUE: msg("Overdue (PIR / after-the-fact review)"),
    EventKind.INCIDENT_OPENED: msg("Incident opened"),
    EventKind.INCIDENT_REPORT_DUE: msg("Intermediate incident report due"),
}

# The gate's rules whose findings are events, and the audit's checklist items whose nonconformities are.
FINDING_EVENTS: dict[str, EventKind] = {
    "approval.missing": EventKind.APPROVAL_REQUESTED,
    "cab.missing": EventKind.APPROVAL_REQUESTED,
    "approval.quorum": EventKind.APPROVAL_REQUESTED,
    "integration.notice-missing": EventKind.NOTICE_DUE,
    "deploy.pir-overdue": EventKind.DEBTS_OVERDUE,
    "deploy.retro-review-overdue": EventKind.DEBTS_OVERDUE,
    "incident.report-missing": EventKind.INCIDENT_REPORT_DUE,
}
AUDIT_EVENTS: dict[str, EventKind] = {
    "change.pir": EventKind.DEBTS_OVERDUE,
    "change.emergency-review": EventKind.DEBTS_OVERDUE,
    "incident.reported": EventKind.INCIDENT_REPORT_DUE,
}


@dataclass(frozen=True, slots=True)
class Line:
    """One labelled line of a message: the label in Korean and English, the value as given (untrusted
    text — titles, comments — is escaped by each channel for its own markup)."""

    ko: str
    en: str
    value: str


@dataclass(frozen=True, slots=True)
class Event:
    kind: EventKind
    key: str  # the idempotency key (hex)
    system: str
    subject: str  # what it is about: "RFC-2026-0042 cab", an incident ID
    summary_ko: str
    summary_en: str
    at: datetime
    rfcs: tuple[str, ...] = ()
    lines: tuple[Line, ...] = ()
    data: Mapping[str, str] = field(default_factory=dict)  # machine-readable details (generic JSON)

    @property
    def name_ko(self) -> str:
        return EVENT_MESSAGES[self.kind].ko

    @property
    def name_en(self) -> str:
        return EVENT_MESSAGES[self.kind].en

    def title(self) -> str:
        """One line, Korean first: '승인 요청 / Approval requested: RFC-2026-0042 cab (minwon-portal)'."""
        return f"{self.name_ko} / {self.name_en}: {self.subject} ({self.system})"


def key_of(*parts: object) -> str:
    return hashlib.sha256(canonical_json(list(parts)).encode("utf-8")).hexdigest()


def _title_line(titles: Mapping[str, str], rfcs: Iterable[str]) -> tuple[Line, ...]:
    shown = [f"{rfc} {titles[rfc]}" for rfc in rfcs if titles.get(rfc)]
    return (Line(ptr("ko", "notification", "Title"), "Title", "; ".join(shown)),) if shown else ()


def approval_given(
    *,
    system: str,
    rfc: str,
    step: str,
    actor: str,
    comment: str,
    record_hash: str,
    at: datetime,
    titles: Mapping[str, str],
) -> Event:
    lines = (
        *_title_line(titles, [rfc]),
        Line(ptr("ko", "notification", "Approver"), "Approver", actor),
        *((Line(ptr("ko", "notification", "Comment"), "Comment", comment),) if comment else ()),
    )
    summary = msg("{actor} approved step {step} of {rfc}.", actor=actor, step=step, rfc=rfc)
    return Event(
        kind=EventKind.APPROVAL_GIVEN,
        key=record_hash,
        system=system,
        subject=f"{rfc} {step}",
        summary_ko=summary.ko,
        summary_en=summary.en,
        at=at,
        rfcs=(rfc,),
        lines=lines,
        data={"rfc": rfc, "step": step, "actor": actor, "record_hash": record_hash},
    )


def incident_opened(
    *,
    system: str,
    incident: str,
    title: str,
    grade: int | None,
    opened_by: str,
    record_hash: str,
    at: datetime,
    rfcs: tuple[str, ...] = (),
) -> Event:
    shown = "?" if grade is None else str(grade)
    lines = (
        Line(ptr("ko", "incident notification", "Title"), "Title", title),
        Line(ptr("ko", "notification", "Grade"), "Grade", shown),
        Line(ptr("ko", "notification", "Opened by"), "Opened by", opened_by),
    )
    summary = msg(
        "Grade-{grade} incident {incident} was opened on {system}.",
        grade=shown,
        incident=incident,
        system=system,
    )
    return Event(
        kind=EventKind.INCIDENT_OPENED,
        key=record_hash,
        system=system,
        subject=incident,
        summary_ko=summary.ko,
        summary_en=summary.en,
        at=at,
        rfcs=rfcs,
        lines=lines,
        data={"incident": incident, "grade": shown, "record_hash": record_hash},
    )


def _finding_summary(kind: EventKind, rule: str, subject: str) -> tuple[str, str]:
    """(Korean, English)."""
    info = RULES.get(rule)
    summary: Message | str = info.message if info else rule
    if kind is EventKind.APPROVAL_REQUESTED:
        rfc, _, step = subject.partition(" ")
        said = msg(
            "Step {step} of {rfc} needs an approval ({rule}).", step=step or "?", rfc=rfc, rule=summary
        )
    else:
        said = msg("{subject}: {rule}.", subject=subject, rule=summary)
    return said.ko, said.en


def finding_events(
    findings: Iterable[Finding],
    *,
    system: str,
    at: datetime,
    digests: Mapping[str, str],
    titles: Mapping[str, str],
) -> list[Event]:
    """The events among a gate's findings (any severity: a warning about an overdue PIR is news too), one
    per rule and subject. `digests` (RFC ID -> content digest) binds a request to the RFC's content: an
    RFC edited after its approval asks again."""
    out: dict[str, Event] = {}
    for finding in findings:
        kind = FINDING_EVENTS.get(finding.rule)
        if kind is None:
            continue
        rfc = finding.subject.partition(" ")[0]
        rfcs = (rfc,) if rfc in digests or rfc in titles else ()
        key = key_of(str(kind), system, finding.rule, finding.subject, digests.get(rfc, ""))
        ko, en = _finding_summary(kind, finding.rule, finding.subject)
        lines = (
            *_title_line(titles, rfcs),
            Line(ptr("ko", "notification", "Detail"), "Detail", finding.message),
            Line(ptr("ko", "notification", "Action"), "Action", finding.remediation),
            Line(ptr("ko", "notification", "SOP"), "SOP", finding.sop),
        )
        out.setdefault(
            key,
            Event(
                kind=kind,
                key=key,
                system=system,
                subject=finding.subject,
                summary_ko=ko,
                summary_en=en,
                at=at,
                rfcs=rfcs,
                lines=lines,
                data={"rule": finding.rule, "severity": str(finding.severity), "subject": finding.subject},
            ),
        )
    return list(out.values())


def audit_events(
    items: Iterable[tuple[str, str, tuple[str, ...]]], *, system: str, at: datetime
) -> list[Event]:
    """The events among an audit's nonconform checklist items: (item id, result, evidence) each."""
    out = []
    for item, result, evidence in items:
        kind = AUDIT_EVENTS.get(item)
        if kind is None or result != "nonconform":
            continue
        _area, sop, question = CHECKLIST[item]
        shown = evidence[:10]
        lines = (
            *(Line(ptr("ko", "notification", "Evidence"), "Evidence", text) for text in shown),
            *(
                (Line(ptr("ko", "notification", "More"), "More", f"{len(evidence) - len(shown)}"),)
                if len(evidence) > len(shown)
                else ()
            ),
            Line(ptr("ko", "notification", "SOP"), "SOP", sop),
        )
        out.append(
            Event(
                kind=kind,
                key=key_of(str(kind), system, item, sorted(evidence)),
                system=system,
                subject=item,
                summary_ko=tr("ko", "Audit item nonconform: {question}", question=question),
                summary_en=tr("en", "Audit item nonconform: {question}", question=question),
                at=at,
                lines=lines,
                data={"item": item, "result": result},
            )
        )
    return out
