"""`gatekeeper init`: scaffolds a working setup in a real repository, infers what it can, never overwrites."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import yaml

from tests.helpers import git, run_cli


def _repo(path: Path, remote: str | None = None) -> Path:
    path.mkdir(parents=True)
    git(path, "init", "-q", "-b", "main")
    git(path, "config", "user.name", "Kim Officer")
    git(path, "config", "user.email", "kim.officer@agency.example")
    if remote:
        git(path, "remote", "add", "origin", remote)
    return path


def test_github_scaffold_passes_its_own_checks(tmp_path: Path) -> None:
    root = _repo(tmp_path / "Minwon Portal", "https://github.com/agency/minwon-portal.git")
    result = run_cli(["init"], cwd=root)
    assert result.code == 0, result.stderr
    config = yaml.safe_load((root / ".gatekeeper.yml").read_text(encoding="utf-8"))
    assert config["system"] == {
        "id": "minwon-portal",
        "name": "minwon-portal",
        "grade": 1,
        "audience": "internal",
    }
    assert config["roles"]["maintainer"] == ["kim.officer"]
    workflow = root / ".github" / "workflows" / "gatekeeper.yml"
    assert "gatekeeper check-commits" in workflow.read_text(encoding="utf-8")
    assert not (root / ".gitlab-ci.yml").exists()
    assert run_cli(["rfc", "validate"], cwd=root).code == 0
    # The installed hook refuses a commit without an RFC and accepts the adoption commit.
    git(root, "add", "-A")
    refused = subprocess.run(
        ["git", "commit", "-q", "-m", "add stuff"], cwd=root, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert "commit.rfc-missing" in refused.stdout + refused.stderr
    accepted = subprocess.run(
        ["git", "commit", "-q", "-m", "RFC-2026-0001 Adopt gatekeeper for change governance"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr


def test_gitlab_is_inferred_from_the_remote(tmp_path: Path) -> None:
    root = _repo(tmp_path / "portal", "git@gitlab.example.go.kr:agency/portal.git")
    result = run_cli(["init", "--grade", "3", "--no-hook"], cwd=root)
    assert result.code == 0, result.stderr
    ci = yaml.safe_load((root / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert ci["include"] == [{"local": ".gitlab/gatekeeper.gitlab-ci.yml"}]
    assert ci["check-commits"]["extends"] == ".gatekeeper:check-commits"
    assert (root / ".gitlab" / "gatekeeper.gitlab-ci.yml").is_file()
    assert not (root / ".git" / "hooks" / "commit-msg").exists()
    assert yaml.safe_load((root / ".gatekeeper.yml").read_text(encoding="utf-8"))["system"]["grade"] == 3


def test_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    root = _repo(tmp_path / "svc")
    (root / ".gatekeeper.yml").write_text("keep me\n", encoding="utf-8")
    result = run_cli(["init", "--ci", "none"], cwd=root)
    assert result.code == 2
    assert "already there: .gatekeeper.yml" in result.stderr
    assert (root / ".gatekeeper.yml").read_text(encoding="utf-8") == "keep me\n"
    assert run_cli(["init", "--ci", "none", "--force"], cwd=root).code == 0
    assert "version: 1" in (root / ".gatekeeper.yml").read_text(encoding="utf-8")


def test_outside_a_repository_is_a_clear_error(tmp_path: Path) -> None:
    result = run_cli(["init"], cwd=tmp_path)
    assert result.code == 2
    assert "not inside a git repository" in result.stderr
    assert "Traceback" not in result.stderr + result.stdout


def test_the_scaffolded_config_validates_against_the_schema(tmp_path: Path) -> None:
    root = _repo(tmp_path / "svc")
    assert run_cli(["init", "--ci", "github", "--no-hook"], cwd=root).code == 0
    checked = subprocess.run(
        [sys.executable, "-m", "gatekeeper", "window", "--at", "2026-11-24T19:30:00+09:00"],
        cwd=root,
        capture_output=True,
        text=True,
    )
    assert checked.returncode == 0, checked.stdout + checked.stderr
