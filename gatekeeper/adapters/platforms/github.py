"""GitHub through PyGithub: the issue-backed RFC store, approvals from pull-request reviews and environment
deployment reviews, team members for roles, the decision comment and deployment statuses.

PyGithub is imported lazily (only commands that talk to GitHub pay for it) and used through its
`Requester` — authentication, the session, pagination headers and error classes — against the documented
REST endpoints, so every call is one request that `ApiCaller` can retry and report. PyGithub's own retry
and throttling are switched off: retries, backoff and rate-limit waits are bounded here.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from gatekeeper.adapters.platforms.base import (
    ANCHOR_STATUS,
    ApiCaller,
    ApiFailure,
    CommitPeople,
    GateHook,
    IssueRfc,
    IssueRfcStore,
    PlatformApproval,
    PlatformFacts,
    PostedStatus,
    RetryPolicy,
    approval_lines,
    emails_of_commits,
    environment_step,
    first_env,
    latest_by_actor,
    with_platform,
)
from gatekeeper.config.models import Config
from gatekeeper.domain import ActorSource
from gatekeeper.errors import PlatformError
from gatekeeper.messages import msg
from gatekeeper.rules.approval import login_key

if TYPE_CHECKING:
    from github.Requester import Requester

DEFAULT_API_URL = "https://api.github.com"
TOKEN_VARIABLES = ("GATEKEEPER_GITHUB_TOKEN", "GATEKEEPER_TOKEN", "GITHUB_TOKEN", "GH_TOKEN")
SOURCE = str(ActorSource.GITHUB_ACTIONS)
_NEXT = re.compile(r'<([^>]+)>\s*;\s*rel="next"')
MAX_PAGES = 100


def classify(exc: BaseException) -> ApiFailure | None:
    """How a PyGithub / requests failure is handled (see `ApiCaller`)."""
    import requests
    from github.GithubException import GithubException

    if isinstance(exc, requests.exceptions.Timeout):
        return ApiFailure("timeout", type(exc).__name__)
    if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.ChunkedEncodingError):
        return ApiFailure("transient", f"connection failed ({type(exc).__name__})")
    if isinstance(exc, GithubException):
        status = exc.status
        headers = {k.casefold(): v for k, v in (exc.headers or {}).items()}
        message = exc.data.get("message", "") if isinstance(exc.data, dict) else ""
        detail = f"HTTP {status}" + (f" {message}" if message else "")
        if status in (403, 429) and (
            headers.get("x-ratelimit-remaining") == "0" or "retry-after" in headers or status == 429
        ):
            return ApiFailure("rate-limit", detail, _wait(headers))
        if status >= 500:
            return ApiFailure("transient", detail)
        return ApiFailure("fatal", detail)
    return None


def _wait(headers: Mapping[str, str]) -> float | None:
    import time

    try:
        if "retry-after" in headers:
            return float(headers["retry-after"])
        if "x-ratelimit-reset" in headers:
            # GitHub gives the reset as epoch seconds; the only use of the wall clock is this wait.
            return max(0.0, float(headers["x-ratelimit-reset"]) - time.time())
    except ValueError:
        return None
    return None


@dataclass
class GithubApi:
    """One repository's REST API, every call through `ApiCaller`."""

    requester: Requester
    repository: str  # owner/name
    call: ApiCaller

    @classmethod
    def from_environment(
        cls, config: Config, env: Mapping[str, str], *, policy: RetryPolicy | None = None, **caller: Any
    ) -> GithubApi | None:
        """None when no token is set; a PlatformError when the repository is unknown."""
        from github import Auth, Github

        token = first_env(env, *TOKEN_VARIABLES)
        if not token:
            return None
        repository = first_env(env, "GATEKEEPER_GITHUB_REPOSITORY", "GITHUB_REPOSITORY")
        if not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", repository):
            raise PlatformError(
                msg("GitHub API: the repository is unknown (GITHUB_REPOSITORY is not set to owner/name)"),
                hint=msg("run in GitHub Actions, or set GITHUB_REPOSITORY=owner/name"),
            )
        base = (config.platform.github.api_url or first_env(env, "GITHUB_API_URL") or DEFAULT_API_URL).rstrip(
            "/"
        )
        chosen = policy or RetryPolicy()
        client = Github(
            auth=Auth.Token(token),
            base_url=base,
            timeout=max(1, round(chosen.timeout)),  # PyGithub insists on whole seconds
            retry=None,
            seconds_between_requests=None,
            seconds_between_writes=None,
            per_page=100,
        )
        return cls(client.requester, repository, ApiCaller("GitHub", classify, (token,), chosen, **caller))

    # ---- requests

    def request(self, what: str, verb: str, path: str, **kwargs: Any) -> tuple[dict[str, Any], Any]:
        return self.call(what, lambda: self.requester.requestJsonAndCheck(verb, path, **kwargs))

    def get(self, what: str, path: str, parameters: dict[str, Any] | None = None) -> Any:
        return self.request(what, "GET", path, parameters=parameters)[1]

    def pages(self, what: str, path: str, parameters: dict[str, Any] | None = None) -> Iterator[Any]:
        """Every item of a paginated list, following the `Link: rel="next"` header."""
        params: dict[str, Any] | None = {"per_page": 100, **(parameters or {})}
        url = path
        for _ in range(MAX_PAGES):
            headers, data = self.request(what, "GET", url, parameters=params)
            if not isinstance(data, list):
                raise self.call.error(what, f"expected a list, got {type(data).__name__}")
            yield from data
            link = {k.casefold(): v for k, v in headers.items()}.get("link", "")
            found = _NEXT.search(link)
            if found is None:
                return
            url, params = found.group(1), None  # the next link carries the query
        raise self.call.error(what, f"more than {MAX_PAGES} pages")

    @property
    def repo_path(self) -> str:
        return f"/repos/{self.repository}"


