"""The only code that reads the YAML files users write, and the only place their errors are worded.

Every error names the file, the line, the key path, the value found and what is allowed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar, cast

from pydantic import BaseModel, ValidationError

from gatekeeper.config._yaml import Located, load_yaml, read_text, what_named
from gatekeeper.config.models import Config, Policy, Rfc
from gatekeeper.errors import ConfigError
from gatekeeper.messages import Message, msg, tr
from gatekeeper.resources import policies_dir

__all__ = [
    "CONFIG_FILE",
    "Config",
    "Policy",
    "Rfc",
    "find_config",
    "load_config",
    "load_policy",
    "load_rfc",
    "parse_model",
    "policy_is_file",
    "read_text",
]

CONFIG_FILE = ".gatekeeper.yml"
Model = TypeVar("Model", bound=BaseModel)


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _union_member(annotation: Any, tag: object) -> type[BaseModel] | None:
    """The member of a discriminated union (the ledger backends) whose `backend` literal is `tag`."""
    for arg in getattr(annotation, "__args__", ()) or ():
        member = _model_in(arg)
        field = member.model_fields.get("backend") if member is not None else None
        if (
            member is not None
            and field is not None
            and tag in (getattr(field.annotation, "__args__", ()) or ())
        ):
            return cast("type[BaseModel]", member)
        nested = _union_member(arg, tag)
        if nested is not None:
            return nested
    return None


def _walk(model: type[BaseModel], loc: tuple[int | str, ...]) -> tuple[Any, tuple[int | str, ...]]:
    """Follow `loc` through the model; returns what sits there and `loc` without union tags."""
    current: Any = model
    clean: list[int | str] = []
    annotation: Any = None
    for part in loc:
        if annotation is not None and isinstance(part, str):
            member = _union_member(annotation, part)
            annotation = None
            if member is not None:
                current = member  # a discriminated union puts the tag ('sqlite') into the location
                continue
        clean.append(part)
        annotation = None
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(part)
        if field is None:
            field = next((f for f in current.model_fields.values() if f.alias == part), None)
        if field is None:
            current = None
            continue
        annotation = field.annotation
        current = _model_in(annotation)
    return current, tuple(clean)


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed at `loc` inside `model`, for 'unknown key' messages."""
    current, _ = _walk(model, loc)
    if isinstance(current, type) and issubclass(current, BaseModel):
        return [f.alias or name for name, f in current.model_fields.items()]
    return []


def _model_in(annotation: Any) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in getattr(annotation, "__args__", ()) or ():
        found = _model_in(arg)
        if found is not None:
            return found
    return None


# Keys whose refused value is not repeated in the error: a webhook URL may hold its token.
_NOT_ECHOED = frozenset({"url"})


def _shown(value: Any) -> str:
    shown = repr(value)
    return shown if len(shown) <= 80 else shown[:77] + "..."


def _describe(model: type[BaseModel], located: Located, error: Mapping[str, Any]) -> Message:
    """One error of the file."""
    raw = tuple(
        p
        for p in error["loc"]
        if not (isinstance(p, str) and (p.startswith(("function-", "tagged-union")) or p == "[key]"))
    )
    on_key = "[key]" in error["loc"]
    _, loc = _walk(model, raw)
    line = located.line_of(loc)
    where = f"{located.path}:{line}" if line else str(located.path)
    key = _key_path(loc)
    kind = error["type"]
    found = error.get("input")
    ctx = error.get("ctx") or {}
    if kind == "extra_forbidden":
        allowed = ", ".join(_fields_at(model, raw[:-1]))
        if allowed:
            return msg(
                "{where}: {key}: unknown key; allowed here: {allowed}", where=where, key=key, allowed=allowed
            )
        return msg("{where}: {key}: unknown key", where=where, key=key)
    if kind == "missing":
        return msg("{where}: {key}: required key is missing", where=where, key=key)
    if kind == "union_tag_invalid":
        tag_key = f"{key}.{ctx.get('discriminator', '').strip(chr(39))}"
        tags, tag = ctx.get("expected_tags", ""), _shown(ctx.get("tag"))
        return msg(
            "{where}: {tag_key}: unknown value; allowed: {tags}; found {tag}",
            where=where,
            tag_key=tag_key,
            tags=tags,
            tag=tag,
        )
    if kind == "union_tag_not_found":
        tag_key = ctx.get("discriminator", "")
        return msg("{where}: {key}: required key {tag_key} is missing", where=where, key=key, tag_key=tag_key)
    # pydantic's own words, in English in both languages
    said = str(error["msg"]).removeprefix("Value error, ")
    lowered = f"{said[0].lower()}{said[1:]}"
    expected = ctx.get("expected")
    shown_en = f"unknown key; {lowered}" if on_key else said
    allowed_said: Message | str = (
        msg(" (allowed: {expected})", expected=expected)
        if expected is not None and str(expected) not in shown_en
        else ""
    )
    fields = {"where": where, "key": key, "said": said, "lowered": lowered, "allowed": allowed_said}
    if isinstance(found, dict | list) or (loc and loc[-1] in _NOT_ECHOED):
        if on_key:
            return msg("{where}: {key}: unknown key; {lowered}{allowed}", **fields)
        return msg("{where}: {key}: {said}{allowed}", **fields)
    if on_key:
        return msg(
            "{where}: {key}: unknown key; {lowered}{allowed}; found {found}", **fields, found=_shown(found)
        )
    return msg("{where}: {key}: {said}{allowed}; found {found}", **fields, found=_shown(found))


