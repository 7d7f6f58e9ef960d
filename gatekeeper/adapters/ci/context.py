"""Where a command runs: GitHub Actions, GitLab CI or a workstation, behind one value type.

`detect_ci` reads only the injected environment, the event payload file GitHub names in GITHUB_EVENT_PATH
and, on a workstation, git. It decides *what* range of commits a pipeline is about (`base`..`head`) and
*who* runs it; resolving that range against the repository (new branches, forced pushes, shallow clones)
is the git adapter's job (`gatekeeper.adapters.git.resolve_range`).

`base` is the exclusive lower bound: None when the pipeline gives none (a new branch or tag, whose
before-SHA is all zeros, a manual run, a schedule). The git adapter then checks every commit not already
on another branch, so an unknown base never means "nothing to check".
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from gatekeeper.domain import ActorSource
from gatekeeper.errors import GitError, InputError
from gatekeeper.messages import msg
from gatekeeper.untrusted import loads_json

_SHA = re.compile(r"^(?:[0-9a-f]{40}|[0-9a-f]{64})$")
MAX_EVENT_BYTES = 25 * 1024 * 1024  # GitHub caps webhook payloads at 25 MB


@dataclass(frozen=True)
class CiContext:
    provider: Literal["github", "gitlab", "local"]
    actor: str
    actor_source: ActorSource
    event: str
    base: str | None
    head: str
    ref: str
    is_tag: bool
    change_request: str | None
    repository: str | None
    run_url: str | None


def is_null_sha(value: str | None) -> bool:
    """True for a missing SHA and for git's all-zeros SHA (new branch, deleted branch, MR pipelines)."""
    return not value or set(value) == {"0"}


def detect_ci(env: Mapping[str, str], cwd: Path) -> CiContext:
    """The CI context from the environment; a workstation when no CI platform is detected."""
    from gatekeeper.adapters.ci import ci_platform

    return ci_platform(env).context(env, cwd)


# ------------------------------------------------------------------------------------------- GitHub


def _load_event(env: Mapping[str, str]) -> tuple[dict[str, Any], str]:
    where = env.get("GITHUB_EVENT_PATH", "")
    if not where:
        raise InputError(
            msg("GITHUB_ACTIONS is true but GITHUB_EVENT_PATH is not set, so the pushed range is unknown"),
            hint=msg("run gatekeeper inside a GitHub Actions job step, or pass --range BASE..HEAD"),
        )
    path = Path(where)
    try:
        with path.open("rb") as handle:
            raw = handle.read(MAX_EVENT_BYTES + 1)
    except OSError as exc:
        raise InputError(
            msg(
                "{where}: cannot read the GitHub event payload: {reason}",
                where=where,
                reason=exc.strerror or exc,
            ),
            hint=msg(
                "GITHUB_EVENT_PATH must name the event file the runner wrote; else pass --range BASE..HEAD"
            ),
        ) from None
    if len(raw) > MAX_EVENT_BYTES:
        raise InputError(
            msg(
                "{where}: the GitHub event payload is larger than {max_bytes} bytes",
                where=where,
                max_bytes=MAX_EVENT_BYTES,
            ),
            hint=msg("check that this is the event file the runner wrote"),
        )
    try:
        payload = loads_json(raw)
    except ValueError as exc:  # not UTF-8, not JSON, or JSON no runner writes (NaN, nesting, huge numbers)
        raise InputError(
            msg("{where}: the GitHub event payload is not valid UTF-8 JSON: {exc}", where=where, exc=exc),
            hint=msg("GITHUB_EVENT_PATH must name the event file the runner wrote"),
        ) from None
    if not isinstance(payload, dict):
        raise InputError(
            msg(
                "{where}: the GitHub event payload must be a JSON object, found {found}",
                where=where,
                found=type(payload).__name__,
            ),
            hint=msg("check that this is the event file the runner wrote"),
        )
    return payload, where


def github_event(env: Mapping[str, str]) -> dict[str, Any]:
    """The GitHub event payload the runner wrote (size and shape checked as for the pushed range)."""
    return _load_event(env)[0]


def _field(payload: Mapping[str, Any], where: str, *keys: str, required: bool = True) -> str | None:
    """A string at the key path `keys`; a missing or non-string value is an error naming the file and key."""
    value: Any = payload
    for key in keys:
        value = value.get(key) if isinstance(value, Mapping) else None
    if value is None and not required:
        return None
    if isinstance(value, int) and not isinstance(value, bool) and keys[-1] in {"number", "iid"}:
        return str(value)
    if not isinstance(value, str) or not value:
        found = "missing" if value is None else f"not a string: {value!r}"[:120]
        raise InputError(
            msg("{where}: {keys} is {found}", where=where, keys=".".join(keys), found=found),
            hint=msg("the event payload does not look like one GitHub wrote for this event"),
        )
    return value


def _sha(value: str | None, where: str, name: str) -> str | None:
    if value is None:
        return None
    if not _SHA.match(value):
        raise InputError(
            msg(
                "{where}: {name} is not a commit SHA: {value!r}",
                where=where,
                name=name,
                value=value[:80],
            ),
            hint=msg("check that this is the event file the runner wrote"),
        )
    return None if is_null_sha(value) else value


