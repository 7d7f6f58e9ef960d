"""The commit-msg hook end to end: a real `git commit` in a temporary repository with the hook installed."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from gatekeeper.commands._hooks import MARKER
from tests.helpers import GitRepo, git, run_cli


def _commit(repo: GitRepo, message: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", "commit", "--allow-empty", "-m", message],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=dict(os.environ),
    )


def _shown(result: subprocess.CompletedProcess[str]) -> str:
    """What the developer sees: git passes the hook's output through on stderr."""
    return result.stdout + result.stderr


def test_real_commit_is_refused_then_accepted(repo: GitRepo) -> None:
    repo.add_rfc("RFC-2026-0042")
    repo.commit("RFC-2026-0042 Add the configuration and the first RFC")
    git(repo.path, "checkout", "-q", "-b", "feature/RFC-2026-0042-phone")
    result = run_cli(["hook", "install"], cwd=repo.path)
    assert result.code == 0, result.stderr
    assert "installed the commit-msg hook" in result.stdout
    before = repo.head()

    refused = _commit(repo, "fix the phone number check")
    assert refused.returncode != 0
    assert "commit.rfc-missing" in _shown(refused)
    assert (
        "fix: add `RFC-2026-0042` to the subject (`RFC-2026-0042 fix the phone number check`) "
        "or a `Refs: RFC-2026-0042` trailer" in _shown(refused)
    )
    assert repo.head() == before

    accepted = _commit(repo, "RFC-2026-0042 Validate the applicant's phone number")
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
    assert repo.head() != before
    assert "ALLOWED" in _shown(accepted)


def test_unknown_and_closed_rfcs_are_refused(repo: GitRepo) -> None:
    repo.add_rfc("RFC-2026-0001", status="closed")
    repo.commit("RFC-2026-0001 Add the configuration and a closed RFC")
    assert run_cli(["hook", "install"], cwd=repo.path).code == 0
    closed = _commit(repo, "RFC-2026-0001 Validate the applicant's phone number")
    assert closed.returncode != 0 and "RFC-2026-0001, which is closed" in _shown(closed)
    unknown = _commit(repo, "RFC-2026-0777 Validate the applicant's phone number")
    assert unknown.returncode != 0 and "RFC-2026-0777, which does not exist" in _shown(unknown)


def test_install_respects_core_hooks_path(repo: GitRepo) -> None:
    git(repo.path, "config", "core.hooksPath", ".githooks")
    assert run_cli(["hook", "install"], cwd=repo.path).code == 0
    hook = repo.path / ".githooks" / "commit-msg"
    assert MARKER in hook.read_text() and os.access(hook, os.X_OK)
    assert not (repo.path / ".git" / "hooks" / "commit-msg").exists()


def test_install_refuses_a_foreign_hook_without_force(repo: GitRepo) -> None:
    hook = repo.path / ".git" / "hooks" / "commit-msg"
    hook.parent.mkdir(parents=True, exist_ok=True)
    hook.write_text("#!/bin/sh\necho mine\n")
    refused = run_cli(["hook", "install"], cwd=repo.path)
    assert refused.code == 2 and "not written by gatekeeper" in refused.stderr and "--force" in refused.stderr
    assert hook.read_text() == "#!/bin/sh\necho mine\n"
    forced = run_cli(["hook", "install", "--force"], cwd=repo.path)
    assert forced.code == 0 and "commit-msg.local" in forced.stdout
    assert (hook.parent / "commit-msg.local").read_text() == "#!/bin/sh\necho mine\n"
    assert MARKER in hook.read_text()
    # Re-installing over our own hook needs no --force.
    assert run_cli(["hook", "install"], cwd=repo.path).code == 0


def test_pre_commit_manifest_runs_the_same_command() -> None:
    import yaml

    manifest = yaml.safe_load((Path(__file__).resolve().parent.parent / ".pre-commit-hooks.yaml").read_text())
    (hook,) = manifest
    assert hook["id"] == "gatekeeper-commit-msg"
    assert hook["entry"] == "gatekeeper check-commits --message-file"
    assert hook["stages"] == ["commit-msg"] and hook["language"] == "python"