# ------------------------------------------------------------------------------------------- RFC store


def _issue(data: Mapping[str, Any], repository: str) -> IssueRfc:
    labels = tuple(
        str(label.get("name", "")) if isinstance(label, Mapping) else str(label)
        for label in data.get("labels") or ()
    )
    user = data.get("user") or {}
    return IssueRfc(
        number=int(data.get("number", 0)),
        title=str(data.get("title") or ""),
        body=str(data.get("body") or ""),
        closed=data.get("state") == "closed",
        labels=labels,
        author=str(user.get("login", "")) if isinstance(user, Mapping) else "",
        where=f"github issue {repository}#{data.get('number')}",
        updated_at=str(data.get("updated_at") or ""),
    )


class GithubIssueRfcStore(IssueRfcStore):
    """RFCs as issues labelled `rfc.label` whose title starts with the RFC ID (see docs/platforms.md)."""

    def __init__(self, api: GithubApi, config: Config) -> None:
        super().__init__(config)
        self.api = api

    @classmethod
    def from_environment(
        cls, root: Path, config: Config, env: Mapping[str, str], **caller: Any
    ) -> GithubIssueRfcStore:
        api = GithubApi.from_environment(config, env, **caller)
        if api is None:
            raise PlatformError(
                msg("GitHub API: no token to read the RFC issues (rfc.store is github)"),
                hint=msg("pass a token with issues:read as GITHUB_TOKEN (or GATEKEEPER_GITHUB_TOKEN)"),
            )
        return cls(api, config)

    def _issues(self) -> list[IssueRfc]:
        what = f"listing the issues labelled {self.label!r} in {self.api.repository}"
        items = self.api.pages(what, f"{self.api.repo_path}/issues", {"labels": self.label, "state": "all"})
        # The issues endpoint also lists pull requests; they are never RFCs.
        return [_issue(item, self.api.repository) for item in items if "pull_request" not in item]


# ------------------------------------------------------------------------------------------- platform


