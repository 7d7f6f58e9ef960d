"""What a plain `pip install sop-gatekeeper` gives: the platform adapters are core dependencies, and an
optional module that is missing is a clear setup error (exit 2, English and Korean), never a crash."""

from __future__ import annotations

import sys
import tomllib
from pathlib import Path

import pytest

from gatekeeper.errors import OPTIONAL_MODULES
from tests.helpers import BASE_CONFIG, GitRepo, run_cli

ROOT = Path(__file__).resolve().parents[1]


def _requirement_names(requirements: list[str]) -> set[str]:
    from packaging.requirements import Requirement

    return {Requirement(r).name.lower() for r in requirements}


def test_platform_adapters_are_core_dependencies() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    core = _requirement_names(project["dependencies"])
    assert {"pygithub", "python-gitlab"} <= core
    # Requirements written for earlier releases (`sop-gatekeeper[gitlab]`) still resolve.
    assert project["optional-dependencies"]["github"] == []
    assert project["optional-dependencies"]["gitlab"] == []
    # Every optional module the CLI knows about is installed by the extra it names.
    for module, (extra, _needs) in OPTIONAL_MODULES.items():
        assert module in " ".join(project["optional-dependencies"][extra])


def test_the_actions_pins_cover_every_core_dependency() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    pinned = {
        line.split("==", 1)[0].strip().lower().replace("_", "-")
        for line in (ROOT / "actions" / "requirements.txt").read_text(encoding="utf-8").splitlines()
        if "==" in line and not line.startswith("#")
    }
    assert _requirement_names(project["dependencies"]) <= pinned


@pytest.mark.parametrize("command", [["ledger", "verify"], ["audit"], ["deploy", "start"]])
def test_a_missing_psycopg_is_a_setup_error_naming_the_extra(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: list[str]
) -> None:
    repo = GitRepo.create(
        tmp_path / "repo",
        config=BASE_CONFIG.replace(
            "ledger: {backend: sqlite, path: .gatekeeper/ledger.db}", "ledger: {backend: postgres}"
        ),
    )
    repo.add_rfc("RFC-2026-0042")
    repo.commit("RFC-2026-0042 set up the governed pipeline")
    monkeypatch.setitem(sys.modules, "psycopg", None)  # `import psycopg` now fails as if not installed
    result = run_cli(command, cwd=repo.path, env={"GATEKEEPER_LEDGER_DSN": "postgresql://nowhere/db"})
    text = result.stdout + result.stderr
    assert "Traceback" not in text and "internal error" not in text
    assert "install sop-gatekeeper[postgres]" in text
    assert "설치되어 있지 않습니다" in text  # said in Korean too
    # A command that reports on the ledger stops with a setup error; the gate fails closed (gate.error).
    assert result.code == (1 if command[0] == "deploy" else 2), text


def test_an_unknown_missing_module_is_still_an_internal_error(tmp_path: Path) -> None:
    from gatekeeper.errors import MissingExtraError

    assert MissingExtraError.for_import(ModuleNotFoundError("No module named 'x'", name="x")) is None
    found = MissingExtraError.for_import(ModuleNotFoundError("nope", name="psycopg.pq"))
    assert found is not None and found.extra == "postgres" and found.exit_code == 2
