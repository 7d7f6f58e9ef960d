"""The GitLab adapter end to end: python-gitlab against recorded GitLab REST responses on 127.0.0.1."""

from __future__ import annotations

from pathlib import Path

import pytest

from gatekeeper.adapters.platforms.gitlab import GitlabIssueRfcStore, GitlabPlatform
from gatekeeper.adapters.rfcstore import open_store
from gatekeeper.domain import RfcStatus, Role
from gatekeeper.errors import PlatformError
from gatekeeper.facts.gather import role_members
from gatekeeper.reporters.publish import open_platform
from tests.platform.helpers import GL_TOKEN, HEAD, MARKER, PATTERN, config, gitlab_env
from tests.platform.replay import load, serve

PREFIX = "/api/v4"


def test_rfc_store_reads_template_bodies_across_pages() -> None:
    with serve(load("gitlab/issues.json"), prefix=PREFIX) as api:
        store = open_store(Path("."), config("gitlab"), gitlab_env(api.base))
        entries = {e.id: e for e in store.entries()}
        assert not api.unmatched
        assert [s.query.get("page", "1") for s in api.seen] == ["1", "2"]
        # A project access token, never the job token (which cannot read issues).
        assert api.seen[0].headers["PRIVATE-TOKEN"] == GL_TOKEN and "JOB-TOKEN" not in api.seen[0].headers
    assert sorted(entries) == ["RFC-2026-0001", "RFC-2026-0002", "RFC-2026-0003", "RFC-2026-0004"]
    valid = entries["RFC-2026-0001"].rfc
    assert valid is not None and valid.title == "주소 검색 오류 수정" and valid.impact.performance is True
    assert entries["RFC-2026-0001"].where == "gitlab issue 321#11"
    assert entries["RFC-2026-0002"].rfc is None and "type" in entries["RFC-2026-0002"].error
    closed, cancelled = entries["RFC-2026-0003"].rfc, entries["RFC-2026-0004"].rfc
    assert closed is not None and closed.status is RfcStatus.CLOSED
    assert cancelled is not None and cancelled.status is RfcStatus.CANCELLED


def test_same_content_gives_the_same_digest_on_both_platforms() -> None:
    with serve(load("github/issues.json")) as gh, serve(load("gitlab/issues.json"), prefix=PREFIX) as gl:
        from tests.platform.helpers import github_env

        github = open_store(Path("."), config("github"), github_env(gh.base)).get("RFC-2026-0001")
        gitlab = open_store(Path("."), config("gitlab"), gitlab_env(gl.base)).get("RFC-2026-0001")
    assert github is not None and gitlab is not None and github.digest == gitlab.digest != ""


def test_rfc_store_missing_and_no_token() -> None:
    with serve(load("gitlab/issues.json"), prefix=PREFIX) as api:
        store = GitlabIssueRfcStore.from_environment(Path("."), config("gitlab"), gitlab_env(api.base))
        assert store.get("RFC-2026-0099") is None
    env = {"CI_JOB_TOKEN": "job-token", "CI_PROJECT_ID": "321"}
    with pytest.raises(PlatformError, match="CI_JOB_TOKEN cannot") as raised:
        GitlabIssueRfcStore.from_environment(Path("."), config("gitlab"), env)
    assert "GATEKEEPER_GITLAB_TOKEN" in raised.value.hint


def test_approvals_from_merge_request_and_deployments() -> None:
    with serve(load("gitlab/approvals.json"), prefix=PREFIX) as api:
        platform = GitlabPlatform.from_environment(config(), gitlab_env(api.base))
        assert platform is not None
        facts = platform.approvals(
            merge_request="7",
            head=HEAD,
            environments=("gatekeeper-release-first", "production"),
            pattern=PATTERN,
        )
        assert not api.unmatched
    assert facts.author == "dev"
    got = {(a.actor, a.step, a.decision) for a in facts.approvals}
    assert got == {
        ("kim", "change-review", "approve"),
        ("park", "change-approval", "approve"),
        ("yoon", "release-second", "reject"),
        ("oh", "release-first", "approve"),  # deployment 42 of gatekeeper-release-first for HEAD
        ("jung", "release-second", "reject"),
    }
    # choi never approved the MR, dev is the author, han approved another commit's deployment.
    assert not {a.actor for a in facts.approvals} & {"choi", "dev", "han"}
    park = next(a for a in facts.approvals if a.actor == "park")
    assert park.actor_source == "gitlab-ci" and park.at == "2026-11-21T02:00:00.000+00:00"
    assert park.source == "gitlab merge request !7 note 202"


def test_group_members_resolve_a_role() -> None:
    with serve(load("gitlab/group.json"), prefix=PREFIX) as api:
        platform = GitlabPlatform.from_environment(config(), gitlab_env(api.base))
        assert platform is not None
        members = role_members({Role.CAB: ("agency/ops",)}, platform.group_members)
        assert not api.unmatched
    assert members[Role.CAB] == frozenset({"kim", "park"})  # the blocked member does not count


def test_decision_note_is_created_then_edited_in_place() -> None:
    with serve(load("gitlab/note.json"), prefix=PREFIX) as api:
        platform = open_platform("gitlab", config(), gitlab_env(api.base))
        assert isinstance(platform, GitlabPlatform)
        platform.upsert_comment("7", MARKER, f"{MARKER}\nblocked")
        platform.upsert_comment("7", MARKER, f"{MARKER}\nallowed")
        assert not api.unmatched
        posts, puts = api.requests("POST"), api.requests("PUT")
    assert [p.body for p in posts] == [{"body": f"{MARKER}\nblocked"}]
    assert [(p.path, p.body) for p in puts] == [
        ("/projects/321/merge_requests/7/notes/300", {"body": f"{MARKER}\nallowed"})
    ]


def test_environment_deployment_created_then_finished() -> None:
    with serve(load("gitlab/deployment.json"), prefix=PREFIX) as api:
        platform = GitlabPlatform.from_environment(config(), gitlab_env(api.base))
        assert platform is not None
        for state in ("in_progress", "success"):
            platform.record_deployment(
                ref=HEAD, environment="production", deployment_id="d1", state=state, url=None
            )
        assert not api.unmatched
        posts, puts = api.requests("POST"), api.requests("PUT")
    assert [p.body for p in posts] == [
        {"environment": "production", "sha": HEAD, "ref": "main", "tag": False, "status": "running"}
    ]
    assert [(p.path, p.body) for p in puts] == [("/projects/321/deployments/77", {"status": "success"})]
