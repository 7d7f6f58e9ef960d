"""Standard changes (단순변경) against the catalogue that defines them in advance (pure).

The SOP lets a standard change skip the CAB and the manager's approval only because it is defined in
advance: "사전에 절차서에 단순변경으로 정의된 변경" (seed 002, 변경관리 자. 관리기준 1, 변경 유형) —
low-risk, routine, its work plan fixed beforehand (1.4 변경 계획: "사전 정의된 변경 작업 계획에 의거").
An RFC of type `standard` must therefore name an entry of the catalogue (`standard_template`), and the
change must stay inside that entry: its systems, its paths or configuration items, its size and its
window. When it does not, the change is judged as the normal change it then is, and the findings say why.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from gatekeeper.config.models import ConfigurationItem, StandardCatalogue, StandardChange
from gatekeeper.domain import ChangeType
from gatekeeper.domain.baseline import matches
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.domain.schedule import parse_window
from gatekeeper.messages import msg

_LISTED = 5  # files named in a finding; the rest are counted


@dataclass(frozen=True, slots=True)
class ChangeSize:
    """What the deployed commits change: the files (paths) and the lines added plus removed."""

    files: tuple[str, ...]
    lines: int


@dataclass(frozen=True, slots=True)
class StandardCheck:
    """One standard RFC against the catalogue: `entry` None when the template names no entry (or there
    is no catalogue); `problems` lists how the change leaves its entry, as (en, ko) pairs."""

    rfc_id: str
    template: str
    catalogue: str  # the catalogue file ("" when none is configured)
    entry: StandardChange | None
    problems: tuple[tuple[str, str], ...] = ()

    @property
    def holds(self) -> bool:
        return self.entry is not None and not self.problems


def _allowed(entry: StandardChange, items: Sequence[ConfigurationItem]) -> tuple[str, ...]:
    by_id = {item.id: item for item in items}
    return (*entry.paths, *(p for i in entry.items if i in by_id for p in by_id[i].paths))


def _listed(paths: Sequence[str]) -> str:
    shown = ", ".join(paths[:_LISTED])
    return shown + (f" (+{len(paths) - _LISTED})" if len(paths) > _LISTED else "")


def check_standard(
    rfc: RfcEntry,
    *,
    system: str,
    catalogue: StandardCatalogue | None,
    catalogue_path: str,
    items: Sequence[ConfigurationItem],
    size: ChangeSize,
    at: datetime,
    zone: str,
) -> StandardCheck | None:
    """The check of one RFC; None when it is no (valid) standard change."""
    if rfc.rfc is None or rfc.rfc.type is not ChangeType.STANDARD:
        return None
    template = rfc.rfc.standard_template or ""
    entries = {e.id: e for e in catalogue.changes} if catalogue is not None else {}
    entry = entries.get(template)
    if entry is None:
        return StandardCheck(rfc.id, template, catalogue_path, None)
    problems: list[tuple[str, str]] = []
    if system not in entry.systems:
        problems.append(
            msg(
                "it covers {entry_systems}, not {system}",
                entry_systems=", ".join(entry.systems),
                system=system,
            ).pair
        )
    allowed = _allowed(entry, items)
    outside = [path for path in size.files if not matches(path, allowed)]
    if outside:
        problems.append(
            msg(
                "{outside_count} file(s) outside its paths and items: {listed_outside}",
                outside_count=len(outside),
                listed_outside=_listed(outside),
            ).pair
        )
    if len(size.files) > entry.max_files:
        problems.append(
            msg(
                "{size_files_count} files changed, more than its max_files {max_files}",
                size_files_count=len(size.files),
                max_files=entry.max_files,
            ).pair
        )
    if size.lines > entry.max_lines:
        problems.append(
            msg(
                "{lines} lines changed, more than its max_lines {max_lines}",
                lines=size.lines,
                max_lines=entry.max_lines,
            ).pair
        )
    window = parse_window(entry.window)
    if window is not None and not window.contains(at, ZoneInfo(zone)):
        problems.append(
            msg("it runs only in {window_describe_zone}", window_describe_zone=window.describe(zone)).pair
        )
    return StandardCheck(rfc.id, template, catalogue_path, entry, tuple(problems))


def effective_types(
    entries: Sequence[RfcEntry], checks: Mapping[str, StandardCheck]
) -> dict[str, ChangeType]:
    """Each valid RFC's change type as the rules judge it: a standard change that does not hold is
    normal."""
    out: dict[str, ChangeType] = {}
    for entry in entries:
        if entry.rfc is None:
            continue
        check = checks.get(entry.id)
        out[entry.id] = ChangeType.NORMAL if check is not None and not check.holds else entry.rfc.type
    return out