def github_context(env: Mapping[str, str]) -> CiContext:
    payload, where = _load_event(env)
    event = env.get("GITHUB_EVENT_NAME", "") or "unknown"
    ref = env.get("GITHUB_REF", "") or str(payload.get("ref") or "")
    base: str | None = None
    change_request: str | None = None
    head = _sha(env.get("GITHUB_SHA") or None, "GITHUB_SHA", "GITHUB_SHA")
    if event == "push":
        base = _sha(_field(payload, where, "before"), where, "before")
        after = _sha(_field(payload, where, "after"), where, "after")
        ref = _field(payload, where, "ref") or ref
        if after is None:
            # A deleted branch or tag: nothing new to check.
            head, base = base, base
        else:
            head = after
    elif event in {"pull_request", "pull_request_target", "pull_request_review"}:
        base = _sha(_field(payload, where, "pull_request", "base", "sha"), where, "pull_request.base.sha")
        head = _sha(_field(payload, where, "pull_request", "head", "sha"), where, "pull_request.head.sha")
        change_request = _field(payload, where, "pull_request", "number")
    elif event == "merge_group":
        base = _sha(_field(payload, where, "merge_group", "base_sha"), where, "merge_group.base_sha")
        head = _sha(_field(payload, where, "merge_group", "head_sha"), where, "merge_group.head_sha")
        ref = _field(payload, where, "merge_group", "head_ref") or ref
    if head is None:
        raise InputError(
            msg(
                "{where}: no commit to check for the {event!r} event (GITHUB_SHA is not set)",
                where=where,
                event=event,
            ),
            hint=msg("pass --range BASE..HEAD"),
        )
    actor = env.get("GITHUB_ACTOR") or _field(payload, where, "sender", "login", required=False)
    if not actor:
        raise InputError(
            msg("{where}: neither GITHUB_ACTOR nor sender.login names who runs this workflow", where=where),
            hint=msg("run it inside a GitHub Actions job"),
        )
    repository = env.get("GITHUB_REPOSITORY") or _field(
        payload, where, "repository", "full_name", required=False
    )
    server, run_id = env.get("GITHUB_SERVER_URL", "https://github.com"), env.get("GITHUB_RUN_ID")
    run_url = f"{server}/{repository}/actions/runs/{run_id}" if repository and run_id else None
    return CiContext(
        provider="github",
        actor=actor,
        actor_source=ActorSource.GITHUB_ACTIONS,
        event=event,
        base=base,
        head=head,
        ref=ref,
        is_tag=ref.startswith("refs/tags/") or env.get("GITHUB_REF_TYPE") == "tag",
        change_request=change_request,
        repository=repository,
        run_url=run_url,
    )


# ------------------------------------------------------------------------------------------- GitLab


def gitlab_context(env: Mapping[str, str]) -> CiContext:
    head = _sha(env.get("CI_COMMIT_SHA") or None, "CI_COMMIT_SHA", "CI_COMMIT_SHA")
    if head is None:
        raise InputError(
            msg("GITLAB_CI is true but CI_COMMIT_SHA is not set, so the commit to check is unknown"),
            hint=msg("run gatekeeper inside a GitLab CI job, or pass --range BASE..HEAD"),
        )
    event = env.get("CI_PIPELINE_SOURCE", "") or "push"
    change_request = env.get("CI_MERGE_REQUEST_IID") or None
    tag = env.get("CI_COMMIT_TAG") or None
    if change_request:
        # MR pipelines have CI_COMMIT_BEFORE_SHA all zeros; the diff base is where the MR leaves the target.
        base = _sha(env.get("CI_MERGE_REQUEST_DIFF_BASE_SHA") or None, "CI_MERGE_REQUEST_DIFF_BASE_SHA", "it")
        ref = f"refs/merge-requests/{change_request}/head"
    else:
        base = _sha(env.get("CI_COMMIT_BEFORE_SHA") or None, "CI_COMMIT_BEFORE_SHA", "CI_COMMIT_BEFORE_SHA")
        name = env.get("CI_COMMIT_REF_NAME", "")
        ref = f"refs/tags/{tag}" if tag else (f"refs/heads/{name}" if name else "")
    actor = env.get("GITLAB_USER_LOGIN", "")
    if not actor:
        raise InputError(
            msg("GITLAB_CI is true but GITLAB_USER_LOGIN is not set, so nobody can be named as the actor"),
            hint=msg("GitLab sets GITLAB_USER_LOGIN in every job; do not unset it in the job's variables"),
        )
    return CiContext(
        provider="gitlab",
        actor=actor,
        actor_source=ActorSource.GITLAB_CI,
        event=event,
        base=base,
        head=head,
        ref=ref,
        is_tag=tag is not None,
        change_request=change_request,
        repository=env.get("CI_PROJECT_PATH") or None,
        run_url=env.get("CI_PIPELINE_URL") or env.get("CI_JOB_URL") or None,
    )


# ------------------------------------------------------------------------------------------- local


def local_context(env: Mapping[str, str], cwd: Path) -> CiContext:
    from gatekeeper.adapters import git

    head = git.head_sha(cwd)
    branch = git.current_branch(cwd)
    upstream = git.upstream_sha(cwd)
    actor = _local_actor(cwd)
    return CiContext(
        provider="local",
        actor=actor,
        actor_source=ActorSource.LOCAL,
        event="local",
        base=upstream,
        head=head,
        ref=f"refs/heads/{branch}" if branch else "HEAD",
        is_tag=False,
        change_request=None,
        repository=None,
        run_url=None,
    )


def _local_actor(cwd: Path) -> str:
    from gatekeeper.adapters import git

    email = git.config_value(cwd, "user.email")
    if email and "@" in email:
        return email.split("@", 1)[0]
    name = git.config_value(cwd, "user.name")
    if name:
        return name
    if email:
        return email
    raise GitError(
        msg("cannot tell who you are: git has no user.email or user.name"),
        hint=msg('run `git config user.email "you@example.org"`'),
    )
