"""Neutralising untrusted text (commit messages, RFC fields, test names) before it reaches a reader.

CI logs. The GitHub runner reads every line a step prints (a line ends at \\n, \\r or \\r\\n) and acts on
`::name props::data` once the line's leading white space is trimmed, and on `##[name props]data`
anywhere in the line (actions/runner ActionCommand.TryParseV2 / TryParse). So a leading space does not
disarm a command: every `::` and every `##[` in untrusted text is defused, as `:\\u003a` and `##\\u005b`,
wherever the text lands in a line. GitLab's log acts on ANSI escapes and on section markers
(`section_start:…\\r\\e[0K`), which need ESC: control characters become visible escapes. Beyond the
reporters' `for_log`, `LogGuard` applies the same defusing to everything gatekeeper prints in a CI job
except its own workflow commands and section markers, so text that reaches the log by any other path
(an error naming a file's content, `ledger log`, JSON output) cannot act either. The escapes are JSON's
own, so JSON output keeps its meaning. (`::stop-commands::<token>` around untrusted text would not do: the
runner reads stderr and stdout as two pipes into one command manager, in batches, stderr's first, so a
pause written on one stream does not bracket text written on the other.)

Markdown: HTML is escaped, Markdown punctuation is backslash-escaped and `@mentions` cannot ping anyone.
"""

from __future__ import annotations

import io
import os
import re
import stat
from collections.abc import Mapping
from typing import TextIO, cast

# C0/C1 controls (ESC, CR, NEL...), bidi overrides, zero-width characters and the soft hyphen (an invisible
# difference in a login or ID) and the Unicode line/paragraph separators.
_CONTROL = re.compile(
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\xad\u202a-\u202e\u2066-\u2069\u200b-\u200f\u2060\ufeff\u2028\u2029]"
)
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~>])")
MAX_FIELD_CHARS = 2000


def _escape_control(match: re.Match[str]) -> str:
    char = match.group(0)
    return {"\r": "\\r", "\x1b": "\\e"}.get(char, f"\\u{ord(char):04x}")


# What a CI log acts on: the second colon of `::`, the bracket of `##[` (the runner's two command syntaxes),
# ESC (ANSI escapes, GitLab's section markers) and a carriage return that does not end a line. Each is
# replaced by its JSON escape; a lookbehind reaches into the text before the match, so a `::` split
# across two writes is still seen.
_LOG_HAZARD = re.compile(r"(?<=:):|(?<=##)\[|\x1b|\r(?!\n)")
_LOG_ESCAPE = {":": "\\u003a", "[": "\\u005b", "\x1b": "\\u001b", "\r": "\\r"}


def _defuse(text: str, start: int = 0) -> str:
    """`text[start:]` with every log hazard escaped; `text[:start]` is only context for the lookbehinds."""
    out: list[str] = []
    last = start
    for match in _LOG_HAZARD.finditer(text, start):
        out.append(text[last : match.start()])
        out.append(_LOG_ESCAPE[match.group()])
        last = match.end()
    out.append(text[last:])
    return "".join(out)


def _visible(text: str, *, single_line: bool, limit: int) -> str:
    """Control characters as visible escapes, at most `limit` characters, optionally on one line."""
    if len(text) > limit:
        text = text[:limit] + "…"
    text = _CONTROL.sub(_escape_control, text)
    if single_line:
        text = text.replace("\n", "\\n").replace("\t", " ")
    return text


def for_log(text: str, *, single_line: bool = True, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted text made safe for a CI log line (and for terminals), wherever in a line it is put."""
    return _defuse(_visible(text, single_line=single_line, limit=limit))


class LogGuard(io.TextIOBase):
    """A CI job's log stream: what is written through `write` cannot act as a workflow command, an ANSI
    escape or a section marker, however it is split across writes; `write_trusted` is for the lines
    gatekeeper means the runner to act on (annotations, `::add-mask::`, GitLab section markers)."""

    def __init__(self, stream: TextIO) -> None:
        super().__init__()
        self.stream = stream
        self._line = ""  # the last two characters written on the current line: context for the next write

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        if text:
            self.stream.write(_defuse(self._line + text, len(self._line)))
            self._line = (self._line + text).rpartition("\n")[2][-2:]
        return len(text)

    def write_trusted(self, text: str) -> None:
        if self._line:  # a command is only recognised at the start of a line
            self.stream.write("\n")
        self.stream.write(text)
        self._line = text.rpartition("\n")[2][-2:]

    def flush(self) -> None:
        self.stream.flush()


def write_trusted(stream: TextIO, text: str) -> None:
    """Write gatekeeper's own workflow commands or section markers: past a `LogGuard`, or as they are."""
    if isinstance(stream, LogGuard):
        stream.write_trusted(text)
    else:
        stream.write(text)


def _is_regular_file(stream: TextIO) -> bool:
    try:
        return stat.S_ISREG(os.fstat(stream.fileno()).st_mode)
    except (OSError, ValueError, io.UnsupportedOperation):
        return False


def guard_log(stream: TextIO, env: Mapping[str, str]) -> TextIO:
    """`stream` wrapped in a `LogGuard` when it is a CI job's log: in GitHub Actions or GitLab CI, unless it
    was redirected to a file (which no runner reads, and whose bytes stay exactly as written)."""
    from gatekeeper.adapters.ci import in_ci

    if not in_ci(env) or isinstance(stream, LogGuard) or _is_regular_file(stream):
        return stream
    return cast("TextIO", LogGuard(stream))


def for_document(text: str, *, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted text made safe as the text of a document (HWPX): control, bidi and zero-width characters
    as visible escapes (XML cannot hold most of them, and a reader must see them), line breaks kept, at
    most `limit` characters. XML metacharacters stay as written: the document library escapes them."""
    return _visible(text, single_line=False, limit=limit)


def for_markdown(text: str, *, limit: int = MAX_FIELD_CHARS) -> str:
    """Untrusted text made safe inside a Markdown paragraph or table cell. A summary file or a comment is
    no log: `::` stays as written (printed in a CI job, it passes the `LogGuard`)."""
    text = _visible(text, single_line=True, limit=limit)
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    text = _MD_SPECIAL.sub(r"\\\1", text)
    return text.replace("@", "&#64;")
