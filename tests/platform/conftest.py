"""Platform adapter tests run against recorded responses (tests/platform/recordings/) served on 127.0.0.1.

Tests marked `live` talk to the real GitHub/GitLab APIs. They are skipped unless opted in with `--live`
(when this directory is among the paths given to pytest) or GATEKEEPER_LIVE_TESTS=1, and need their tokens
(see docs/platforms.md).
"""

from __future__ import annotations

import os

import pytest


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--live", action="store_true", default=False, help="run tests against the real APIs")


def live_enabled(config: pytest.Config) -> bool:
    return bool(config.getoption("--live", default=False)) or os.environ.get("GATEKEEPER_LIVE_TESTS") == "1"


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if live_enabled(config):
        return
    skip = pytest.mark.skip(reason="live API test: opt in with --live or GATEKEEPER_LIVE_TESTS=1")
    for item in items:
        if "live" in item.keywords:
            item.add_marker(skip)
