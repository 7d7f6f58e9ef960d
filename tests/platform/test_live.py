"""Read-only checks against the real APIs; opt in with --live or GATEKEEPER_LIVE_TESTS=1.

GitHub: GATEKEEPER_LIVE_GITHUB_TOKEN and GATEKEEPER_LIVE_GITHUB_REPOSITORY (owner/name, `rfc` issues).
GitLab: GATEKEEPER_LIVE_GITLAB_TOKEN, GATEKEEPER_LIVE_GITLAB_PROJECT, optionally GATEKEEPER_LIVE_GITLAB_URL.
A test whose variables are missing is skipped. Nothing is written to the platforms.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from gatekeeper.adapters.rfcstore import open_store
from tests.platform.helpers import config

pytestmark = pytest.mark.live

# The autouse fixture of tests/conftest.py clears GATEKEEPER_* variables; read them at import time.
LIVE = {k: v for k, v in os.environ.items() if k.startswith("GATEKEEPER_LIVE_")}


def _need(*names: str) -> dict[str, str]:
    missing = [n for n in names if not LIVE.get(n)]
    if missing:
        pytest.skip(f"set {', '.join(missing)} to run this live test")
    return {n: LIVE[n] for n in names}


def test_github_issue_store_reads_the_real_api() -> None:
    found = _need("GATEKEEPER_LIVE_GITHUB_TOKEN", "GATEKEEPER_LIVE_GITHUB_REPOSITORY")
    env = {
        "GITHUB_TOKEN": found["GATEKEEPER_LIVE_GITHUB_TOKEN"],
        "GITHUB_REPOSITORY": found["GATEKEEPER_LIVE_GITHUB_REPOSITORY"],
    }
    entries = list(open_store(Path("."), config("github"), env).entries())
    assert all(e.rfc is not None or e.error for e in entries)


def test_gitlab_issue_store_reads_the_real_api() -> None:
    found = _need("GATEKEEPER_LIVE_GITLAB_TOKEN", "GATEKEEPER_LIVE_GITLAB_PROJECT")
    env = {
        "GITLAB_TOKEN": found["GATEKEEPER_LIVE_GITLAB_TOKEN"],
        "CI_PROJECT_ID": found["GATEKEEPER_LIVE_GITLAB_PROJECT"],
        "CI_SERVER_URL": LIVE.get("GATEKEEPER_LIVE_GITLAB_URL", "https://gitlab.com"),
    }
    entries = list(open_store(Path("."), config("gitlab"), env).entries())
    assert all(e.rfc is not None or e.error for e in entries)
