"""Retries, rate limits, timeouts and scrubbing: every API failure is a PlatformError naming what failed,
bounded in attempts and waits, and no token ever appears in a message."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.adapters.platforms.base import scrub
from gatekeeper.adapters.platforms.github import GithubIssueRfcStore
from gatekeeper.adapters.platforms.gitlab import GitlabIssueRfcStore
from gatekeeper.errors import PlatformError
from tests.platform.helpers import GL_TOKEN, TOKEN, Sleeps, caller, config, error, github_env, gitlab_env
from tests.platform.replay import load, serve

GH_ISSUES = "/repos/agency/minwon/issues"
GL_ISSUES = "/projects/321/issues"


def _github(exchanges: list[dict[str, Any]], sleeps: Sleeps, **policy: Any) -> Callable[[], object]:
    def run() -> object:
        with serve(exchanges) as api:
            store = GithubIssueRfcStore.from_environment(
                Path("."), config("github"), github_env(api.base), **caller(sleeps, **policy)
            )
            return store.get("RFC-2026-0001")

    return run


def _gitlab(exchanges: list[dict[str, Any]], sleeps: Sleeps, **policy: Any) -> Callable[[], object]:
    def run() -> object:
        with serve(exchanges, prefix="/api/v4") as api:
            store = GitlabIssueRfcStore.from_environment(
                Path("."), config("gitlab"), gitlab_env(api.base), **caller(sleeps, **policy)
            )
            return store.get("RFC-2026-0001")

    return run


def _fails(run: Callable[[], object]) -> PlatformError:
    with pytest.raises(PlatformError) as raised:
        run()
    # Whatever failed, no token may reach a message, a hint or a log line.
    shown = f"{raised.value.render()} {raised.value!r}"
    assert TOKEN not in shown and GL_TOKEN not in shown
    return raised.value


@pytest.mark.parametrize(("platform", "path"), [("github", GH_ISSUES), ("gitlab", GL_ISSUES)])
def test_a_server_error_is_retried_then_succeeds(platform: str, path: str) -> None:
    sleeps = Sleeps()
    make = _github if platform == "github" else _gitlab
    entry = make([error(platform, "server_error", "GET", path), *load(f"{platform}/issues.json")], sleeps)()
    assert entry is not None and getattr(entry, "rfc", None) is not None
    assert len(sleeps) == 1 and 0.25 <= sleeps[0] <= 0.5  # the first backoff step, with jitter


@pytest.mark.parametrize(("platform", "path"), [("github", GH_ISSUES), ("gitlab", GL_ISSUES)])
def test_a_persistent_server_error_is_a_platform_error(platform: str, path: str) -> None:
    sleeps = Sleeps()
    make = _github if platform == "github" else _gitlab
    failure = _fails(make([error(platform, "server_error", "GET", path, times=10)], sleeps, attempts=4))
    assert "listing the issues labelled 'rfc'" in failure.message and "after 4 attempts" in failure.message
    assert failure.message.startswith(("GitHub API", "GitLab API"))
    # Exponential backoff with jitter, bounded: 3 waits between 4 attempts, each within its doubling band.
    assert len(sleeps) == 3
    for attempt, wait in enumerate(sleeps):
        assert 0.5 * 0.5 * 2**attempt <= wait <= 0.5 * 2**attempt


@pytest.mark.parametrize(
    ("platform", "name", "path"),
    [("github", "secondary_rate_limit", GH_ISSUES), ("gitlab", "rate_limited", GL_ISSUES)],
)
def test_a_rate_limit_waits_for_retry_after(platform: str, name: str, path: str) -> None:
    sleeps = Sleeps()
    make = _github if platform == "github" else _gitlab
    entry = make([error(platform, name, "GET", path), *load(f"{platform}/issues.json")], sleeps)()
    assert entry is not None
    assert sleeps == [2.0]


@pytest.mark.parametrize(("platform", "path"), [("github", GH_ISSUES), ("gitlab", GL_ISSUES)])
def test_a_long_rate_limit_is_a_platform_error_without_waiting(platform: str, path: str) -> None:
    sleeps = Sleeps()
    make = _github if platform == "github" else _gitlab
    failure = _fails(make([error(platform, "long_rate_limit", "GET", path, times=5)], sleeps))
    assert "rate limited" in failure.message and "3600s" in failure.message and sleeps == []


def test_github_primary_rate_limit_uses_the_reset_time() -> None:
    sleeps = Sleeps()
    limited = error("github", "rate_limited", "GET", GH_ISSUES)
    limited["headers"] = {**limited["headers"], "x-ratelimit-reset": str(int(time.time()) + 3600)}
    failure = _fails(_github([limited], sleeps))
    assert "rate limited (HTTP 403 API rate limit exceeded" in failure.message and sleeps == []
    assert "higher limit" in failure.hint


@pytest.mark.parametrize(("platform", "path"), [("github", GH_ISSUES), ("gitlab", GL_ISSUES)])
def test_a_timeout_is_a_platform_error(platform: str, path: str) -> None:
    sleeps = Sleeps()
    make = _github if platform == "github" else _gitlab
    slow = {**load(f"{platform}/issues.json")[0], "delay": 3}
    failure = _fails(make([slow], sleeps, timeout=1.0))
    assert "no answer within 1s" in failure.message and sleeps == []


@pytest.mark.parametrize("platform", ["github", "gitlab"])
def test_an_unreachable_api_is_retried_then_a_platform_error(platform: str) -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    sleeps = Sleeps()
    base = f"http://127.0.0.1:{port}"
    if platform == "github":
        store: Any = GithubIssueRfcStore.from_environment(
            Path("."), config("github"), github_env(base), **caller(sleeps)
        )
    else:
        env = gitlab_env(base + "/api/v4")
        store = GitlabIssueRfcStore.from_environment(Path("."), config("gitlab"), env, **caller(sleeps))
    failure = _fails(lambda: store.get("RFC-2026-0001"))
    assert "connection failed" in failure.message and len(sleeps) == 2


@pytest.mark.parametrize(
    ("platform", "name", "path"),
    [("github", "bad_credentials", GH_ISSUES), ("gitlab", "unauthorized", GL_ISSUES)],
)
def test_bad_credentials_fail_at_once_with_a_fix(platform: str, name: str, path: str) -> None:
    sleeps = Sleeps()
    make = _github if platform == "github" else _gitlab
    failure = _fails(make([error(platform, name, "GET", path)], sleeps))
    assert "HTTP 401" in failure.message and "token" in failure.hint and sleeps == []


@pytest.mark.parametrize(("platform", "path"), [("github", GH_ISSUES), ("gitlab", GL_ISSUES)])
def test_a_token_echoed_by_the_server_is_scrubbed(platform: str, path: str) -> None:
    token = TOKEN if platform == "github" else GL_TOKEN
    echo = {"method": "GET", "path": path, "status": 400, "body": {"message": f"token {token} is malformed"}}
    failure = _fails((_github if platform == "github" else _gitlab)([echo], Sleeps()))
    assert token not in failure.render() and "***" in failure.message


def test_scrub_replaces_every_secret_longest_first() -> None:
    assert scrub("a abcd abcdef", ["abcd", "abcdef", "x"]) == "a *** ***"
