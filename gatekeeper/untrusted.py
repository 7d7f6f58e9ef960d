"""Untrusted text read into values that stay inside the limits the rest of gatekeeper computes with.

Python accepts some values and only fails when they are used: a time near year 1 or 9999 overflows once it
is moved to another zone or a day is added; JSON nested a few hundred levels deep exhausts the stack; NaN
and Infinity (or `1e400`) parse as floats that canonical JSON cannot hash; an integer of more than 4,300
digits cannot be converted at all. Every reader of untrusted JSON and times goes through here, so each of
these is a `ValueError` saying what is wrong, which the caller turns into its own error: exit 2 naming
the file or option for an input, an integrity error for a ledger record.
"""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime
from typing import Any

# Times gatekeeper computes with: far enough inside datetime's years 1..9999 that converting to any zone and
# adding the longest period gatekeeper adds (a year of calendar look-ahead, KPI periods) cannot overflow.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)  # exclusive
TIME_RANGE = "1970-01-01 to 8999-12-31"

# Far deeper than any record, event payload or report gatekeeper reads (they nest a handful of levels) and
# far below the interpreter's recursion limit, which every recursive reader downstream shares.
MAX_JSON_DEPTH = 64


def time_in_range(moment: datetime) -> datetime:
    """`moment` (aware) if gatekeeper can compute with it; ValueError otherwise."""
    if not EARLIEST <= moment < LATEST:
        raise ValueError(f"{moment.isoformat()} is outside the times gatekeeper computes with ({TIME_RANGE})")
    return moment


def aware_time(text: str) -> datetime:
    """An ISO 8601 time with a UTC offset (`Z` accepted), within `time_in_range`; ValueError otherwise."""
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"{text[:60]!r} is not an ISO 8601 time") from None
    if moment.tzinfo is None or moment.utcoffset() is None:
        raise ValueError(f"{text[:60]!r} has no UTC offset")
    return time_in_range(moment)


def _finite(text: str) -> float:
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text[:40]} is too large for a float")
    return value


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


_DECODER = json.JSONDecoder(parse_float=_finite, parse_constant=_no_constant)


def _depth(value: Any) -> int:
    """How deeply arrays and objects nest in `value`, walked without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, dict):
            item = item.values()
        elif not isinstance(item, list):
            continue
        depth += 1
        deepest = max(deepest, depth)
        stack.extend((child, depth) for child in item)
    return deepest


def loads_json(text: str | bytes) -> Any:
    """Strict JSON: no NaN or Infinity, no number too large for a float or too long for an int, and no
    nesting deeper than MAX_JSON_DEPTH. ValueError (UnicodeDecodeError for bytes that are not UTF-8)
    otherwise."""
    source = text.decode("utf-8") if isinstance(text, bytes) else text
    try:
        value = _DECODER.decode(source)
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise ValueError(f"arrays and objects nested more than {MAX_JSON_DEPTH} levels deep") from None
    except ValueError as exc:
        if "integer string conversion" in str(exc):  # Python's own wording names a setting, not the input
            raise ValueError("an integer has more digits than Python converts (4,300)") from None
        raise
    # Only a document with more opening brackets than the limit can nest that deeply: most skip the walk.
    if source.count("[") + source.count("{") > MAX_JSON_DEPTH and _depth(value) > MAX_JSON_DEPTH:
        raise ValueError(f"arrays and objects nested more than {MAX_JSON_DEPTH} levels deep")
    return value
