"""The SOP's registers (관리대장) as one workbook: 변경이력 관리대장 (CHG), 배포 관리대장 (REL) and
장애 관리대장 (INC, the columns of the seed's example register, 002:1377), built from the RFCs and typed
ledger records and written with openpyxl. Every cell is untrusted text: a value that a spreadsheet would
read as a formula is stored as text."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from pathlib import Path
from typing import Any

from gatekeeper.domain.records import (
    Approval,
    DeploymentFinished,
    DeploymentStarted,
    Entry,
    IncidentOpened,
)
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.messages import ptr
from gatekeeper.reporters.forms import when
from gatekeeper.reporters.words import word


@dataclass(frozen=True)
class Sheet:
    name: str  # at most 31 characters, as Excel allows
    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def _at(moment: datetime | None, zone: tzinfo) -> str:
    return when(moment, zone) if moment is not None else ""


def change_register(
    rfcs: Iterable[RfcEntry],
    approvals: Iterable[Entry[Approval]],
    deployments: Iterable[tuple[Entry[DeploymentStarted], Entry[DeploymentFinished] | None]],
    lang: str,
    zone: tzinfo,
) -> Sheet:
    """변경이력 관리대장: one row per RFC, with who gave each change step last and its last deployment."""
    approved: dict[tuple[str, str], Entry[Approval]] = {}
    for decision in approvals:
        if decision.payload.decision == "approve":
            for rfc_id in decision.rfcs:
                approved[(rfc_id, decision.payload.step)] = decision
    last: dict[str, tuple[Entry[DeploymentStarted], Entry[DeploymentFinished] | None]] = {}
    for started, finished in deployments:
        for rfc_id in started.rfcs:
            last[rfc_id] = (started, finished)
    steps = ("change-review", "cab", "change-approval")
    header = (
        ptr(lang, "change register", "Change ID"),
        ptr(lang, "change register", "Title"),
        ptr(lang, "change register", "Type"),
        ptr(lang, "change register", "Requester"),
        ptr(lang, "change register", "Requested"),
        ptr(lang, "change register", "Systems"),
        ptr(lang, "change register", "Status"),
        *(ptr(lang, "change register", "{step} (by, at)", step=word(step, lang)) for step in steps),
        ptr(lang, "change register", "Last deployment"),
        ptr(lang, "change register", "Result"),
    )
    rows = []
    for entry in sorted(rfcs, key=lambda e: e.id):
        rfc = entry.rfc
        if rfc is None:
            rows.append(
                (
                    entry.id,
                    ptr(
                        lang,
                        "change register",
                        "invalid: {error}",
                        error=entry.error,
                        entry_error_ko=entry.error_ko or entry.error,
                    ),
                    *[""] * 10,
                )
            )
            continue
        given = []
        for step in steps:
            found = approved.get((entry.id, step))
            given.append(f"{found.actor}, {_at(found.moment, zone)}" if found else "")
        deployed = last.get(entry.id)
        result = ""
        if deployed is not None:
            finished = deployed[1]
            result = (
                word(finished.payload.result, lang)
                if finished
                else ptr(lang, "change register", "in progress")
            )
        rows.append(
            (
                entry.id,
                rfc.title,
                word(rfc.type, lang),
                rfc.requester,
                _at(rfc.schedule.requested_at, zone),
                ", ".join(rfc.systems),
                word(rfc.status, lang),
                *given,
                _at(deployed[0].moment, zone) if deployed else "",
                result,
            )
        )
    return Sheet(ptr(lang, "change register", "Changes"), header, tuple(rows))


def deployment_register(
    deployments: Iterable[tuple[Entry[DeploymentStarted], Entry[DeploymentFinished] | None]],
    lang: str,
    zone: tzinfo,
) -> Sheet:
    """배포 관리대장: one row per deployment, its finish paired with it."""
    header = (
        ptr(lang, "deployment register", "Deployment ID"),
        ptr(lang, "deployment register", "Change IDs"),
        ptr(lang, "deployment register", "Environment"),
        ptr(lang, "deployment register", "Commit"),
        ptr(lang, "deployment register", "Started"),
        ptr(lang, "deployment register", "Finished"),
        ptr(lang, "deployment register", "Result"),
        ptr(lang, "deployment register", "Worker"),
        ptr(lang, "deployment register", "Verifier"),
        ptr(lang, "deployment register", "Errors"),
    )
    rows = []
    for started, finished in deployments:
        end = finished.payload if finished else None
        rows.append(
            (
                started.id,
                ", ".join(started.rfcs),
                started.payload.environment,
                started.payload.commit[:12],
                _at(started.moment, zone),
                _at(finished.moment, zone) if finished else "",
                word(end.result, lang) if end else ptr(lang, "deployment register", "in progress"),
                (end.worker if end else "") or started.actor,
                end.verifier if end else "",
                end.errors if end else "",
            )
        )
    return Sheet(ptr(lang, "deployment register", "Deployments"), header, tuple(rows))


def incident_register(
    incidents: Iterable[Entry[IncidentOpened]], system_name: str, lang: str, zone: tzinfo
) -> Sheet:
    """장애 관리대장, with the columns of the SOP's example register (002:1377)."""
    header = (
        ptr(lang, "incident register", "Incident ID"),
        ptr(lang, "incident register", "Type"),
        ptr(lang, "incident register", "System"),
        ptr(lang, "incident register", "Title"),
        ptr(lang, "incident register", "Status"),
        ptr(lang, "incident register", "Detected"),
        ptr(lang, "incident register", "Occurred"),
        ptr(lang, "incident register", "Resolved"),
        ptr(lang, "incident register", "Duration (min)"),
        ptr(lang, "incident register", "Grade"),
        ptr(lang, "incident register", "Owner"),
        ptr(lang, "incident register", "Handler"),
        ptr(lang, "incident register", "Cause"),
        ptr(lang, "incident register", "Action"),
        ptr(lang, "incident register", "Follow-up"),
        ptr(lang, "incident register", "Remarks"),
    )
    rows = []
    for entry in incidents:
        data = entry.payload
        minutes = ""
        if data.occurred_at is not None and data.resolved_at is not None:
            minutes = f"{(data.resolved_at - data.occurred_at).total_seconds() / 60:.0f}"
        remark = (
            ptr(lang, "incident register", "deployment {deployment_id}", deployment_id=data.deployment_id)
            if data.deployment_id
            else ""
        )
        rows.append(
            (
                entry.id,
                word(data.type, lang),
                f"{system_name} ({entry.system})",
                data.title,
                word(data.status, lang),
                _at(data.detected_at, zone),
                _at(data.occurred_at, zone),
                _at(data.resolved_at, zone),
                minutes,
                "" if data.grade is None else str(data.grade),
                data.owner or entry.actor,
                data.handler,
                data.cause or data.errors,
                data.action,
                data.follow_up,
                remark,
            )
        )
    return Sheet(ptr(lang, "incident register", "Incidents"), header, tuple(rows))


