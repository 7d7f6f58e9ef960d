"""The only code that reads the YAML files users write, and the only place their errors are worded.

Every error names the file, the line, the key path, the value found and what is allowed.
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from gatekeeper.config._yaml import Located, load_yaml, read_text
from gatekeeper.config.models import Config, Policy, Rfc
from gatekeeper.errors import ConfigError
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
    "read_text",
]

CONFIG_FILE = ".gatekeeper.yml"
Model = TypeVar("Model", bound=BaseModel)


def _key_path(loc: tuple[int | str, ...]) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "(top level)"


def _fields_at(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """The keys allowed at `loc` inside `model`, for 'unknown key' messages."""
    current: Any = model
    for part in loc:
        if isinstance(part, int) or not (isinstance(current, type) and issubclass(current, BaseModel)):
            continue
        field = current.model_fields.get(part)
        if field is None:
            break
        current = _model_in(field.annotation)
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


def _describe(model: type[BaseModel], located: Located, error: Mapping[str, Any]) -> str:
    loc = tuple(p for p in error["loc"] if not (isinstance(p, str) and p.startswith(("function-", "tagged-union"))))
    # Discriminated unions insert the tag ('git', 'sqlite', ...) into the location; drop it.
    loc = tuple(p for p in loc if p not in {"git", "sqlite", "postgres"} or loc.index(p) == 0)
    line = located.line_of(loc)
    where = f"{located.path}:{line}" if line else str(located.path)
    key = _key_path(loc)
    kind = error["type"]
    if kind == "extra_forbidden":
        allowed = _fields_at(model, loc[:-1])
        allowed_text = f"; allowed here: {', '.join(allowed)}" if allowed else ""
        return f"{where}: {key}: unknown key{allowed_text}"
    if kind == "missing":
        return f"{where}: {key}: required key is missing"
    found = error.get("input")
    message = str(error["msg"]).removeprefix("Value error, ")
    ctx = error.get("ctx") or {}
    if "expected" in ctx and "expected" not in message:
        message += f" (allowed: {ctx['expected']})"
    shown = repr(found)
    if len(shown) > 80:
        shown = shown[:77] + "..."
    if isinstance(found, dict):
        return f"{where}: {key}: {message}"
    return f"{where}: {key}: {message}; found {shown}"


def parse_model(model: type[Model], located: Located, what: str) -> Model:
    if located.data is None:
        raise ConfigError(f"{located.path}: the {what} is empty", hint=f"see `gatekeeper schema` for the {what} format")
    if not isinstance(located.data, dict):
        raise ConfigError(
            f"{located.path}:1: the {what} must be a mapping of keys to values, found {type(located.data).__name__}"
        )
    try:
        # JSON mode keeps strictness ("1" is not 1) while accepting YAML's lists and strings for tuples,
        # enums and times, exactly as a JSON Schema-aware editor would.
        document = json.dumps(located.data, ensure_ascii=False, allow_nan=False)
    except ValueError:
        raise ConfigError(f"{located.path}: the {what} contains .inf or .nan, which no key accepts") from None
    try:
        return model.model_validate_json(document)
    except ValidationError as exc:
        lines = [_describe(model, located, e) for e in exc.errors(include_url=False)]
        shown = lines[:20]
        if len(lines) > 20:
            shown.append(f"... and {len(lines) - 20} more")
        raise ConfigError(
            f"{located.path}: invalid {what}:\n  " + "\n  ".join(shown),
            hint=f"`gatekeeper schema {'policy' if model is Policy else 'rfc' if model is Rfc else 'config'}` prints the full format",
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
        f"no {CONFIG_FILE} found in {cwd} or the repository root above it",
        hint="run `gatekeeper init`, or pass --config FILE",
    )


def load_config(path: Path) -> Config:
    return parse_model(Config, load_yaml(path, what="configuration file"), "configuration")


def load_rfc(path: Path) -> Rfc:
    return parse_model(Rfc, load_yaml(path, what="RFC file"), "RFC")


def load_policy(name_or_path: str, *, relative_to: Path | None = None) -> Policy:
    """A shipped pack by name (`kr-ap-sop`), or a pack file by path (for agencies that adapt one)."""
    looks_like_path = os.sep in name_or_path or "/" in name_or_path or name_or_path.endswith((".yaml", ".yml"))
    if looks_like_path:
        path = Path(name_or_path)
        if not path.is_absolute() and relative_to is not None:
            path = relative_to / path
    else:
        path = policies_dir() / f"{name_or_path}.yaml"
        if not path.is_file():
            shipped = sorted(p.stem for p in policies_dir().glob("*.yaml"))
            raise ConfigError(
                f"unknown policy pack {name_or_path!r}",
                hint=f"use one of {', '.join(shipped)}, or a path to a pack file",
            )
    return parse_model(Policy, load_yaml(path, what="policy pack"), "policy pack")
