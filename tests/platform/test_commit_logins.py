"""Who wrote the change, by the platform's own accounts: recorded GitHub and GitLab answers on 127.0.0.1."""

from __future__ import annotations

from typing import NamedTuple

import pytest

from gatekeeper.adapters.platforms.base import MAX_COMMIT_EMAILS
from gatekeeper.adapters.platforms.github import GithubPlatform
from gatekeeper.adapters.platforms.gitlab import GitlabPlatform
from gatekeeper.errors import PlatformError
from tests.platform.helpers import config, github_env, gitlab_env
from tests.platform.replay import load, serve

A, B = "b" * 40, "c" * 40


class Commit(NamedTuple):
    sha: str
    author_email: str
    committer_email: str


CHANGE = [
    Commit(A, "Minsu.Kim@agency.go.kr", "noreply@github.com"),
    Commit("f" * 40, "minsu.kim@agency.go.kr", "noreply@github.com"),  # the same people: not asked again
    Commit(B, "dev@contractor.example", "dev@contractor.example"),
]


def test_github_names_the_accounts_behind_the_emails_one_commit_each() -> None:
    with serve(load("github/commits.json")) as api:
        platform = GithubPlatform.from_environment(config(), github_env(api.base))
        assert platform is not None
        logins = platform.commit_logins(CHANGE)
        assert not api.unmatched
        assert sorted(s.path for s in api.seen) == [f"/repos/agency/minwon/commits/{sha}" for sha in (A, B)]
    # The author's account, case-folded; web commits' committer; an email with no account adds nothing.
    assert logins == {"kim", "web-flow"}


def test_gitlab_counts_only_users_whose_email_is_exactly_the_commits() -> None:
    with serve(load("gitlab/users.json"), prefix="/api/v4") as api:
        platform = GitlabPlatform.from_environment(config(), gitlab_env(api.base))
        assert platform is not None
        change = [Commit(A, "Minsu.Kim@agency.go.kr", "minsu.kim@agency.go.kr"), CHANGE[2]]
        logins = platform.commit_logins(change)
        assert [s.query.get("search") for s in api.seen] == [
            "minsu.kim@agency.go.kr",
            "dev@contractor.example",
        ]
    # `minsu` only has a look-alike public email (…go.kr.evil.example): a search hit is not a match.
    assert logins == {"kim"}


def test_a_change_with_too_many_emails_is_not_looked_up_but_refused() -> None:
    many = [
        Commit(f"{i:040x}", f"dev{i}@example.org", f"dev{i}@example.org")
        for i in range(MAX_COMMIT_EMAILS + 1)
    ]
    with serve([]) as api:
        platform = GithubPlatform.from_environment(config(), github_env(api.base))
        assert platform is not None
        with pytest.raises(PlatformError, match="51 author and committer emails") as refused:
            platform.commit_logins(many)
        assert "people:" in (refused.value.hint or "")
        assert api.seen == []
