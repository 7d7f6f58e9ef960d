"""The layers of DESIGN §1 hold: each package imports only the layers below it (every import, the lazy ones
inside functions too, read from the source).

    domain  <  rules  <  facts  <  checks  <  reporters  <  commands
    (types,    (pure)   (gathering (gate,     (output)     (configure and run;
    records,            through    audit,                  no command imports
    catalogue)          adapters)  KPIs)                   another)

`config` (the one strict model module), `errors` and `messages` (what is said, in the run's language) are
read by every layer; `ledger` and `adapters` are
the I/O the facts are gathered through.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "gatekeeper"
BASE = (
    "gatekeeper.config",
    "gatekeeper.errors",
    "gatekeeper.messages",
    "gatekeeper.domain",
    "gatekeeper.untrusted",
)

# What each layer may import besides itself and BASE.
ALLOWED: dict[str, tuple[str, ...]] = {
    "gatekeeper.domain": ("gatekeeper.config.models",),
    "gatekeeper.rules": (),
    "gatekeeper.facts": ("gatekeeper.rules", "gatekeeper.ledger", "gatekeeper.adapters"),
    "gatekeeper.checks": ("gatekeeper.rules", "gatekeeper.facts", "gatekeeper.ledger"),
    # The deployment lock pairs deployments through the one history (`facts.history`).
    "gatekeeper.ledger": ("gatekeeper.facts.history", "gatekeeper.adapters"),
    "gatekeeper.reporters": (
        "gatekeeper.checks",
        "gatekeeper.ledger",
        "gatekeeper.adapters",
        "gatekeeper.resources",
        "gatekeeper.runtime",
        "gatekeeper",  # the package itself: its version in reports
    ),
    # Adapters read pure types and rules (a platform's approvals become the rules' `ApprovalFacts`) and
    # pass untrusted text through the one sanitiser.
    "gatekeeper.adapters": ("gatekeeper.rules", "gatekeeper.reporters.sanitize"),
}


def _imports(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
            if node.module != "gatekeeper":  # the package's own attributes (`__version__`) are the package
                found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return {name for name in found if name == "gatekeeper" or name.startswith("gatekeeper.")}


def _module(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _within(name: str, prefix: str) -> bool:
    return name == prefix or name.startswith(prefix + ".")


MODULES = sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("layer", sorted(ALLOWED), ids=lambda layer: layer.removeprefix("gatekeeper."))
def test_a_layer_imports_only_what_is_below_it(layer: str) -> None:
    wrong = []
    for path in MODULES:
        module = _module(path)
        if not _within(module, layer):
            continue
        # The bare package (`from gatekeeper import __version__`) only where listed; it is never a prefix.
        prefixes = [p for p in (layer, *BASE, *ALLOWED[layer]) if p != "gatekeeper"]
        for name in _imports(path):
            if name == "gatekeeper":
                ok = "gatekeeper" in ALLOWED[layer]
            else:
                ok = any(_within(name, prefix) for prefix in prefixes)
            if not ok:
                wrong.append(f"{module} imports {name}")
    assert not wrong, "\n".join(sorted(wrong))


def test_rules_are_pure_and_read_only_domain_types_and_the_policy() -> None:
    for path in MODULES:
        module = _module(path)
        if _within(module, "gatekeeper.rules"):
            assert {
                name
                for name in _imports(path)
                if not any(
                    _within(name, p)
                    # What a rule says comes from the message catalogue, read-only package data.
                    for p in (
                        "gatekeeper.rules",
                        "gatekeeper.domain",
                        "gatekeeper.config.models",
                        "gatekeeper.messages",
                    )
                )
            } == set(), module


def test_no_command_imports_another() -> None:
    wrong = []
    for path in MODULES:
        module = _module(path)
        if not _within(module, "gatekeeper.commands") or module == "gatekeeper.commands":
            continue
        for name in _imports(path):
            if name in ("gatekeeper.commands", "gatekeeper.commands.Context"):
                continue  # the package: the context every command receives
            if _within(name, "gatekeeper.commands") and not name.split(".")[2].startswith("_"):
                wrong.append(f"{module} imports {name}")  # shared helpers are private modules (`_…`)
    assert not wrong, "\n".join(sorted(wrong))


def test_the_adapters_do_not_reach_up_into_commands() -> None:
    wrong = []
    for path in MODULES:
        module = _module(path)
        if _within(module, "gatekeeper.adapters"):
            wrong += [f"{module} imports {n}" for n in _imports(path) if _within(n, "gatekeeper.commands")]
    assert not wrong, "\n".join(sorted(wrong))
