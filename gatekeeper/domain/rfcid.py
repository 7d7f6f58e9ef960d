"""Finding RFC IDs in untrusted text.

An ID counts only when it matches the configured pattern exactly, in ASCII, standing alone (not part of a
longer word such as `XRFC-2026-00011`). Text that would match only after folding look-alike letters
(Cyrillic `РФС`, full-width `ＲＦＣ`) is reported, so the author learns why the ID was not seen.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache
from typing import Any

from gatekeeper.errors import ConfigError, UsageError
from gatekeeper.messages import msg

MAX_PATTERN_CHARS = 200
# ASCII look-alikes that NFKC folding does not cover (Cyrillic and Greek capitals and digits' twins).
_CONFUSABLES = str.maketrans(
    {
        "А": "A",
        "В": "B",
        "Е": "E",
        "К": "K",
        "М": "M",
        "Н": "H",
        "О": "O",
        "Р": "P",
        "С": "C",
        "Т": "T",
        "Х": "X",
        "У": "Y",
        "Ѕ": "S",
        "І": "I",
        "Ј": "J",
        "Ԁ": "D",
        "а": "a",
        "е": "e",
        "о": "o",
        "р": "p",
        "с": "c",
        "х": "x",
        "у": "y",
        "Α": "A",
        "Β": "B",
        "Ε": "E",
        "Ζ": "Z",
        "Η": "H",
        "Ι": "I",
        "Κ": "K",
        "Μ": "M",
        "Ν": "N",
        "Ο": "O",
        "Ρ": "P",
        "Τ": "T",
        "Υ": "Y",
        "Χ": "X",
        "‐": "-",
        "‑": "-",
        "‒": "-",
        "–": "-",
        "—": "-",
        "−": "-",
    }
)
_REPEATS = {"MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"}


def _walk(parsed: Any, inside_repeat: bool) -> None:
    for op, arg in parsed:
        name = str(op)
        if name in _REPEATS:
            _low, high, sub = arg
            if inside_repeat and name != "POSSESSIVE_REPEAT":
                raise ValueError("a quantifier inside a quantified group can backtrack catastrophically")
            _walk(sub, inside_repeat or high > 1)
        elif name == "SUBPATTERN":
            _walk(arg[-1], inside_repeat)
        elif name == "BRANCH":
            if inside_repeat:
                # (a|a)*: overlapping alternatives under a quantifier backtrack exponentially.
                raise ValueError("an alternation inside a quantified group can backtrack catastrophically")
            for branch in arg[1]:
                _walk(branch, inside_repeat)
        elif name in {"GROUPREF", "GROUPREF_EXISTS"}:
            raise ValueError("back-references are not allowed")
        elif name in {"ASSERT", "ASSERT_NOT"}:
            _walk(arg[1], inside_repeat)
        elif name == "ATOMIC_GROUP":
            _walk(arg, False)


def check_id_pattern(pattern: str) -> None:
    """Refuse patterns that are too long or could backtrack catastrophically on hostile commit messages."""
    if len(pattern) > MAX_PATTERN_CHARS:
        raise ValueError(f"id_pattern is {len(pattern)} characters; at most {MAX_PATTERN_CHARS}")
    import re._parser as sre_parser  # type: ignore[import-not-found]

    try:
        parsed = sre_parser.parse(pattern, re.ASCII)
    except re.error as exc:
        raise ValueError(f"not a valid regular expression: {exc}") from None
    _walk(parsed, False)
    if re.fullmatch(pattern, "", re.ASCII):
        raise ValueError("id_pattern matches the empty string")


@lru_cache(maxsize=16)
def _finder(pattern: str) -> re.Pattern[str]:
    try:
        check_id_pattern(pattern)
    except ValueError as exc:
        raise ConfigError(
            msg("rfc.id_pattern {pattern!r}: {exc}", pattern=pattern, exc=exc),
            hint=msg("use a simple pattern such as RFC-\\d{4}-\\d{4}"),
        ) from None
    return re.compile(rf"(?<![A-Za-z0-9_.-])(?:{pattern})(?![A-Za-z0-9_])", re.ASCII)


def find_ids(pattern: str, text: str) -> list[str]:
    """Every distinct RFC ID in `text`, in order of first appearance."""
    seen: dict[str, None] = {}
    for match in _finder(pattern).finditer(text):
        seen.setdefault(match.group(0), None)
    return list(seen)


def is_id(pattern: str, value: str) -> bool:
    return re.fullmatch(pattern, value, re.ASCII) is not None and value.isascii()


def lookalike_ids(pattern: str, text: str) -> list[str]:
    """IDs that appear only once look-alike characters are folded to ASCII, in their original spelling."""
    if text.isascii():
        return []
    folded = unicodedata.normalize("NFKC", text).translate(_CONFUSABLES)
    if len(folded) != len(text):
        # NFKC changed lengths (ligatures etc.); report the folded form.
        return [m for m in find_ids(pattern, folded) if m not in find_ids(pattern, text)]
    found = []
    for match in _finder(pattern).finditer(folded):
        original = text[match.start() : match.end()]
        if original != match.group(0):
            found.append(original)
    return found


_TOKEN = re.compile(r"\\d\{(\d+)\}|\[0-9\]\{(\d+)\}|\\(.)|([A-Za-z0-9_ -])")


def next_id(pattern: str, existing: list[str], year: int) -> str:
    """The next free ID for simple patterns of literals and fixed-width digit groups (`RFC-\\d{4}-\\d{4}`).

    With two or more digit groups, a 4-digit first group is the year and the last is the sequence number.
    """
    parts: list[str | int] = []
    position = 0
    for match in _TOKEN.finditer(pattern):
        if match.start() != position:
            break
        position = match.end()
        width = match.group(1) or match.group(2)
        parts.append(int(width) if width else (match.group(3) or match.group(4)))
    groups = [i for i, p in enumerate(parts) if isinstance(p, int)]
    if position != len(pattern) or not groups:
        raise UsageError(
            msg("cannot derive the next ID from the pattern {pattern!r}", pattern=pattern),
            hint=msg("pass the ID with --id"),
        )
    year_group = groups[0] if len(groups) >= 2 and parts[groups[0]] == 4 else None
    seq_group = groups[-1]

    def render(seq: int) -> str:
        out = []
        for i, part in enumerate(parts):
            if isinstance(part, str):
                out.append(part)
            elif i == year_group:
                out.append(f"{year:04d}")
            elif i == seq_group:
                out.append(f"{seq:0{part}d}")
            else:
                out.append("0" * part)
        return "".join(out)

    prefix = render(0)[: -int(parts[seq_group])] if seq_group == len(parts) - 1 else None
    numbers = [
        int(e[len(prefix) :])
        for e in existing
        if prefix is not None and e.startswith(prefix) and e[len(prefix) :].isdigit()
    ]
    candidate = render(max(numbers, default=0) + 1)
    while candidate in existing:
        candidate = render(int(candidate[-int(parts[seq_group]) :]) + 1)
    return candidate
