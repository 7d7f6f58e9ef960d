"""CI context detection against the real GitHub webhook payloads and GitLab variable list in tests/corpora."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from gatekeeper.adapters.ci.context import detect_ci, is_null_sha
from gatekeeper.domain import ActorSource
from gatekeeper.errors import GitError, InputError
from tests.helpers import GitRepo, git

PAYLOADS = Path(__file__).resolve().parent / "corpora" / "ci-events" / "github-webhook-payloads"


def _github_env(event: str, payload: Path, **extra: str) -> dict[str, str]:
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_EVENT_NAME": event,
        "GITHUB_EVENT_PATH": str(payload),
        "GITHUB_ACTOR": "octocat",
        "GITHUB_REPOSITORY": "octo-org/octo-repo",
        "GITHUB_SERVER_URL": "https://github.com",
        "GITHUB_RUN_ID": "42",
        **extra,
    }


def test_every_github_variable_used_is_a_documented_default(corpora: Path) -> None:
    documented = set(
        json.loads((corpora / "ci-events/github-actions-default-env.json").read_text())["variables"]
    )
    used = {
        "GITHUB_ACTIONS",
        "GITHUB_EVENT_NAME",
        "GITHUB_EVENT_PATH",
        "GITHUB_ACTOR",
        "GITHUB_REPOSITORY",
        "GITHUB_SERVER_URL",
        "GITHUB_RUN_ID",
        "GITHUB_SHA",
        "GITHUB_REF",
        "GITHUB_REF_TYPE",
    }
    assert used <= documented


def test_every_gitlab_variable_used_is_predefined(corpora: Path) -> None:
    data = json.loads((corpora / "ci-events/gitlab-ci-predefined-variables.json").read_text())
    documented = {v["name"] for v in data["predefined"]} | set(data["merge_request_pipeline_only"])
    used = {
        "GITLAB_CI",
        "CI_COMMIT_SHA",
        "CI_PIPELINE_SOURCE",
        "CI_MERGE_REQUEST_IID",
        "CI_MERGE_REQUEST_DIFF_BASE_SHA",
        "CI_COMMIT_BEFORE_SHA",
        "CI_COMMIT_TAG",
        "CI_COMMIT_REF_NAME",
        "GITLAB_USER_LOGIN",
        "CI_PROJECT_PATH",
        "CI_PIPELINE_URL",
        "CI_JOB_URL",
    }
    assert used <= documented
    assert "merge_request_event" in data["ci_pipeline_source_values"]["values"]


def test_github_push_new_branch_has_no_base(tmp_path: Path) -> None:
    ctx = detect_ci(_github_env("push", PAYLOADS / "push/with-new-branch.payload.json"), tmp_path)
    assert ctx.provider == "github"
    assert ctx.actor_source is ActorSource.GITHUB_ACTIONS
    assert ctx.base is None
    assert ctx.head == "6113728f27ae82c7b1a177c8d03f9e96e0adf246"
    assert ctx.ref == "refs/heads/master"
    assert not ctx.is_tag
    assert ctx.run_url == "https://github.com/octo-org/octo-repo/actions/runs/42"


def test_github_push_tag_deletion_checks_nothing_new(tmp_path: Path) -> None:
    ctx = detect_ci(_github_env("push", PAYLOADS / "push/payload.json"), tmp_path)
    assert ctx.is_tag
    assert ctx.ref == "refs/tags/simple-tag"
    assert ctx.base == ctx.head == "6113728f27ae82c7b1a177c8d03f9e96e0adf246"


def test_github_push_with_before_and_after(tmp_path: Path) -> None:
    payload = json.loads((PAYLOADS / "push/with-new-branch.payload.json").read_text())
    payload.update(before="a" * 40, after="b" * 40, forced=True, created=False)
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    ctx = detect_ci(_github_env("push", path), tmp_path)
    assert (ctx.base, ctx.head) == ("a" * 40, "b" * 40)


@pytest.mark.parametrize("name", sorted(p.name for p in (PAYLOADS / "pull_request").glob("*.json")))
def test_github_pull_request_every_action(name: str, tmp_path: Path) -> None:
    ctx = detect_ci(
        _github_env("pull_request", PAYLOADS / "pull_request" / name, GITHUB_REF="refs/pull/2/merge"),
        tmp_path,
    )
    payload = json.loads((PAYLOADS / "pull_request" / name).read_text())
    assert ctx.base == payload["pull_request"]["base"]["sha"]
    assert ctx.head == payload["pull_request"]["head"]["sha"]
    assert ctx.change_request == str(payload["pull_request"]["number"])
    assert ctx.event == "pull_request"


def test_github_merge_group(tmp_path: Path) -> None:
    ctx = detect_ci(
        _github_env("merge_group", PAYLOADS / "merge_group/checks_requested.payload.json"), tmp_path
    )
    assert ctx.base == "380387fbc80638b734a49e1be1c4dfec1c01b33c"
    assert ctx.head == "2ffea6db159f6b6c47a24e778fb9ef40cf6b1c7d"
    assert ctx.ref.startswith("refs/heads/gh-readonly-queue/main/")


def test_github_workflow_dispatch_uses_github_sha(tmp_path: Path) -> None:
    env = _github_env("workflow_dispatch", PAYLOADS / "workflow_dispatch/payload.json", GITHUB_SHA="c" * 40)
    del env["GITHUB_ACTOR"]
    ctx = detect_ci(env, tmp_path)
    assert ctx.base is None and ctx.head == "c" * 40
    assert ctx.actor == "Codertocat"  # sender.login when GITHUB_ACTOR is absent
    assert ctx.ref == "refs/heads/master"


def test_github_workflow_dispatch_without_sha_is_an_input_error(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="GITHUB_SHA"):
        detect_ci(_github_env("workflow_dispatch", PAYLOADS / "workflow_dispatch/payload.json"), tmp_path)


def test_github_tag_push(tmp_path: Path) -> None:
    payload = json.loads((PAYLOADS / "push/with-new-branch.payload.json").read_text())
    payload["ref"] = "refs/tags/v1.0.0"
    path = tmp_path / "event.json"
    path.write_text(json.dumps(payload))
    ctx = detect_ci(_github_env("push", path), tmp_path)
    assert ctx.is_tag and ctx.base is None


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        (b"{not json", "not valid UTF-8 JSON"),
        (b"\xff\xfe", "not valid UTF-8 JSON"),
        (b"[1, 2]", "must be a JSON object"),
        (b'{"ref": "refs/heads/x", "after": "b"}', "before is missing"),
        (b'{"ref": "refs/heads/x", "before": "zz", "after": "b"}', "before is not a commit SHA"),
        (b'{"ref": "refs/heads/x", "before": 12, "after": "b"}', "before is not a string"),
    ],
)
def test_malformed_github_payload_names_the_file(tmp_path: Path, content: bytes, expected: str) -> None:
    path = tmp_path / "event.json"
    path.write_bytes(content)
    with pytest.raises(InputError, match=expected) as info:
        detect_ci(_github_env("push", path), tmp_path)
    assert str(path) in info.value.message


def test_missing_github_payload(tmp_path: Path) -> None:
    with pytest.raises(InputError, match="cannot read") as info:
        detect_ci(_github_env("push", tmp_path / "nope.json"), tmp_path)
    assert "nope.json" in info.value.message
    env = _github_env("push", tmp_path)
    del env["GITHUB_EVENT_PATH"]
    with pytest.raises(InputError, match="GITHUB_EVENT_PATH"):
        detect_ci(env, tmp_path)


def _gitlab_env(**extra: str) -> dict[str, str]:
    return {
        "GITLAB_CI": "true",
        "CI_COMMIT_SHA": "d" * 40,
        "GITLAB_USER_LOGIN": "park",
        "CI_PROJECT_PATH": "agency/minwon-portal",
        "CI_PIPELINE_URL": "https://gitlab.example/agency/minwon-portal/-/pipelines/7",
        **extra,
    }


def test_gitlab_push() -> None:
    ctx = detect_ci(
        _gitlab_env(CI_PIPELINE_SOURCE="push", CI_COMMIT_BEFORE_SHA="e" * 40, CI_COMMIT_REF_NAME="main"),
        Path(),
    )
    assert ctx.provider == "gitlab" and ctx.actor_source is ActorSource.GITLAB_CI
    assert (ctx.base, ctx.head, ctx.ref, ctx.event) == ("e" * 40, "d" * 40, "refs/heads/main", "push")
    assert ctx.repository == "agency/minwon-portal" and ctx.actor == "park"


def test_gitlab_new_branch_has_no_base() -> None:
    ctx = detect_ci(_gitlab_env(CI_COMMIT_BEFORE_SHA="0" * 40, CI_COMMIT_REF_NAME="feature"), Path())
    assert ctx.base is None


def test_gitlab_merge_request_uses_diff_base() -> None:
    ctx = detect_ci(
        _gitlab_env(
            CI_PIPELINE_SOURCE="merge_request_event",
            CI_COMMIT_BEFORE_SHA="0" * 40,
            CI_MERGE_REQUEST_IID="17",
            CI_MERGE_REQUEST_DIFF_BASE_SHA="f" * 40,
        ),
        Path(),
    )
    assert (ctx.base, ctx.change_request, ctx.event) == ("f" * 40, "17", "merge_request_event")


def test_gitlab_tag_pipeline() -> None:
    ctx = detect_ci(_gitlab_env(CI_COMMIT_TAG="v2.1.0", CI_COMMIT_REF_NAME="v2.1.0"), Path())
    assert ctx.is_tag and ctx.ref == "refs/tags/v2.1.0" and ctx.base is None


def test_gitlab_missing_variables_are_input_errors() -> None:
    env = _gitlab_env()
    del env["GITLAB_USER_LOGIN"]
    with pytest.raises(InputError, match="GITLAB_USER_LOGIN"):
        detect_ci(env, Path())
    with pytest.raises(InputError, match="CI_COMMIT_SHA"):
        detect_ci({"GITLAB_CI": "true"}, Path())
    with pytest.raises(InputError, match="not a commit SHA"):
        detect_ci(_gitlab_env(CI_COMMIT_BEFORE_SHA="HEAD~1"), Path())


def test_local_context_uses_upstream_and_git_identity(tmp_path: Path) -> None:
    origin = GitRepo.create(tmp_path / "origin")
    first = origin.commit("RFC-2026-0001 first commit with a reason")
    git(tmp_path, "clone", "-q", str(origin.path), "clone")
    clone = tmp_path / "clone"
    git(clone, "config", "user.email", "kim.dev@agency.go.kr")
    (clone / "f").write_text("x")
    git(clone, "add", "f")
    git(clone, "commit", "-q", "--no-verify", "-m", "local work")
    ctx = detect_ci({}, clone)
    assert ctx.provider == "local" and ctx.actor_source is ActorSource.LOCAL and ctx.event == "local"
    assert ctx.base == first
    assert ctx.head == git(clone, "rev-parse", "HEAD")
    assert ctx.ref == "refs/heads/main"
    assert ctx.actor == "kim.dev"


def test_local_context_without_upstream_or_email(tmp_path: Path) -> None:
    repo = GitRepo.create(tmp_path / "r")
    repo.commit("one")
    git(repo.path, "config", "--unset", "user.email")
    ctx = detect_ci({"GITHUB_ACTIONS": "false"}, repo.path)
    assert ctx.base is None and ctx.actor == "Dev Eloper"


def test_local_context_outside_a_repository(tmp_path: Path) -> None:
    with pytest.raises(GitError):
        detect_ci({}, tmp_path)


def test_null_sha() -> None:
    assert is_null_sha("0" * 40) and is_null_sha(None) and is_null_sha("") and not is_null_sha("a" * 40)


def test_every_ci_platform_is_complete_in_one_registry() -> None:
    """A CI platform is one `CI_PLATFORMS` entry: recognised by its runner's marker, read into a context,
    published to by a publisher of the same name, and (with an API) served by a platform module."""
    import importlib

    from gatekeeper.adapters.ci import CI_PLATFORMS, LOCAL, ci_platform
    from gatekeeper.reporters.publish import PUBLISHERS

    assert ci_platform({}) is LOCAL
    for name, platform in CI_PLATFORMS.items():
        if platform is LOCAL:
            continue
        assert ci_platform({platform.marker: "true"}) is platform
        assert ci_platform({platform.marker: "1"}) is LOCAL  # runners set exactly "true"
        assert name in PUBLISHERS, f"{name} has no job publisher in reporters.publish"
        module = importlib.import_module(f"gatekeeper.adapters.platforms.{platform.api}")
        assert callable(module.gate_sources) and hasattr(module.PLATFORM, "from_environment")
        assert platform.job_token[0] and platform.api_tokens
    assert set(PUBLISHERS) <= set(CI_PLATFORMS)
