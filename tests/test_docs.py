"""docs/configuration.md is generated from the models: `python -m gatekeeper.docs docs/configuration.md`."""

from __future__ import annotations

from pathlib import Path

from gatekeeper.docs import render

DOC = Path(__file__).resolve().parents[1] / "docs" / "configuration.md"


def test_configuration_reference_is_in_sync() -> None:
    assert DOC.read_text(encoding="utf-8") == render(), (
        "run `python -m gatekeeper.docs docs/configuration.md`"
    )


def test_reference_names_every_pinned_value() -> None:
    text = render()
    for name in [
        "agency-manager",
        "operator-manager",
        "change-review",
        "release-second",
        "performance",
        "postgres",
    ]:
        assert f'`"{name}"`' in text, name
    assert "](#role)" not in text  # enums are spelled out, not linked to missing sections
