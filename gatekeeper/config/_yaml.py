"""Safe, bounded YAML reading that remembers where every value came from.

YAML 1.1 quirks are switched off on purpose: `off`/`no`/`on`/`yes` stay strings (a policy says
`severity: off`), `18:00` stays a string (not the base-60 integer 1080), and dates stay strings so the
models parse them with a time zone check. Duplicate keys are refused, and alias expansion is bounded so a
"billion laughs" document cannot exhaust memory.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from gatekeeper.errors import ConfigError
from gatekeeper.messages import Message, msg

MAX_FILE_BYTES = 1024 * 1024
MAX_NODES = 100_000
MAX_ALIASES = 1_000

KeyPath = tuple[str | int, ...]
_COLLECTION_TAGS = {"tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"}


# libyaml's parser (bundled with PyYAML's wheels) composes ten times faster than the pure-Python one; the
# nodes, marks and the resolvers below are the same either way.
_Base: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Loader(_Base):  # type: ignore[misc]
    """SafeLoader (libyaml's when available) with YAML 1.2 core-schema scalars."""


_Loader.yaml_implicit_resolvers = {}
for _tag, _regexp, _first in [
    ("tag:yaml.org,2002:bool", r"^(?:true|True|TRUE|false|False|FALSE)$", list("tTfF")),
    ("tag:yaml.org,2002:int", r"^[-+]?(?:0|[1-9][0-9]*)$", list("-+0123456789")),
    (
        "tag:yaml.org,2002:float",
        r"^(?:[-+]?(?:\.[0-9]+|[0-9]+(?:\.[0-9]*)?)(?:[eE][-+]?[0-9]+)?|[-+]?\.(?:inf|Inf|INF)|\.(?:nan|NaN|NAN))$",
        list("-+0123456789."),
    ),
    ("tag:yaml.org,2002:null", r"^(?:~|null|Null|NULL|)$", ["~", "n", "N", ""]),
]:
    _Loader.add_implicit_resolver(_tag, re.compile(_regexp), _first)


@dataclass
class Located:
    """A loaded document and the line of every key path in it."""

    path: Path
    data: Any
    lines: dict[KeyPath, int] = field(default_factory=dict)

    def line_of(self, key_path: KeyPath) -> int | None:
        """The line of the deepest prefix of `key_path` that exists in the document."""
        probe = tuple(key_path)
        while probe:
            if probe in self.lines:
                return self.lines[probe]
            probe = probe[:-1]
        return self.lines.get(())


# The names of the files gatekeeper reads, as an error about them says them.
WHAT = {
    "file": msg("file"),
    "configuration file": msg("configuration file"),
    "configuration": msg("configuration"),
    "RFC file": msg("RFC file"),
    "RFC": msg("RFC"),
    "RFC issue": msg("RFC issue"),
    "policy pack": msg("policy pack"),
    "standard-change catalogue": msg("standard-change catalogue"),
}


def what_named(what: str) -> Message | str:
    """The name of a kind of file (`WHAT`), to be said in the run's language; an unlisted one keeps its
    name."""
    return WHAT.get(what, what)


def _decode(path: Path, raw: bytes) -> str:
    if b"\x00" in raw:
        offset = raw.index(b"\x00")
        line = raw.count(b"\n", 0, offset) + 1
        raise ConfigError(
            msg("{path}:{line}: contains a NUL byte (offset {offset})", path=path, line=line, offset=offset),
            hint=msg("save the file as plain UTF-8 text"),
        )
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise ConfigError(
            msg(
                "{path}:{line}: is not valid UTF-8 (byte 0x{raw_start:02x} at offset {start})",
                path=path,
                line=line,
                raw_start=raw[exc.start],
                start=exc.start,
            ),
            hint=msg("save the file as UTF-8"),
        ) from None
    return text.removeprefix("\ufeff")


def read_text(path: Path, *, max_bytes: int = MAX_FILE_BYTES, what: str = "file") -> str:
    """Read a small user-written text file with the size and encoding checks every input gets."""
    try:
        size = path.stat().st_size
        if size > max_bytes:
            raise ConfigError(
                msg(
                    "{path}: the {what} is {size} bytes; at most {max_bytes} are read",
                    path=path,
                    what=what_named(what),
                    size=size,
                    max_bytes=max_bytes,
                ),
                hint=msg(
                    "a {what} this large is almost certainly not the intended file", what=what_named(what)
                ),
            )
        with path.open("rb") as handle:
            raw = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise ConfigError(
            msg("{path}: no such {what}", path=path, what=what_named(what)), hint=msg("check the path")
        ) from None
    except IsADirectoryError:
        raise ConfigError(
            msg("{path}: is a directory, not a {what}", path=path, what=what_named(what)),
            hint=msg("name a file, not a directory"),
        ) from None
    except OSError as exc:
        raise ConfigError(
            msg(
                "{path}: cannot read the {what}: {strerror}",
                path=path,
                what=what_named(what),
                strerror=exc.strerror,
            ),
            hint=msg("check the file's permissions"),
        ) from None
    if len(raw) > max_bytes:
        raise ConfigError(
            msg(
                "{path}: the {what} is larger than {max_bytes} bytes",
                path=path,
                what=what_named(what),
                max_bytes=max_bytes,
            ),
            hint=msg("check that this is the intended file"),
        )
    return _decode(path, raw)


class _Builder:
    def __init__(self, path: Path, loader: _Loader) -> None:
        self.path = path
        self.loader = loader
        self.lines: dict[KeyPath, int] = {}
        self.nodes = 0
        self.aliases = 0
        self.seen: set[int] = set()

    def fail(self, node: yaml.Node, message: Message, hint: Message | None = None) -> ConfigError:
        where = f"{self.path}:{node.start_mark.line + 1}"
        hint_en, hint_ko = hint.pair if hint is not None else ("", "")
        return ConfigError(
            msg("{where}: {message}", where=where, message=message), hint=hint_en, hint_ko=hint_ko
        )

    def build(self, node: yaml.Node, key_path: KeyPath, stack: tuple[int, ...] = ()) -> Any:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise self.fail(node, msg("the document expands to more than {count} values", count=MAX_NODES))
        if id(node) in self.seen:
            self.aliases += 1
            if self.aliases > MAX_ALIASES:
                raise self.fail(
                    node,
                    msg("more than {count} alias references", count=MAX_ALIASES),
                    msg("write the values out; gatekeeper bounds alias expansion"),
                )
        self.seen.add(id(node))
        if id(node) in stack:
            raise self.fail(node, msg("a recursive alias refers to itself"))
        self.lines.setdefault(key_path, node.start_mark.line + 1)
        if isinstance(node, yaml.MappingNode | yaml.SequenceNode) and node.tag not in _COLLECTION_TAGS:
            raise self.fail(
                node, msg("the tag {tag!r} is not allowed", tag=node.tag), msg("remove the explicit tag")
            )
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, key_path, (*stack, id(node)))
        if isinstance(node, yaml.SequenceNode):
            return [self.build(item, (*key_path, i), (*stack, id(node))) for i, item in enumerate(node.value)]
        if node.tag not in {
            "tag:yaml.org,2002:str",
            "tag:yaml.org,2002:int",
            "tag:yaml.org,2002:float",
            "tag:yaml.org,2002:bool",
            "tag:yaml.org,2002:null",
        }:
            raise self.fail(
                node, msg("the tag {tag!r} is not allowed", tag=node.tag), msg("remove the explicit tag")
            )
        try:
            value = self.loader.construct_object(node, deep=True)
        except ValueError:  # an integer longer than Python converts, or an explicit tag on a non-number
            value = None
        else:
            if not isinstance(value, int | float) or isinstance(value, bool) or _usable(value):
                return value
        shown = str(node.value)[:30] + ("…" if len(str(node.value)) > 30 else "")
        raise self.fail(
            node,
            msg(
                "the number {shown} is not one gatekeeper computes with: keys take finite numbers of at most "
                "18 digits, never .inf or .nan",
                shown=shown,
            ),
            msg("write the value the setting expects; `gatekeeper schema config|policy|rfc` lists them"),
        )

    def _mapping(self, node: yaml.MappingNode, key_path: KeyPath, stack: tuple[int, ...]) -> dict[str, Any]:
        result: dict[str, Any] = {}
        key_lines: dict[str, int] = {}
        merged: dict[str, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
                for source in sources:
                    if not isinstance(source, yaml.MappingNode):
                        raise self.fail(source, msg("a merge key (<<) must refer to a mapping"))
                    for k, v in self._mapping(source, key_path, stack).items():
                        merged.setdefault(k, v)
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail(key_node, msg("a key must be a plain value, not a list or mapping"))
            key = key_node.value
            if key in key_lines:
                raise self.fail(
                    key_node,
                    msg("duplicate key {key!r} (first given on line {line})", key=key, line=key_lines[key]),
                    msg("keep one of them; YAML would silently use the last"),
                )
            key_lines[key] = key_node.start_mark.line + 1
            self.lines[(*key_path, key)] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, (*key_path, key), stack)
        for k, v in merged.items():
            result.setdefault(k, v)
        return result


