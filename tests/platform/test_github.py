"""The GitHub adapter end to end: PyGithub against recorded GitHub REST responses on 127.0.0.1."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest

from gatekeeper.adapters.platforms.base import merge_decisions
from gatekeeper.adapters.platforms.github import GithubIssueRfcStore, GithubPlatform
from gatekeeper.adapters.rfcstore import open_store
from gatekeeper.domain import RfcStatus
from gatekeeper.errors import PlatformError
from gatekeeper.facts.gather import role_members
from gatekeeper.reporters.publish import open_platform
from gatekeeper.rules import RuleContext
from gatekeeper.rules.approval import ApprovalFacts, check_approvals
from tests.platform.helpers import HEAD, MARKER, PATTERN, TOKEN, Sleeps, caller, config, github_env
from tests.platform.replay import load, serve

AT = datetime(2026, 11, 24, 12, 0, tzinfo=UTC)


def test_rfc_store_reads_issue_form_bodies_across_pages() -> None:
    with serve(load("github/issues.json")) as api:
        store = open_store(Path("."), config("github"), github_env(api.base))
        entries = {e.id: e for e in store.entries()}
        assert not api.unmatched
        # Both pages were read, the second through the Link header's absolute URL.
        assert [s.path for s in api.seen] == ["/repos/agency/minwon/issues", "/repositories/700/issues"]
        assert api.seen[0].query == {"labels": "rfc", "state": "all", "per_page": "100"}
        assert api.seen[0].headers["Authorization"] == f"token {TOKEN}"
    assert sorted(entries) == ["RFC-2026-0001", "RFC-2026-0002", "RFC-2026-0003", "RFC-2026-0004"]
    valid = entries["RFC-2026-0001"].rfc
    assert valid is not None and entries["RFC-2026-0001"].where == "github issue agency/minwon#11"
    assert valid.title == "주소 검색 오류 수정" and valid.requester == "lee" and valid.systems == ("minwon",)
    assert valid.impact.level == "medium" and valid.impact.agencies == ("행정안전부", "서울시")
    assert valid.impact.performance is True and valid.impact.service_interruption is False
    assert valid.schedule.requested_at is not None and valid.basis == "" and valid.status is RfcStatus.ACTIVE
    assert entries["RFC-2026-0001"].digest.startswith("sha256:")
    invalid = entries["RFC-2026-0002"]
    assert (
        invalid.rfc is None
        and "type" in invalid.error
        and "systems: required key is missing" in invalid.error
    )
    closed, cancelled = entries["RFC-2026-0003"].rfc, entries["RFC-2026-0004"].rfc
    assert closed is not None and closed.status is RfcStatus.CLOSED
    assert cancelled is not None and cancelled.status is RfcStatus.CANCELLED


def test_rfc_store_get_and_missing() -> None:
    with serve(load("github/issues.json") * 2) as api:
        store = GithubIssueRfcStore.from_environment(Path("."), config("github"), github_env(api.base))
        found = store.get("RFC-2026-0003")
        assert found is not None and found.rfc is not None and found.rfc.id == "RFC-2026-0003"
        assert store.get("RFC-2026-0099") is None


def test_rfc_store_without_token_is_a_platform_error() -> None:
    with pytest.raises(PlatformError, match="no token"):
        GithubIssueRfcStore.from_environment(Path("."), config("github"), {"GITHUB_REPOSITORY": "a/b"})
    with pytest.raises(PlatformError, match="repository is unknown"):
        GithubIssueRfcStore.from_environment(Path("."), config("github"), {"GITHUB_TOKEN": TOKEN})


def test_approvals_from_reviews_and_deployment_reviews() -> None:
    with serve(load("github/approvals.json")) as api:
        platform = GithubPlatform.from_environment(config(), github_env(api.base))
        assert platform is not None
        facts = platform.approvals(pull_request="7", run_id="99", at=AT, pattern=PATTERN)
        assert not api.unmatched
    assert facts.author == "dev"
    got = {(a.actor, a.step, a.decision) for a in facts.approvals}
    assert got == {
        ("kim", "change-review", "approve"),
        ("park", "change-approval", "approve"),  # the later approval replaces park's change request
        ("choi", "cab", "approve"),  # a later COMMENTED review does not undo an approval
        ("yoon", "release-second", "reject"),
        ("oh", "release-first", "approve"),  # environment gatekeeper-release-first
        ("jung", "release-second", "reject"),  # named in the deployment review comment
    }
    # The PR author's own review and deployment review never count; a dismissed review neither; an
    # approval of `production` with no step named is no step approval.
    assert not {a.actor for a in facts.approvals} & {"dev", "han", "lim"}
    kim = next(a for a in facts.approvals if a.actor == "kim")
    assert (
        kim.actor_source == "github-actions" and kim.at == "2026-11-21T01:00:00+00:00" and kim.commit == HEAD
    )
    park = next(a for a in facts.approvals if a.actor == "park")
    assert park.rfcs == ("RFC-2026-0001",)
    oh = next(a for a in facts.approvals if a.actor == "oh")
    assert oh.at == AT.isoformat() and oh.source == "github run 99 deployment review"


def test_platform_approvals_feed_the_approval_rules() -> None:
    """Reviews become decisions the rules judge: a review on an older commit is stale, and separation of
    duties sees the pull-request author."""
    with serve(load("github/approvals.json")) as api:
        platform = GithubPlatform.from_environment(config(), github_env(api.base))
        assert platform is not None
        facts = platform.approvals(pull_request="7", run_id=None, at=AT, pattern=PATTERN)
    from gatekeeper.config import load_policy
    from gatekeeper.domain import ChangeType, Grade, Role

    policy = load_policy("kr-ap-sop")
    digest = "sha256:" + "c" * 64
    decisions = merge_decisions((), facts.approvals, "RFC-2026-0001", digest, head=HEAD)
    members = role_members(
        {Role.AGENCY_OFFICER: ("kim",), Role.AGENCY_MANAGER: ("park",), Role.CAB: ("choi",)}
    )
    approval_facts = ApprovalFacts(
        "RFC-2026-0001", "lee", digest, decisions, frozenset({facts.author.casefold()}), members
    )
    ctx = RuleContext(policy, Grade(1), ChangeType.NORMAL, AT)
    findings = {(f.rule, f.subject) for f in check_approvals(approval_facts, ctx)}
    assert ("approval.stale", "RFC-2026-0001 cab") in findings  # choi reviewed commit bbbb…, not the head
    assert ("approval.rejected", "RFC-2026-0001 release-second") in findings
    # park approved on the pull request before choi's CAB review: the SOP puts the CAB first.
    assert ("approval.out-of-order", "RFC-2026-0001 change-approval") in findings
    assert {r for r, s in findings if s.endswith(("change-review", "change-approval"))} == {
        "approval.out-of-order"
    }, findings


def test_team_members_resolve_a_role() -> None:
    with serve(load("github/team.json")) as api:
        platform = GithubPlatform.from_environment(config(), github_env(api.base))
        assert platform is not None
        from gatekeeper.domain import Role

        members = role_members(
            {Role.OPERATOR_MANAGER: ("agency/ops-managers", "@Lee")}, platform.team_members
        )
    assert members[Role.OPERATOR_MANAGER] == frozenset({"kim", "park", "lee"})


def test_decision_comment_is_created_then_edited_in_place() -> None:
    with serve(load("github/comment.json")) as api:
        platform = open_platform("github", config(), github_env(api.base))
        assert isinstance(platform, GithubPlatform)
        platform.upsert_comment("7", MARKER, f"{MARKER}\nblocked")
        platform.upsert_comment("7", MARKER, "allowed")
        assert not api.unmatched
        posts, patches = api.requests("POST"), api.requests("PATCH")
    assert [p.body for p in posts] == [{"body": f"{MARKER}\nblocked"}]
    # The bot's own comment (102) is edited, not kim's comment that quotes the marker.
    assert [(p.path, p.body) for p in patches] == [
        ("/repos/agency/minwon/issues/comments/102", {"body": f"{MARKER}\nallowed"})
    ]


def test_deployment_created_then_status_updated() -> None:
    with serve(load("github/deployment.json")) as api:
        platform = GithubPlatform.from_environment(config(), github_env(api.base))
        assert platform is not None
        run = "https://github.com/agency/minwon/actions/runs/99"
        platform.record_deployment(
            ref=HEAD, environment="production", deployment_id="dep-01", state="in_progress", url=run
        )
        platform.record_deployment(
            ref=HEAD, environment="production", deployment_id="dep-01", state="success", url=run
        )
        assert not api.unmatched
        created = api.requests("POST", "/repos/agency/minwon/deployments")
        statuses = api.requests("POST", "/repos/agency/minwon/deployments/1234/statuses")
    assert len(created) == 1 and created[0].body["payload"] == {"gatekeeper_deployment_id": "dep-01"}
    assert created[0].body["ref"] == HEAD and created[0].body["environment"] == "production"
    assert [s.body["state"] for s in statuses] == ["in_progress", "success"]
    assert statuses[0].body["log_url"] == run


def test_no_token_means_no_platform() -> None:
    assert open_platform("github", config(), {"GITHUB_REPOSITORY": "agency/minwon"}) is None


def test_sleeps_helper_is_injected() -> None:
    sleeps = Sleeps()
    kwargs = caller(sleeps)
    kwargs["sleep"](1.5)
    assert sleeps == [1.5]
