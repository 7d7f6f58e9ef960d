"""Command-line values that several commands take and all parse the same way: times (`--at`, `--since`,
`--until`). A bad value is a usage error (exit 2) naming the option, what was given and how to write it,
in English and Korean."""

from __future__ import annotations

import argparse
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from gatekeeper.config import Config
from gatekeeper.errors import UsageError
from gatekeeper.messages import Message, msg
from gatekeeper.untrusted import TIME_RANGE, time_in_range

_EXAMPLE = "2026-11-24T19:30:00+09:00 or 2026-11-24T10:30:00Z"


def _refused(option: str, text: str, what: Message, *, dates: bool) -> UsageError:
    shown = repr(text[:60])
    if dates:
        return UsageError(
            msg("{option} {shown} {what}", option=option, shown=shown, what=what),
            hint=msg(
                "give an ISO 8601 time with an offset, e.g. {example}, or a date YYYY-MM-DD", example=_EXAMPLE
            ),
        )
    return UsageError(
        msg("{option} {shown} {what}", option=option, shown=shown, what=what),
        hint=msg("give an ISO 8601 time with an offset, e.g. {example}", example=_EXAMPLE),
    )


def parse_time(text: str, option: str, *, zone: ZoneInfo | None = None, end: bool = False) -> datetime:
    """An aware time within the range gatekeeper computes with. With `zone`, a date (YYYY-MM-DD) is also
    accepted: local midnight, or for an `end` the next midnight so that the day is included."""
    dates = zone is not None
    try:
        if zone is not None and len(text.strip()) == 10:
            day = date.fromisoformat(text.strip())
            # For an end, the calendar day after (so the day is included), even across a DST change.
            moment = datetime.combine(
                day + timedelta(days=1) if end and day < date.max else day, time(0), zone
            )
        else:
            moment = datetime.fromisoformat(text.strip())
    except ValueError:
        what = msg("is not a date or an ISO 8601 time") if dates else msg("is not an ISO 8601 time")
        raise _refused(option, text, what, dates=dates) from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise _refused(
            option, text, msg("has no UTC offset, so its meaning depends on the machine"), dates=dates
        )
    try:
        return time_in_range(moment)
    except (ValueError, OverflowError):
        raise _refused(
            option,
            text,
            msg("is outside the times gatekeeper computes with ({TIME_RANGE})", TIME_RANGE=TIME_RANGE),
            dates=dates,
        ) from None


def parse_at(text: str) -> datetime:
    """An aware datetime from `--at`; naive, malformed or out-of-range times are usage errors (exit 2)."""
    from gatekeeper.commands._options import parse_time

    return parse_time(text, "--at")


def add_period(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--since", help="first day (YYYY-MM-DD, local) or time with offset; default: all")
    parser.add_argument("--until", help="last day, inclusive (YYYY-MM-DD), or an exclusive time with offset")


def parse_moment(text: str | None, zone: ZoneInfo, *, end: bool, option: str) -> datetime | None:
    """A date (local midnight; for --until the next midnight, so the day is included) or an aware time."""
    from gatekeeper.commands._options import parse_time

    return None if text is None else parse_time(text, option, zone=zone, end=end)


def period(args: argparse.Namespace, config: Config) -> tuple[datetime | None, datetime | None]:
    zone = ZoneInfo(config.timezone)
    since = parse_moment(args.since, zone, end=False, option="--since")
    until = parse_moment(args.until, zone, end=True, option="--until")
    if since is not None and until is not None and until <= since:
        raise UsageError(msg("--until is not after --since"), hint=msg("swap the two dates"))
    return since, until