class GithubPlatform:
    """Pipeline feedback (the `Platform` of gatekeeper.reporters.publish), approvals and team members."""

    def __init__(self, api: GithubApi) -> None:
        self.api = api

    @classmethod
    def from_environment(cls, config: Config, env: Mapping[str, str], **caller: Any) -> GithubPlatform | None:
        api = GithubApi.from_environment(config, env, **caller)
        return None if api is None else cls(api)

    # ---- the decision comment

    def upsert_comment(self, change_request: str, marker: str, body: str) -> None:
        """One comment per pull request, found by its hidden marker and edited in place."""
        if marker not in body:
            body = f"{marker}\n{body}"
        number = int(change_request)
        what = f"reading the comments of pull request #{number}"
        comments = [
            c
            for c in self.api.pages(what, f"{self.api.repo_path}/issues/{number}/comments")
            if marker in str(c.get("body") or "")
        ]
        # Anyone can paste the marker; the bot's own comment is preferred.
        comments.sort(key=lambda c: (c.get("user") or {}).get("type") != "Bot")
        if comments:
            comment_id = int(comments[0]["id"])
            self.api.request(
                f"editing the decision comment {comment_id} on pull request #{number}",
                "PATCH",
                f"{self.api.repo_path}/issues/comments/{comment_id}",
                input={"body": body},
            )
            return
        self.api.request(
            f"creating the decision comment on pull request #{number}",
            "POST",
            f"{self.api.repo_path}/issues/{number}/comments",
            input={"body": body},
        )

    # ---- who wrote the change

    def commit_logins(self, commits: Sequence[CommitPeople]) -> set[str]:
        """The GitHub accounts of the change's authors and committers: GitHub links a commit to the account
        whose verified email it carries, whatever name and email the commit was written under, so an author
        cannot approve under another spelling of themself. One `GET /repos/…/commits/{sha}` per distinct
        email."""
        roles: dict[str, set[str]] = {}  # sha -> the accounts ("author", "committer") to read of it
        for sha, role in emails_of_commits(commits).values():
            roles.setdefault(sha, set()).add(role)
        logins: set[str] = set()
        for sha, wanted in roles.items():
            body = self.api.get(f"reading who wrote commit {sha[:12]}", f"{self.api.repo_path}/commits/{sha}")
            for role in sorted(wanted):
                account = body.get(role) if isinstance(body, dict) else None
                login = account.get("login") if isinstance(account, dict) else None
                if isinstance(login, str) and login:
                    logins.add(login_key(login))
        return logins

    # ---- deployments

    def record_deployment(
        self, *, ref: str, environment: str, deployment_id: str, state: str, url: str | None
    ) -> None:
        """A GitHub Deployment for the gatekeeper deployment (made at start) and a status for each step."""
        found = self._find_deployment(ref, environment, deployment_id)
        if found is None:
            _, created = self.api.request(
                f"creating the {environment} deployment of {ref[:12]}",
                "POST",
                f"{self.api.repo_path}/deployments",
                input={
                    "ref": ref,
                    "environment": environment,
                    "auto_merge": False,
                    "required_contexts": [],
                    "payload": {"gatekeeper_deployment_id": deployment_id},
                    "description": f"gatekeeper deployment {deployment_id}"[:140],
                },
            )
            found = int(created["id"])
        status: dict[str, Any] = {"state": state, "environment": environment}
        if url:
            status["log_url"] = url
        self.api.request(
            f"setting deployment {found} to {state}",
            "POST",
            f"{self.api.repo_path}/deployments/{found}/statuses",
            input=status,
        )

    # ---- ledger anchors

    def anchor_head(self, *, sha: str, seq: int, text: str, url: str | None) -> None:
        """A `gatekeeper/ledger` commit status on `sha` whose description is the ledger's head."""
        status: dict[str, Any] = {"state": "success", "context": ANCHOR_STATUS, "description": text[:140]}
        if url:
            status["target_url"] = url
        self.api.request(
            f"anchoring the ledger head on {sha[:12]}",
            "POST",
            f"{self.api.repo_path}/statuses/{sha}",
            input=status,
        )

    def anchor_statuses(self, shas: Sequence[str]) -> list[PostedStatus]:
        """Every `gatekeeper/ledger` status ever posted on the commits `shas` (GitHub lists them all, newest
        first, not only each context's latest)."""
        found = []
        for sha in shas:
            what = f"reading the commit statuses of {sha[:12]}"
            for status in self.api.pages(what, f"{self.api.repo_path}/commits/{sha}/statuses"):
                if not isinstance(status, Mapping) or status.get("context") != ANCHOR_STATUS:
                    continue
                creator = status.get("creator")
                login = creator.get("login") if isinstance(creator, Mapping) else None
                where = f"GitHub status on {sha[:12]} by {login or '?'} at {status.get('created_at') or '?'}"
                found.append(PostedStatus(str(status.get("description") or ""), where))
        return found

    def _find_deployment(self, ref: str, environment: str, deployment_id: str) -> int | None:
        what = f"listing the {environment} deployments of {ref[:12]}"
        for item in self.api.pages(
            what, f"{self.api.repo_path}/deployments", {"sha": ref, "environment": environment}
        ):
            payload = item.get("payload")
            if isinstance(payload, Mapping) and payload.get("gatekeeper_deployment_id") == deployment_id:
                return int(item["id"])
        return None

    # ---- approvals

    def approvals(
        self,
        *,
        pull_request: str | None,
        run_id: str | None,
        at: datetime,
        pattern: str,
        run_commit: str = "",
    ) -> PlatformFacts:
        """Approvals from the pull request's reviews and the run's environment deployment reviews.

        A review by the pull request's author never counts; the author is returned so that separation of
        duties sees them too. Environment reviews carry no time in the API: `at` (the gate's time) stands in.
        """
        found: list[PlatformApproval] = []
        author = ""
        if pull_request:
            number = int(pull_request)
            pr = self.api.get(f"reading pull request #{number}", f"{self.api.repo_path}/pulls/{number}")
            author = str((pr.get("user") or {}).get("login", ""))
            reviews = list(
                self.api.pages(
                    f"reading the reviews of pull request #{number}",
                    f"{self.api.repo_path}/pulls/{number}/reviews",
                )
            )
            found.extend(review_approvals(reviews, author, pattern))
        if run_id:
            reviews = self.api.get(
                f"reading the deployment reviews of run {run_id}",
                f"{self.api.repo_path}/actions/runs/{run_id}/approvals",
            )
            found.extend(deployment_review_approvals(reviews or [], run_id, at, pattern, author, run_commit))
        return PlatformFacts(tuple(found), author)

    # ---- roles

    def team_members(self, team: str) -> list[str]:
        """The logins of `org/team-slug` (a RoleResolver); the token needs members:read on the org."""
        org, _, slug = team.partition("/")
        if not org or not slug or "/" in slug:
            raise PlatformError(
                msg("GitHub API: {team!r} is not a team (org/team-slug)", team=team),
                hint=msg("name a login, or a team as org/team-slug, in roles"),
            )
        what = f"reading the members of team {team}"
        path = f"/orgs/{quote(org, safe='')}/teams/{quote(slug, safe='')}/members"
        return [str(member["login"]) for member in self.api.pages(what, path) if isinstance(member, Mapping)]


