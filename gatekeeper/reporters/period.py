"""A period as people read it: `2026-11-01 – 2026-11-30`, the same figure in every report.

Periods are half-open in the code (`since <= t < until`, `until` the midnight after the last day, see
`commands._options.period`); readers see the first and the last day, inclusive, in the system's time zone,
or minutes where a bound is not a midnight. An open bound reads "start"/"now" (Korean: 처음/현재)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from gatekeeper.messages import ptr


def _shown(moment: datetime, zone: ZoneInfo, *, end: bool) -> str:
    local = moment.astimezone(zone)
    if local.timetz().replace(tzinfo=None) == time(0):
        return ((local - timedelta(days=1)) if end else local).strftime("%Y-%m-%d")
    return local.strftime("%Y-%m-%d %H:%M")


def period_text(since: datetime | None, until: datetime | None, zone: ZoneInfo, lang: str = "en") -> str:
    """`first – last` (inclusive days, or minutes), with the open ends named in the language."""
    start, now = ptr(lang, "open period", "start"), ptr(lang, "open period", "now")
    first = _shown(since, zone, end=False) if since else start
    last = _shown(until, zone, end=True) if until else now
    return f"{first} – {last}"
