"""Where the shipped policy packs and templates are, in a wheel or in a source checkout."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


@cache
def _data_dir(name: str) -> Path:
    installed = _PACKAGE / "_data" / name  # laid out by the wheel build (pyproject force-include)
    if installed.is_dir():
        return installed
    checkout = _PACKAGE.parent / name  # source checkout or editable install
    if checkout.is_dir():
        return checkout
    raise FileNotFoundError(f"gatekeeper's {name}/ folder is missing from the installation ({installed})")


def policies_dir() -> Path:
    return _data_dir("policies")


def templates_dir() -> Path:
    return _data_dir("templates")


def sample_system_dir() -> Path:
    """The bundled example that `gatekeeper demo` governs (examples/sample-system in a checkout)."""
    installed = _PACKAGE / "_data" / "sample-system"
    return installed if installed.is_dir() else _PACKAGE.parent / "examples" / "sample-system"


def examples_dir() -> Path:
    """The complete GitHub, GitLab and pre-commit examples (examples/ in a checkout)."""
    installed = _PACKAGE / "_data" / "examples"
    return installed if installed.is_dir() else _PACKAGE.parent / "examples"