def parse_model(model: type[Model], located: Located, what: str) -> Model:
    named = what_named(what)
    if located.data is None:
        raise ConfigError(
            msg("{path}: the {what} is empty", path=located.path, what=named),
            hint=msg("see `gatekeeper schema` for the {what} format", what=named),
        )
    if not isinstance(located.data, dict):
        found = type(located.data).__name__
        raise ConfigError(
            msg(
                "{path}:1: the {what} must be a mapping of keys to values, found {found}",
                path=located.path,
                what=named,
                found=found,
            ),
            hint=msg("write it as a YAML mapping of `key: value` lines"),
        )
    try:
        # JSON mode keeps strictness ("1" is not 1) while accepting YAML's lists and strings for tuples,
        # enums and times, exactly as a JSON Schema-aware editor would.
        document = json.dumps(located.data, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise ConfigError(
            msg(
                "{path}: the {what} contains .inf or .nan, which no key accepts",
                path=located.path,
                what=named,
            ),
            hint=msg("write finite numbers"),
        ) from None
    try:
        return model.model_validate_json(document)
    except ValidationError as exc:
        lines = [_describe(model, located, e) for e in exc.errors(include_url=False)]
        shown = lines[:20]
        if len(lines) > 20:
            shown.append(msg("... and {count} more", count=len(lines) - 20))
        kind = "policy" if model is Policy else "rfc" if model is Rfc else "config"
        said = {
            lang: tr(
                lang,
                "{path}: invalid {what}:\n  {errors}",
                path=located.path,
                what=named,
                errors="\n  ".join(line.said(lang) for line in shown),
            )
            for lang in ("en", "ko")
        }
        raise ConfigError(
            said["en"],
            hint=msg("`gatekeeper schema {kind}` prints the full format", kind=kind),
            ko=said["ko"],
        ) from None


def find_config(cwd: Path, env: Mapping[str, str], explicit: str | None = None) -> Path:
    """`--config`, then GATEKEEPER_CONFIG, then .gatekeeper.yml in the repository root above `cwd`."""
    chosen = explicit or env.get("GATEKEEPER_CONFIG")
    if chosen:
        path = Path(chosen)
        return path if path.is_absolute() else cwd / path
    for folder in (cwd, *cwd.parents):
        candidate = folder / CONFIG_FILE
        if candidate.is_file():
            return candidate
        if (folder / ".git").exists():
            break
    raise ConfigError(
        msg(
            "no {CONFIG_FILE} found in {cwd} or the repository root above it",
            CONFIG_FILE=CONFIG_FILE,
            cwd=cwd,
        ),
        hint=msg("run `gatekeeper init`, or pass --config FILE"),
    )


def load_config(path: Path) -> Config:
    return parse_model(Config, load_yaml(path, what="configuration file"), "configuration")


def load_rfc(path: Path) -> Rfc:
    return parse_model(Rfc, load_yaml(path, what="RFC file"), "RFC")


def policy_is_file(name_or_path: str) -> bool:
    """A pack named by path (an agency's own file), not one shipped with gatekeeper."""
    return os.sep in name_or_path or "/" in name_or_path or name_or_path.endswith((".yaml", ".yml"))


def load_policy(name_or_path: str, *, relative_to: Path | None = None) -> Policy:
    """A shipped pack by name (`kr-ap-sop`), or a pack file by path (for agencies that adapt one)."""
    if policy_is_file(name_or_path):
        path = Path(name_or_path)
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
    else:
        path = policies_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            shipped = sorted(p.stem for p in policies_dir().glob("*.yaml"))
            raise ConfigError(
                msg("unknown policy pack {name!r}", name=name_or_path),
                hint=msg("use one of {shipped}, or a path to a pack file", shipped=", ".join(shipped)),
            )
    return parse_model(Policy, load_yaml(path, what="policy pack"), "policy pack")


def policy_for(config: Config, *, relative_to: Path | None = None) -> Policy:
    """The policy pack `config` names, with what `.gatekeeper.yml` may set of it (`rfc.reason_min_chars`)."""
    base = config.governing_base
    policy = load_policy(config.policy, relative_to=base.folder if base is not None else relative_to)
    if config.rfc.reason_min_chars is None:
        return policy
    commit = policy.commit.model_copy(update={"reason_min_chars": config.rfc.reason_min_chars})
    return policy.model_copy(update={"commit": commit})
