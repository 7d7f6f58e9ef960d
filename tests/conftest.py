"""Shared fixtures. Every test runs with a throw-away HOME and a clean git environment, so nothing on the
developer's machine (global git config, hooks, credentials) can change a result."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import GitRepo

_GIT_VARIABLES = [name for name in os.environ if name.startswith("GIT_")]
_CI_VARIABLES = [
    name
    for name in os.environ
    if name.startswith(("GITHUB_", "GITLAB_", "CI_", "RUNNER_", "GATEKEEPER_"))
    or name in {"CI", "ACTIONS_RUNTIME_TOKEN"}
]


@pytest.fixture(autouse=True)
def _isolated_environment(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    home = tmp_path_factory.mktemp("home")
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_AUTHOR_NAME", "Dev Eloper")
    monkeypatch.setenv("GIT_AUTHOR_EMAIL", "dev@example.org")
    monkeypatch.setenv("GIT_COMMITTER_NAME", "Dev Eloper")
    monkeypatch.setenv("GIT_COMMITTER_EMAIL", "dev@example.org")
    for name in _GIT_VARIABLES + _CI_VARIABLES:
        if name not in {"GIT_CONFIG_NOSYSTEM"} and not name.startswith(("GIT_AUTHOR", "GIT_COMMITTER")):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("TZ", "UTC")
    # The tests read English unless they ask for Korean (`kr-ap-sop` alone would speak Korean); the tests
    # of that default remove the variable.
    monkeypatch.setenv("GATEKEEPER_LANG", "en")
    yield


@pytest.fixture
def repo(tmp_path: Path) -> GitRepo:
    """A real git repository with the standard test configuration (grade 1, kr-ap-sop, sqlite ledger)."""
    return GitRepo.create(tmp_path / "repo")


CORPORA = Path(__file__).resolve().parent / "corpora"


@pytest.fixture(scope="session")
def corpora() -> Path:
    """Reference corpora kept with their licences: CI event payloads and test-result files."""
    return CORPORA
