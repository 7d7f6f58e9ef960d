"""Neutralising untrusted text (commit messages, RFC fields, test names) before it reaches a reader.

Logs: GitHub workflow commands (`::set-output`, `::add-mask`…) only act at the start of a line, ANSI
escapes repaint terminals and a lone carriage return overwrites what was printed before — so control
characters become visible escapes and a single-line value cannot start a new line. Markdown: HTML is
escaped, Markdown punctuation is backslash-escaped and `@mentions` cannot ping anyone.
"""

from __future__ import annotations

import re

# C0/C1 controls (ESC, CR, NEL...), bidi overrides, zero-width characters (an invisible difference in a
# login or ID) and the Unicode line/paragraph separators.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2060\ufeff\u2028\u2029]"
)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
MAX_FIELD_CHARS = 2000


def _escape_control(match: re.Match[str]) -> str:
    char = match.group(0)
    return {"\r": "\\r", "\x1b": "\\e"}.get(char, f"\\u{ord(char):04x}")


def for_log(text: str, *, single_line: bool = True, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted text made safe for a CI log line (and for terminals)."""
    if len(text) > limit:
        text = text[:limit] + "…"
    text = _CONTROL.sub(_escape_control, text)
    if single_line:
        text = text.replace("\n", "\\n").replace("\t", " ")
    # A workflow command is recognised only at the start of a line; a leading space disarms it.
    return re.sub(r"(?m)^(\s*)(::|##\[)", r"\1 \2", text)


def for_markdown(text: str, *, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted text made safe inside a Markdown paragraph or table cell."""
    text = for_log(text, single_line=True, limit=limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "&#64;")