def review_approvals(reviews: list[Any], author: str, pattern: str) -> list[PlatformApproval]:
    """Decisions in pull-request reviews: each reviewer's latest approving / change-requesting review."""
    deciding = [
        (str((r.get("user") or {}).get("login", "")), str(r.get("submitted_at") or ""), r)
        for r in reviews
        if isinstance(r, Mapping) and r.get("state") in ("APPROVED", "CHANGES_REQUESTED", "DISMISSED")
    ]
    out = []
    for review in latest_by_actor(deciding):
        login = str((review.get("user") or {}).get("login", ""))
        if not login or login.casefold() == author.casefold() or review.get("state") == "DISMISSED":
            continue
        for line in approval_lines(str(review.get("body") or ""), pattern):
            if line.decision == "approve" and review.get("state") != "APPROVED":
                continue  # an approval line in a change request is no approval
            out.append(
                PlatformApproval(
                    step=line.step,
                    decision=line.decision,
                    actor=login,
                    actor_source=SOURCE,
                    at=_rfc3339(str(review.get("submitted_at") or "")),
                    source=f"github review {review.get('id')}",
                    rfcs=line.rfcs,
                    digest=line.digest,
                    commit=str(review.get("commit_id") or ""),
                )
            )
    return out


def deployment_review_approvals(
    reviews: list[Any], run_id: str, at: datetime, pattern: str, author: str = "", commit: str = ""
) -> list[PlatformApproval]:
    """Environment deployment reviews of a run: the step from a `gatekeeper:` line in the review comment,
    else from the environment's name (`gatekeeper-<step>`); each certifies the run's commit."""
    out = []
    for review in reviews:
        if not isinstance(review, Mapping) or review.get("state") not in ("approved", "rejected"):
            continue
        login = str((review.get("user") or {}).get("login", ""))
        if not login or (author and login.casefold() == author.casefold()):
            continue
        decision = "approve" if review["state"] == "approved" else "reject"
        lines = approval_lines(str(review.get("comment") or ""), pattern)
        named = [(line.step, line.rfcs, line.digest) for line in lines if line.decision == decision]
        if not named:
            steps = [environment_step(str(e.get("name", ""))) for e in review.get("environments") or ()]
            named = [(step, (), "") for step in steps if step]
        for step, rfcs, digest in named:
            out.append(
                PlatformApproval(
                    step=step,
                    decision=decision,
                    actor=login,
                    actor_source=SOURCE,
                    at=at.isoformat(),
                    source=f"github run {run_id} deployment review",
                    rfcs=rfcs,
                    digest=digest,
                    commit=commit,
                )
            )
    return out