def pair_deployments(
    started: Iterable[Entry[DeploymentStarted]], finished: Iterable[Entry[DeploymentFinished]]
) -> list[tuple[Entry[DeploymentStarted], Entry[DeploymentFinished] | None]]:
    """Each deployment with its finish (the one way deployments pair: a finish names its start)."""
    ends: Mapping[str, Entry[DeploymentFinished]] = {f.payload.started: f for f in finished}
    return [(s, ends.get(s.id)) for s in started]


def write_workbook(sheets: Iterable[Sheet], target: Path, *, title: str, head: str) -> None:
    """The register as an .xlsx file: a bold, frozen header row, filters, column widths by content."""
    from openpyxl import Workbook
    from openpyxl.cell.cell import TYPE_STRING
    from openpyxl.styles import Alignment, Font, PatternFill
    from openpyxl.utils import get_column_letter

    from gatekeeper.reporters.columns import width

    book = Workbook()
    if book.active is not None:
        book.remove(book.active)  # the default empty sheet
    for sheet in sheets:
        ws = book.create_sheet(sheet.name[:31])
        ws.append(list(sheet.header))
        for row in sheet.rows:
            ws.append(list(row))
            for cell in ws[ws.max_row]:
                # Untrusted text that starts like a formula is stored as text: shown, never evaluated.
                if isinstance(cell.value, str) and cell.value[:1] in ("=", "+", "-", "@"):
                    cell.data_type = TYPE_STRING
        for cell in ws[1]:
            cell.font = Font(bold=True)
            cell.fill = PatternFill("solid", fgColor="DDE6F0")
            cell.alignment = Alignment(vertical="center", wrap_text=True)
        ws.freeze_panes = "A2"
        if sheet.rows:
            ws.auto_filter.ref = ws.dimensions
        for index, name in enumerate(sheet.header, start=1):
            longest = max([width(name), *(width(row[index - 1]) for row in sheet.rows)], default=8)
            ws.column_dimensions[get_column_letter(index)].width = min(max(longest + 2, 8), 60)
    book.properties.title = title
    book.properties.creator = "gatekeeper"
    book.properties.description = f"ledger head {head}"
    book.save(target)


def read_workbook(source: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every sheet's rows as values (the header first): for checking what was written."""
    from openpyxl import load_workbook

    book = load_workbook(source, read_only=True)
    try:
        return {ws.title: [tuple(row) for row in ws.iter_rows(values_only=True)] for ws in book.worksheets}
    finally:
        book.close()
