"""Planned work windows: an RFC's `schedule.window` and a standard change's `window` (pure).

Forms read (the system's time zone gives a bare clock time its day):
- `HH:MM-HH:MM` — every day; an end before the start runs past midnight (`23:00-02:00`); `24:00` ends at
  midnight;
- `YYYY-MM-DD HH:MM-HH:MM` — that day (the end may run into the next one);
- `START/END` — two ISO 8601 times with offsets (`2026-11-24T20:00+09:00/2026-11-24T23:00+09:00`).
`-`, `~` and `–` separate the clock times. An empty window plans no time.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta, tzinfo

FORMS = (
    "'HH:MM-HH:MM' (daily), 'YYYY-MM-DD HH:MM-HH:MM', or 'START/END' in ISO 8601 with offsets, "
    "e.g. '20:00-23:00' or '2026-11-24T20:00+09:00/2026-11-24T23:00+09:00'"
)
_CLOCK = r"([01]?\d|2[0-4]):([0-5]\d)"
_DAILY = re.compile(rf"^(?:(\d{{4}}-\d{{2}}-\d{{2}})\s+)?{_CLOCK}\s*[-~–]\s*{_CLOCK}$")


@dataclass(frozen=True, slots=True)
class PlannedWindow:
    text: str
    day: date | None = None  # daily when None (clock times)
    start_minute: int = 0
    end_minute: int = 0  # may exceed 24 h: runs into the next day
    start: datetime | None = None  # an absolute window (START/END)
    end: datetime | None = None

    def contains(self, moment: datetime, zone: tzinfo) -> bool:
        """Whether the aware `moment` lies inside the window (start inclusive, end exclusive)."""
        if self.start is not None and self.end is not None:
            return self.start <= moment < self.end
        try:
            local = moment.astimezone(zone)
        except OverflowError:  # an instant at the edge of datetime's range has no local time: not inside
            return False
        minute = local.hour * 60 + local.minute + local.second / 60
        if self.day is not None:
            offset = (local.date() - self.day).days * 24 * 60
            return self.start_minute <= minute + offset < self.end_minute
        # Daily: today's window, or yesterday's running past midnight.
        return self.start_minute <= minute < self.end_minute or minute + 24 * 60 < self.end_minute

    def describe(self, zone_name: str) -> str:
        if self.start is not None and self.end is not None:
            return f"{self.start.isoformat(timespec='minutes')} – {self.end.isoformat(timespec='minutes')}"
        return f"{self.text} {zone_name}"


def _minutes(hours: str, minutes: str) -> int:
    value = int(hours) * 60 + int(minutes)
    if value > 24 * 60:
        raise ValueError("a clock time is 00:00 to 24:00")
    return value


def parse_window(text: str) -> PlannedWindow | None:
    """The window `text` plans; None for an empty one. Raises ValueError naming the forms read."""
    stripped = text.strip()
    if not stripped:
        return None
    if len(stripped) > 100:
        raise ValueError(f"a window is at most 100 characters; use {FORMS}")
    if "/" in stripped:
        first, _, second = stripped.partition("/")
        try:
            start, end = datetime.fromisoformat(first.strip()), datetime.fromisoformat(second.strip())
        except ValueError:
            raise ValueError(f"not a window gatekeeper reads; use {FORMS}") from None
        if start.utcoffset() is None or end.utcoffset() is None:
            raise ValueError(f"both times of a START/END window need an offset; use {FORMS}")
        if end <= start:
            raise ValueError("the window ends before it starts")
        return PlannedWindow(stripped, start=start, end=end)
    match = _DAILY.match(stripped)
    if match is None:
        raise ValueError(f"not a window gatekeeper reads; use {FORMS}")
    day_text, h1, m1, h2, m2 = match.groups()
    try:
        day = date.fromisoformat(day_text) if day_text else None
    except ValueError:
        raise ValueError(f"{day_text!r} is not a date; use {FORMS}") from None
    start_minute, end_minute = _minutes(h1, m1), _minutes(h2, m2)
    if start_minute == 24 * 60:
        raise ValueError("a window starts at 23:59 at the latest")
    if end_minute == start_minute:
        raise ValueError("the window starts and ends at the same time")
    if end_minute < start_minute:
        end_minute += 24 * 60
    return PlannedWindow(stripped, day, start_minute, end_minute)


def local_text(moment: datetime, zone: tzinfo) -> str:
    """`moment` in `zone` to the minute (as given where it has no local time there)."""
    try:
        return moment.astimezone(zone).isoformat(timespec="minutes")
    except OverflowError:
        return moment.isoformat(timespec="minutes")


def window_start(window: PlannedWindow, near: datetime, zone: tzinfo) -> datetime:
    """The window's next start at or after `near` (its start for a dated or absolute window)."""
    if window.start is not None:
        return window.start
    try:
        local = near.astimezone(zone)
    except OverflowError:  # no local time at the edge of datetime's range
        return near
    day = window.day or local.date()
    start = datetime.combine(day, time(), zone) + timedelta(minutes=window.start_minute)
    if window.day is None and start < local:
        start += timedelta(days=1)
    return start