def _usable(number: int | float) -> bool:
    """Finite, and small enough that every later conversion to text works (Python stops at 4,300 digits)."""
    return math.isfinite(number) and abs(number) < 10**18


def _too_deep(where: str) -> ConfigError:
    return ConfigError(
        msg("{where}: the document is nested too deeply", where=where),
        hint=msg("flatten the lists and mappings; gatekeeper's files need only a few levels"),
    )


def load_yaml(path: Path, *, what: str = "file", text: str | None = None) -> Located:
    """Load one YAML document from `path` (or `text`, named as `path`) with positions."""
    source = read_text(path, what=what) if text is None else text
    control = yaml.reader.Reader.NON_PRINTABLE.search(source)  # refused before anything is parsed
    if control is not None:
        line = source.count("\n", 0, control.start()) + 1
        raise ConfigError(
            msg(
                "{path}:{line}: contains the control character U+{ord_control_group:04X}, which "
                "YAML does not allow",
                path=path,
                line=line,
                ord_control_group=ord(control.group()),
            ),
            hint=msg("remove the character; save the file as plain UTF-8 text"),
        )
    loader = _Loader(source)
    try:
        root = loader.get_single_node()
        if root is None:
            return Located(path, None, {})
        builder = _Builder(path, loader)
        data = builder.build(root, ())
        return Located(path, data, builder.lines)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark else str(path)
        problem = exc.problem or exc.context or "YAML syntax error"
        if "nesting depth" in problem:  # libyaml 0.2.6 and later stop at 1,000 levels themselves
            raise _too_deep(where) from None
        raise ConfigError(
            msg("{where}: YAML syntax error: {problem}", where=where, problem=problem),
            hint=msg("fix the YAML syntax"),
        ) from None
    except yaml.YAMLError as exc:
        raise ConfigError(
            msg("{path}: YAML error: {exc}", path=path, exc=exc), hint=msg("fix the YAML syntax")
        ) from None
    except RecursionError:  # the pure-Python parser, and older libyaml, nest until the stack runs out
        raise _too_deep(str(path)) from None
    finally:
        loader.dispose()
