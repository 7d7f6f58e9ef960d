"""`python -m gatekeeper.docs [FILE]`: the configuration, RFC and policy pack reference, generated from the
models so it cannot drift from what gatekeeper accepts (a test compares it with docs/configuration.md)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

INTRO = """\
# Configuration, RFC and policy pack reference

Generated from the models by `python -m gatekeeper.docs docs/configuration.md`; do not edit by hand.
Every key is checked strictly: unknown keys are errors, `"1"` is not `1`, and times need an offset
(`2026-11-24T19:30:00+09:00` or `...Z`). `gatekeeper schema config|rfc|policy` prints the same
information as JSON Schema for editors.
"""

FILES = [
    ("config", "`.gatekeeper.yml`", "The repository's configuration (DESIGN §2)."),
    ("rfc", "RFC file `changes/<ID>.yml`", "One request for change; approvals are never stored here."),
    ("policy", "Policy pack `policies/<name>.yaml`", "What each rule requires per grade and change type."),
]


_DEFS: dict[str, Any] = {}


def _type(spec: dict[str, Any]) -> str:
    if "$ref" in spec:
        name = spec["$ref"].rsplit("/", 1)[-1]
        target = _DEFS.get(name, {})
        if "properties" not in target:  # enums are spelled out where they are used
            return _type({k: v for k, v in target.items() if k not in {"title", "description"}})
        return f"[{name}](#{name.lower()})"
    if "const" in spec:
        return f"`{json.dumps(spec['const'], ensure_ascii=False)}`"
    if "enum" in spec:
        return " \\| ".join(f"`{json.dumps(v, ensure_ascii=False)}`" for v in spec["enum"])
    for key in ("anyOf", "oneOf"):
        if key in spec:
            return " or ".join(_type(s) for s in spec[key])
    kind = spec.get("type", "any")
    if kind == "array":
        items = spec.get("items") or spec.get("prefixItems") or {}
        inner = ", ".join(_type(i) for i in items) if isinstance(items, list) else _type(items)
        return f"list of {inner}"
    if kind == "object":
        values = spec.get("additionalProperties")
        keys = spec.get("propertyNames")
        if isinstance(values, dict):
            key_text = _type(keys) if isinstance(keys, dict) else "name"
            return f"map of {key_text} → {_type(values)}"
        return "mapping"
    text = str(kind)
    limits = [
        f"{label} {spec[key]}"
        for key, label in (
            ("minimum", "≥"),
            ("exclusiveMinimum", ">"),
            ("maximum", "≤"),
            ("exclusiveMaximum", "<"),
        )
        if key in spec
    ]
    if "pattern" in spec:
        limits.append(f"pattern `{spec['pattern']}`")
    if "format" in spec:
        limits.append(spec["format"])
    if spec.get("minItems") or spec.get("minLength"):
        limits.append("not empty")
    return text + (f" ({', '.join(limits)})" if limits else "")


def _default(field: dict[str, Any], required: bool) -> str:
    if required:
        return "**required**"
    if "default" not in field:
        return ""
    value = json.dumps(field["default"], ensure_ascii=False)
    return f"`{value}`" if len(value) <= 60 else f"`{value[:57]}...`"


def _table(schema: dict[str, Any]) -> list[str]:
    lines = ["| key | type | default | description |", "|---|---|---|---|"]
    required = set(schema.get("required", []))
    for name, field in schema.get("properties", {}).items():
        description = " ".join(str(field.get("description", "")).split())
        lines.append(f"| `{name}` | {_type(field)} | {_default(field, name in required)} | {description} |")
    return lines


def render() -> str:
    from gatekeeper.commands.schema import schema_for

    out = [INTRO]
    for kind, title, blurb in FILES:
        schema: dict[str, Any] = schema_for(kind)
        defs: dict[str, Any] = schema.get("$defs", {})
        _DEFS.clear()
        _DEFS.update(defs)
        out += [f"## {title}", "", blurb, "", *_table(schema), ""]
        for name, definition in defs.items():
            if "properties" not in definition:
                continue
            doc = " ".join(str(definition.get("description", "")).split())
            out += [f"### {name}", ""] + ([doc, ""] if doc else []) + [*_table(definition), ""]
    return "\n".join(out).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    text = render()
    if args:
        Path(args[0]).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
