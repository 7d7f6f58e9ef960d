"""Every example is exercised: pre-commit here; the sample system by the demo (tests/test_demo.py); the
GitHub and GitLab examples by real runners (tests/pipelines/test_runners.py)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.helpers import BASE_CONFIG, GitRepo, git

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"


def test_every_example_folder_is_exercised() -> None:
    exercised = {"sample-system": "tests/test_demo.py", "github": "tests/pipelines/test_runners.py"}
    exercised |= {"gitlab": "tests/pipelines/test_runners.py", "pre-commit": "tests/test_examples.py"}
    assert {p.name for p in EXAMPLES.iterdir() if p.is_dir()} == set(exercised)
    for test in exercised.values():
        assert (ROOT / test).is_file()


@pytest.mark.slow
def test_pre_commit_example_refuses_a_commit_without_an_rfc(tmp_path: Path) -> None:
    pre_commit = shutil.which("pre-commit", path=str(Path(sys.executable).parent))
    assert pre_commit, "pre-commit is not installed (it is in the test extra)"
    # A clean copy of this checkout's committed state, as pre-commit would clone it from the hosting site.
    source = tmp_path / "gatekeeper"
    subprocess.run(["git", "clone", "-q", str(ROOT), str(source)], check=True)
    rev = git(source, "rev-parse", "HEAD")
    config = yaml.safe_load((EXAMPLES / "pre-commit" / ".pre-commit-config.yaml").read_text(encoding="utf-8"))
    config["repos"][0]["repo"] = str(source)
    config["repos"][0]["rev"] = rev

    repo = GitRepo.create(tmp_path / "project", config=BASE_CONFIG)
    repo.add_rfc("RFC-2026-0042")
    repo.write(".pre-commit-config.yaml", yaml.safe_dump(config))
    env = {**os.environ, "PRE_COMMIT_HOME": str(tmp_path / "pre-commit-cache")}
    subprocess.run(
        [pre_commit, "install", "--hook-type", "commit-msg"],
        cwd=repo.path,
        check=True,
        env=env,
        capture_output=True,
    )
    git(repo.path, "add", "-A")
    refused = subprocess.run(
        ["git", "commit", "-q", "-m", "tweak the landing page"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert refused.returncode != 0, refused.stdout + refused.stderr
    assert "commit.rfc-missing" in refused.stdout + refused.stderr
    accepted = subprocess.run(
        ["git", "commit", "-q", "-m", "RFC-2026-0042 validate the application form input"],
        cwd=repo.path,
        capture_output=True,
        text=True,
        env=env,
    )
    assert accepted.returncode == 0, accepted.stdout + accepted.stderr
