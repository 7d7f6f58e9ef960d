"""How the GitHub Actions runner reads workflow commands from a step's output, ported to test what gatekeeper
prints without a runner; and the section markers of GitLab's job log.

Ported from actions/runner at 258d6c857db3519913f7deb6004b60172f8043ae:
- src/Runner.Sdk/ProcessInvoker.cs: each stream is read with StreamReader.ReadLine, so a line ends at
  `\\r\\n`, `\\r` or `\\n`; stderr and stdout feed one command manager.
- src/Runner.Worker/Handlers/OutputManager.cs (OnDataReceived): a line holding `##[` or `::` goes to the
  command manager.
- src/Runner.Worker/ActionCommandManager.cs (TryProcessCommand): TryParseV2, else TryParse, against the
  registered commands (case-insensitive); `stop-commands` pauses every command until its token is seen.
- src/Runner.Common/ActionCommand.cs (TryParseV2, TryParse and their unescaping).

Two .NET details matter. `TrimStart()` trims every `char.IsWhiteSpace` character, not only spaces. And
`string.StartsWith(string)` / `IndexOf(string)` compare with the current culture (ICU on Linux runners),
which skips ignorable characters — controls and format characters such as U+00AD or U+200D; this port
skips every control and format character that is not white space, so it finds at least every command the
runner finds. Index arithmetic then follows the runner's code exactly (`endIndex + 2`, `prefixIndex + 3`).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

# char.IsWhiteSpace: U+0009..U+000D, U+0085, and the Unicode space, line and paragraph separators.
DOTNET_WHITESPACE = frozenset(
    "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a"
    "\u2028\u2029\u202f\u205f\u3000"
)
# ActionCommandManager.Initialize registers `stop-commands` and every command extension's name
# (internal-set-repo-path only while a plugin runs).
REGISTERED = frozenset(
    {
        "stop-commands",
        "set-env",
        "set-output",
        "save-state",
        "add-mask",
        "add-path",
        "add-matcher",
        "remove-matcher",
        "debug",
        "warning",
        "error",
        "notice",
        "group",
        "endgroup",
        "echo",
    }
)
_ESCAPE = [(";", "%3B"), ("\r", "%0D"), ("\n", "%0A"), ("]", "%5D"), ("%", "%25")]
_ESCAPE_DATA = [("\r", "%0D"), ("\n", "%0A"), ("%", "%25")]
_ESCAPE_PROPERTY = [("\r", "%0D"), ("\n", "%0A"), (":", "%3A"), (",", "%2C"), ("%", "%25")]


def _unescape(text: str, mappings: list[tuple[str, str]]) -> str:
    for token, replacement in mappings:
        text = text.replace(replacement, token)
    return text


def _ignorable(char: str) -> bool:
    return unicodedata.category(char) in {"Cc", "Cf"} and char not in DOTNET_WHITESPACE


def _match_end(text: str, at: int, needle: str) -> int | None:
    """Where `needle` ends if it matches at `at`, skipping ignorable characters between its characters."""
    i = at
    for k, wanted in enumerate(needle):
        while k and i < len(text) and _ignorable(text[i]):
            i += 1
        if i >= len(text) or text[i] != wanted:
            return None
        i += 1
    return i


def culture_index_of(text: str, needle: str, start: int = 0) -> int:
    """string.IndexOf(string[, int]) under ICU collation."""
    for i in range(start, len(text)):
        if not _ignorable(text[i]) and _match_end(text, i, needle) is not None:
            return i
    return -1


def culture_starts_with(text: str, needle: str) -> bool:
    """string.StartsWith(string) under ICU collation: leading ignorable characters are skipped too."""
    i = 0
    while i < len(text) and _ignorable(text[i]):
        i += 1
    return _match_end(text, i, needle) is not None


def trim_start(text: str) -> str:
    i = 0
    while i < len(text) and text[i] in DOTNET_WHITESPACE:
        i += 1
    return text[i:]


def read_lines(output: str) -> list[str]:
    """StreamReader.ReadLine over the whole output."""
    return re.split(r"\r\n|\r|\n", output.removesuffix("\r\n").removesuffix("\n").removesuffix("\r"))


@dataclass
class ActionCommand:
    command: str
    properties: dict[str, str] = field(default_factory=dict)
    data: str = ""
    line: str = ""


def _properties(text: str, separator: str, mappings: list[tuple[str, str]]) -> dict[str, str]:
    found: dict[str, str] = {}
    for item in (part for part in text.split(separator) if part):
        pair = [part for part in item.split("=", 1) if part]  # Split('=', 2, RemoveEmptyEntries)
        if len(pair) == 2:
            found[pair[0].lower()] = _unescape(pair[1], mappings)
    return found


def try_parse_v2(message: str, registered: set[str] | frozenset[str]) -> ActionCommand | None:
    """ActionCommand.TryParseV2: `::name props::data` after the leading white space."""
    if not message:
        return None
    message = trim_start(message)
    if not culture_starts_with(message, "::"):
        return None
    end = culture_index_of(message, "::", 2)
    if end < 0:
        return None
    info = message[2:end]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name.lower() not in registered:
        return None
    props = _properties(info[space + 1 :].strip(), ",", _ESCAPE_PROPERTY) if space > 0 else {}
    return ActionCommand(name, props, _unescape(message[end + 2 :], _ESCAPE_DATA))


def try_parse(message: str, registered: set[str] | frozenset[str]) -> ActionCommand | None:
    """ActionCommand.TryParse (the older syntax): `##[name props]data` anywhere in the line."""
    if not message:
        return None
    prefix = culture_index_of(message, "##[")
    if prefix < 0:
        return None
    bracket = message.find("]", prefix)
    start = prefix + 3
    if bracket < 0 or bracket < start:  # Substring with a negative length throws: not a command
        return None
    info = message[start:bracket]
    space = info.find(" ")
    name = info if space < 0 else info[:space]
    if name.lower() not in registered:
        return None
    props = _properties(info[space + 1 :], ";", _ESCAPE) if space > 0 else {}
    return ActionCommand(name, props, _unescape(message[bracket + 1 :], _ESCAPE))


@dataclass
class Runner:
    """The command manager of one step: feed it each stream's output, read what it acted on."""

    registered: set[str] = field(default_factory=lambda: set(REGISTERED))
    stop_token: str | None = None
    acted: list[ActionCommand] = field(default_factory=list)

    def feed(self, output: str) -> list[ActionCommand]:
        before = len(self.acted)
        for line in read_lines(output):
            if culture_index_of(line, "##[") >= 0 or culture_index_of(line, "::") >= 0:
                self._process(line)
        return self.acted[before:]

    def _process(self, line: str) -> None:
        command = try_parse_v2(line, self.registered) or try_parse(line, self.registered)
        if command is None:
            return
        command.line = line
        if self.stop_token is not None:
            if command.command.lower() == self.stop_token.lower():  # the resume token
                self.registered.discard(self.stop_token.lower())
                self.stop_token = None
                self.acted.append(command)
            return  # paused: printed as output, not acted on
        if command.command.lower() == "stop-commands":
            self.stop_token = command.data
            self.registered.add(command.data.lower())
        self.acted.append(command)


# GitLab (lib/gitlab/regex.rb build_trace_section_regex): a section marker needs `\r` and ESC.
GITLAB_SECTION = re.compile(
    r"section_((?:start)|(?:end)):(\d+):([a-zA-Z0-9_.-]+)(\[(?:\w+=\w+)(?:, ?(?:\w+=\w+))*\])?\r\x1b\[0K"
)


def gitlab_markers(output: str) -> list[tuple[str, str, str]]:
    """(start|end, timestamp, name) of every section marker GitLab's log would act on."""
    return [(m.group(1), m.group(2), m.group(3)) for m in GITLAB_SECTION.finditer(output)]