def _rfc3339(value: str) -> str:
    return value.replace("Z", "+00:00") if value.endswith("Z") else value


def gate_hook(config: Config, env: Mapping[str, str], cwd: Path, at: datetime) -> GateHook | None:
    """The gate's platform-approval hook in GitHub Actions (None without a token): reviews of the pull
    request being deployed and the run's environment reviews, bound as docs/platforms.md describes."""
    from gatekeeper.adapters.ci.context import detect_ci

    platform = GithubPlatform.from_environment(config, env)
    if platform is None:
        return None
    ci = detect_ci(env, cwd)
    run_id = first_env(env, "GITHUB_RUN_ID") or None

    def hook(approvals: tuple[Any, ...], head: str) -> tuple[Any, ...]:
        facts = platform.approvals(
            pull_request=ci.change_request,
            run_id=run_id,
            at=at,
            pattern=config.rfc.id_pattern,
            run_commit=ci.head,
        )
        changed: dict[str, datetime | None] = {}
        if config.rfc.store == "github":
            store = GithubIssueRfcStore(platform.api, config)
            changed = {a.rfc_id: store.changed_at(a.rfc_id) for a in approvals}
        return with_platform(approvals, facts, head, changed)

    return hook


def gate_sources(
    config: Config, env: Mapping[str, str], cwd: Path, at: datetime, environment: str, steps: Sequence[str]
) -> tuple[Any, GateHook | None, Callable[[Sequence[CommitPeople]], set[str]]] | None:
    """The gate's role resolver, platform-approval hook and commit-login look-up in this CI; None without
    a token."""
    platform = GithubPlatform.from_environment(config, env)
    if platform is None:
        return None
    return platform.team_members, gate_hook(config, env, cwd, at), platform.commit_logins


# The platform adapter `reporters.publish.open_platform` opens for this CI (`adapters.ci.CI_PLATFORMS`).
PLATFORM = GithubPlatform
