"""GitLab through python-gitlab: the issue-backed RFC store, approvals from merge-request approvals and
deployment approvals, group members for roles, the decision note and environment deployments.

python-gitlab is imported lazily and used through its `http_*` methods (authentication, session,
pagination, error classes) against the documented REST endpoints. Its own retries and rate-limit sleeps
are switched off per call; `ApiCaller` bounds them here. CI_JOB_TOKEN cannot read issues, approvals or
members, so a project or group access token is needed (GATEKEEPER_GITLAB_TOKEN or GITLAB_TOKEN).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import suppress
from dataclasses import dataclass, field
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
    with_platform,
)
from gatekeeper.config.models import Config
from gatekeeper.domain import ActorSource
from gatekeeper.errors import PlatformError
from gatekeeper.messages import msg
from gatekeeper.rules.approval import login_key

if TYPE_CHECKING:
    import gitlab
    import requests

DEFAULT_URL = "https://gitlab.com"
TOKEN_VARIABLES = ("GATEKEEPER_GITLAB_TOKEN", "GATEKEEPER_TOKEN", "GITLAB_TOKEN")
SOURCE = str(ActorSource.GITLAB_CI)
NO_RETRY: dict[str, Any] = {"obey_rate_limit": False, "retry_transient_errors": False, "max_retries": 0}
# gatekeeper's deployment states (GitHub's names, from gatekeeper.reporters.publish) as GitLab
# deployment statuses
STATUSES = {"in_progress": "running", "success": "success", "failure": "failed", "inactive": "canceled"}


@dataclass
class _Headers:
    """The headers of the last response, for Retry-After (python-gitlab's errors do not carry them)."""

    last: dict[str, str] = field(default_factory=dict)

    def hook(self, response: requests.Response, *args: object, **kwargs: object) -> None:
        self.last = {k.casefold(): v for k, v in response.headers.items()}


def classifier(headers: _Headers) -> Any:
    def classify(exc: BaseException) -> ApiFailure | None:
        import requests
        from gitlab.exceptions import GitlabError

        if isinstance(exc, requests.exceptions.Timeout):
            return ApiFailure("timeout", type(exc).__name__)
        if isinstance(exc, requests.exceptions.ConnectionError | requests.exceptions.ChunkedEncodingError):
            return ApiFailure("transient", f"connection failed ({type(exc).__name__})")
        if isinstance(exc, GitlabError):
            status = exc.response_code or 0
            detail = f"HTTP {status} {exc.error_message}".strip()
            if status == 429:
                wait: float | None = None
                with suppress(KeyError, ValueError):
                    wait = float(headers.last["retry-after"])
                return ApiFailure("rate-limit", detail, wait)
            if status >= 500:
                return ApiFailure("transient", detail)
            return ApiFailure("fatal", detail)
        return None

    return classify


@dataclass
class GitlabApi:
    """One project's REST API (v4), every call through `ApiCaller`."""

    client: gitlab.Gitlab
    project: str  # numeric ID or path
    call: ApiCaller

    @classmethod
    def from_environment(
        cls, config: Config, env: Mapping[str, str], *, policy: RetryPolicy | None = None, **caller: Any
    ) -> GitlabApi | None:
        """None when no token is set; a PlatformError when the project is unknown."""
        import gitlab
        import requests

        token = first_env(env, *TOKEN_VARIABLES)
        if not token:
            return None
        project = first_env(env, "GATEKEEPER_GITLAB_PROJECT", "CI_PROJECT_ID", "CI_PROJECT_PATH")
        if not project:
            raise PlatformError(
                msg("GitLab API: the project is unknown (CI_PROJECT_ID is not set)"),
                hint=msg("run in GitLab CI, or set CI_PROJECT_ID to the project's ID or path"),
            )
        api_v4 = first_env(env, "CI_API_V4_URL").removesuffix("/").removesuffix("/api/v4")
        url = (config.platform.gitlab.url or api_v4 or first_env(env, "CI_SERVER_URL") or DEFAULT_URL).rstrip(
            "/"
        )
        chosen = policy or RetryPolicy()
        headers = _Headers()
        session = requests.Session()
        session.hooks["response"].append(headers.hook)
        client = gitlab.Gitlab(
            url,
            private_token=token,
            timeout=chosen.timeout,
            retry_transient_errors=False,
            per_page=100,
            session=session,
        )
        return cls(client, project, ApiCaller("GitLab", classifier(headers), (token,), chosen, **caller))

    @property
    def project_path(self) -> str:
        return f"/projects/{quote(self.project, safe='')}"

    def get(self, what: str, path: str, query: dict[str, Any] | None = None) -> Any:
        return self.call(what, lambda: self.client.http_get(path, query_data=query or {}, **NO_RETRY))

    def pages(self, what: str, path: str, query: dict[str, Any] | None = None) -> list[Any]:
        def read() -> list[Any]:
            found = self.client.http_list(path, query_data=query or {}, get_all=True, **NO_RETRY)
            return list(found)

        return self.call(what, read)

    def post(self, what: str, path: str, data: dict[str, Any]) -> Any:
        return self.call(what, lambda: self.client.http_post(path, post_data=data, **NO_RETRY))

    def put(self, what: str, path: str, data: dict[str, Any]) -> Any:
        return self.call(what, lambda: self.client.http_put(path, post_data=data, **NO_RETRY))


def _login(user: Any) -> str:
    return str(user.get("username", "")) if isinstance(user, Mapping) else ""


# ------------------------------------------------------------------------------------------- RFC store


def _issue(data: Mapping[str, Any], project: str) -> IssueRfc:
    return IssueRfc(
        number=int(data.get("iid", 0)),
        title=str(data.get("title") or ""),
        body=str(data.get("description") or ""),
        closed=data.get("state") == "closed",
        labels=tuple(str(label) for label in data.get("labels") or ()),
        author=_login(data.get("author")),
        where=f"gitlab issue {project}#{data.get('iid')}",
        updated_at=str(data.get("updated_at") or ""),
    )


class GitlabIssueRfcStore(IssueRfcStore):
    """RFCs as issues labelled `rfc.label` whose title starts with the RFC ID (see docs/platforms.md)."""

    def __init__(self, api: GitlabApi, config: Config) -> None:
        super().__init__(config)
        self.api = api

    @classmethod
    def from_environment(
        cls, root: Path, config: Config, env: Mapping[str, str], **caller: Any
    ) -> GitlabIssueRfcStore:
        api = GitlabApi.from_environment(config, env, **caller)
        if api is None:
            raise PlatformError(
                msg("GitLab API: no token to read the RFC issues (rfc.store is gitlab; CI_JOB_TOKEN cannot)"),
                hint=msg(
                    "add a project access token with read_api as the CI/CD variable GATEKEEPER_GITLAB_TOKEN"
                ),
            )
        return cls(api, config)

    def _issues(self) -> list[IssueRfc]:
        what = f"listing the issues labelled {self.label!r} in project {self.api.project}"
        items = self.api.pages(
            what, f"{self.api.project_path}/issues", {"labels": self.label, "state": "all"}
        )
        return [_issue(item, self.api.project) for item in items if isinstance(item, Mapping)]


# ------------------------------------------------------------------------------------------- platform


class GitlabPlatform:
    """Pipeline feedback (the `Platform` of gatekeeper.reporters.publish), approvals and group members."""

    def __init__(self, api: GitlabApi, ref_name: str = "") -> None:
        self.api = api
        self.ref_name = ref_name

    @classmethod
    def from_environment(cls, config: Config, env: Mapping[str, str], **caller: Any) -> GitlabPlatform | None:
        api = GitlabApi.from_environment(config, env, **caller)
        return None if api is None else cls(api, first_env(env, "CI_COMMIT_REF_NAME"))

    def commit_logins(self, commits: Sequence[CommitPeople]) -> set[str]:
        """The GitLab usernames of the change's authors and committers: the users whose email (public, or
        any for an administrator's token) is a commit's email (`GET /users?search=EMAIL`, one per distinct
        email), so an author cannot approve under another spelling of themself."""
        logins: set[str] = set()
        for email in emails_of_commits(commits):
            users = self.api.get(f"looking up the GitLab user of {email}", "/users", {"search": email})
            for user in users if isinstance(users, list) else ():
                if not isinstance(user, dict):
                    continue
                emails = {
                    str(user.get(k) or "").strip().casefold()
                    for k in ("public_email", "email", "commit_email")
                }
                if email in emails and isinstance(user.get("username"), str):
                    logins.add(login_key(user["username"]))
        return logins

    def upsert_comment(self, change_request: str, marker: str, body: str) -> None:
        """One note per merge request, found by its hidden marker and edited in place."""
        if marker not in body:
            body = f"{marker}\n{body}"
        iid = int(change_request)
        notes_path = f"{self.api.project_path}/merge_requests/{iid}/notes"
        notes = [
            n
            for n in self.api.pages(f"reading the notes of merge request !{iid}", notes_path, {"sort": "asc"})
            if isinstance(n, Mapping) and not n.get("system") and marker in str(n.get("body") or "")
        ]
        # Anyone can paste the marker; a bot's note (project access tokens act as bots) is preferred.
        notes.sort(key=lambda n: not bool((n.get("author") or {}).get("bot")))
        if notes:
            note_id = int(notes[0]["id"])
            self.api.put(
                f"editing the decision note {note_id} on merge request !{iid}",
                f"{notes_path}/{note_id}",
                {"body": body},
            )
            return
        self.api.post(f"creating the decision note on merge request !{iid}", notes_path, {"body": body})

    def record_deployment(
        self, *, ref: str, environment: str, deployment_id: str, state: str, url: str | None
    ) -> None:
        """A GitLab deployment of the environment: created `running` at start, its status set at the end."""
        status = STATUSES.get(state, "failed")
        path = f"{self.api.project_path}/deployments"
        running = [
            d
            for d in self.api.pages(
                f"listing the running {environment} deployments",
                path,
                {"environment": environment, "status": "running", "order_by": "id", "sort": "desc"},
            )
            if isinstance(d, Mapping) and d.get("sha") == ref
        ]
        if running and status != "running":
            found = int(running[0]["id"])
            self.api.put(f"setting deployment {found} to {status}", f"{path}/{found}", {"status": status})
            return
        if running:
            return  # already recorded as running
        self.api.post(
            f"creating the {environment} deployment of {ref[:12]}",
            path,
            {
                "environment": environment,
                "sha": ref,
                "ref": self.ref_name or ref,
                "tag": False,
                "status": status,
            },
        )

    # ---- ledger anchors

    def anchor_head(self, *, sha: str, seq: int, text: str, url: str | None) -> None:
        """An external commit status on `sha` whose description is the ledger's head. Its name carries the
        head's seq: GitLab updates a status of the same name in place and refuses success after success."""
        data: dict[str, Any] = {
            "state": "success",
            "name": f"{ANCHOR_STATUS} {seq}",
            "description": text[:255],
        }
        if self.ref_name:
            data["ref"] = self.ref_name
        if url:
            data["target_url"] = url
        self.api.post(
            f"anchoring the ledger head on {sha[:12]}", f"{self.api.project_path}/statuses/{sha}", data
        )

    def anchor_statuses(self, shas: Sequence[str]) -> list[PostedStatus]:
        """Every `gatekeeper/ledger …` status of the commits `shas`, retried and replaced ones included."""
        found = []
        for sha in shas:
            statuses = self.api.pages(
                f"reading the commit statuses of {sha[:12]}",
                f"{self.api.project_path}/repository/commits/{sha}/statuses",
                {"all": "true"},
            )
            for status in statuses:
                if not isinstance(status, Mapping):
                    continue
                name = str(status.get("name") or "")
                if name != ANCHOR_STATUS and not name.startswith(ANCHOR_STATUS + " "):
                    continue
                who = _login(status.get("author")) or "?"
                where = f"GitLab status on {sha[:12]} by {who} at {status.get('created_at') or '?'}"
                found.append(PostedStatus(str(status.get("description") or ""), where))
        return found

    def approvals(
        self, *, merge_request: str | None, head: str, environments: Sequence[str], pattern: str
    ) -> PlatformFacts:
        """Decisions from the merge request (approvals + the approvers' `gatekeeper:` notes) and from the
        deployment approvals of `environments` for the commit `head` (see docs/platforms.md)."""
        found: list[PlatformApproval] = []
        author = ""
        if merge_request:
            iid = int(merge_request)
            mr_path = f"{self.api.project_path}/merge_requests/{iid}"
            mr = self.api.get(f"reading merge request !{iid}", mr_path)
            author = _login(mr.get("author"))
            state = self.api.get(f"reading the approvals of merge request !{iid}", f"{mr_path}/approvals")
            notes = self.api.pages(
                f"reading the notes of merge request !{iid}", f"{mr_path}/notes", {"sort": "asc"}
            )
            found.extend(merge_request_approvals(state, notes, author, iid, pattern))
        for environment in environments:
            deployments = self.api.get(
                f"listing the {environment} deployments",
                f"{self.api.project_path}/deployments",
                {"environment": environment, "order_by": "id", "sort": "desc", "per_page": 20},
            )
            for deployment in deployments or ():
                if isinstance(deployment, Mapping) and deployment.get("sha") == head:
                    found.extend(deployment_approvals(deployment, environment, pattern, author))
        return PlatformFacts(tuple(found), author)

    def group_members(self, group: str) -> list[str]:
        """The usernames of a group (`group/subgroup`), inherited members included (a RoleResolver)."""
        what = f"reading the members of group {group}"
        members = self.api.pages(what, f"/groups/{quote(group, safe='')}/members/all")
        return [_login(m) for m in members if isinstance(m, Mapping) and m.get("state", "active") == "active"]


def merge_request_approvals(
    state: Mapping[str, Any], notes: Sequence[Any], author: str, iid: int, pattern: str
) -> list[PlatformApproval]:
    """An approver's `gatekeeper: approve <step>` notes count while their approval stands; `reject` notes by
    anyone but the author count as given. The author's own approval or notes never count."""
    approvers = {
        _login(entry.get("user")).casefold(): str(entry.get("approved_at") or "")
        for entry in state.get("approved_by") or ()
        if isinstance(entry, Mapping)
    }
    out = []
    for note in notes:
        if not isinstance(note, Mapping) or note.get("system"):
            continue
        login = _login(note.get("author"))
        if not login or login.casefold() == author.casefold():
            continue
        for line in approval_lines(str(note.get("body") or ""), pattern):
            if line.decision == "approve" and login.casefold() not in approvers:
                continue
            at = str(note.get("created_at") or "")
            approved_at = approvers.get(login.casefold(), "")
            out.append(
                PlatformApproval(
                    step=line.step,
                    decision=line.decision,
                    actor=login,
                    actor_source=SOURCE,
                    at=_rfc3339(max(at, approved_at) if line.decision == "approve" else at),
                    source=f"gitlab merge request !{iid} note {note.get('id')}",
                    rfcs=line.rfcs,
                    digest=line.digest,
                )
            )
    return out


def deployment_approvals(
    deployment: Mapping[str, Any], environment: str, pattern: str, author: str = ""
) -> list[PlatformApproval]:
    """A deployment's approvals: the step from a `gatekeeper:` line in the approval comment, else from the
    environment's name (`gatekeeper-<step>`)."""
    out = []
    for approval in deployment.get("approvals") or ():
        if not isinstance(approval, Mapping) or approval.get("status") not in ("approved", "rejected"):
            continue
        login = _login(approval.get("user"))
        if not login or (author and login.casefold() == author.casefold()):
            continue
        decision = "approve" if approval["status"] == "approved" else "reject"
        lines = approval_lines(str(approval.get("comment") or ""), pattern)
        named = [(line.step, line.rfcs, line.digest) for line in lines if line.decision == decision]
        if not named:
            step = environment_step(environment)
            named = [(step, (), "")] if step else []
        for step, rfcs, digest in named:
            out.append(
                PlatformApproval(
                    step=step,
                    decision=decision,
                    actor=login,
                    actor_source=SOURCE,
                    at=_rfc3339(str(approval.get("created_at") or "")),
                    source=f"gitlab deployment {deployment.get('id')} approval",
                    rfcs=rfcs,
                    digest=digest,
                    commit=str(deployment.get("sha") or ""),
                )
            )
    return out


def _rfc3339(value: str) -> str:
    return value.replace("Z", "+00:00") if value.endswith("Z") else value


def gate_hook(
    config: Config, env: Mapping[str, str], environment: str, steps: Sequence[str]
) -> GateHook | None:
    """The gate's platform-approval hook in GitLab CI (None without a token): the merge request's
    approvals and the deployment approvals of `environment` and of `gatekeeper-<step>` environments."""
    platform = GitlabPlatform.from_environment(config, env)
    if platform is None:
        return None
    merge_request = first_env(env, "CI_MERGE_REQUEST_IID") or None
    environments = (environment, *(f"gatekeeper-{step}" for step in steps))

    def hook(approvals: tuple[Any, ...], head: str) -> tuple[Any, ...]:
        facts = platform.approvals(
            merge_request=merge_request, head=head, environments=environments, pattern=config.rfc.id_pattern
        )
        changed: dict[str, datetime | None] = {}
        if config.rfc.store == "gitlab":
            store = GitlabIssueRfcStore(platform.api, config)
            changed = {a.rfc_id: store.changed_at(a.rfc_id) for a in approvals}
        return with_platform(approvals, facts, head, changed)

    return hook


def gate_sources(
    config: Config, env: Mapping[str, str], cwd: Path, at: datetime, environment: str, steps: Sequence[str]
) -> tuple[Any, GateHook | None, Callable[[Sequence[CommitPeople]], set[str]]] | None:
    """The gate's role resolver, platform-approval hook and commit-login look-up in this CI; None without
    a token."""
    platform = GitlabPlatform.from_environment(config, env)
    if platform is None:
        return None
    return platform.group_members, gate_hook(config, env, environment, steps), platform.commit_logins


# The platform adapter `reporters.publish.open_platform` opens for this CI (`adapters.ci.CI_PLATFORMS`).
PLATFORM = GitlabPlatform
