"""The pipelines `gatekeeper init --ci github|gitlab` writes pass the same checks as our own CI files:
the bundled JSON schemas, actionlint, zizmor and no `${{ }}` inside a run script."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
import yaml

from tests.helpers import git, run_cli
from tests.pipelines.test_ci_files import BIN, SCHEMAS, assert_actionlint_passes


@pytest.fixture(scope="module")
def generated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("generated") / "portal"
    root.mkdir()
    git(root, "init", "-q", "-b", "main")
    assert run_cli(["init", "--ci", "github", "--no-hook"], cwd=root).code == 0
    assert run_cli(["init", "--ci", "gitlab"], cwd=root).code == 0
    return root


def _workflows(root: Path) -> list[Path]:
    return sorted((root / ".github" / "workflows").glob("*.yml"))


def _run(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False, cwd=cwd)


def test_generated_files_validate_against_the_schemas(generated: Path) -> None:
    github = _run(
        BIN / "check-jsonschema",
        "--schemafile",
        SCHEMAS / "github-workflows.json",
        *_workflows(generated),
        cwd=generated,
    )
    assert github.returncode == 0, github.stdout + github.stderr
    gitlab = _run(
        BIN / "check-jsonschema",
        "--builtin-schema",
        "vendor.gitlab-ci",
        "--data-transform",
        "gitlab-ci",
        generated / ".gitlab-ci.yml",
        generated / ".gitlab" / "gatekeeper.gitlab-ci.yml",
        cwd=generated,
    )
    assert gitlab.returncode == 0, gitlab.stdout + gitlab.stderr


def test_zizmor_finds_nothing_in_the_generated_workflows(generated: Path) -> None:
    result = _run(
        BIN / "zizmor",
        "--offline",
        "--no-progress",
        "--config",
        Path(__file__).parent / "zizmor-generated.yml",
        "--format",
        "json",
        *_workflows(generated),
        cwd=generated,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_actionlint_finds_nothing_in_the_generated_workflows(generated: Path) -> None:
    assert_actionlint_passes(_workflows(generated))


def test_no_expression_is_interpolated_inside_a_generated_run_script(generated: Path) -> None:
    for path in _workflows(generated):
        for job in yaml.safe_load(path.read_text(encoding="utf-8"))["jobs"].values():
            for step in job["steps"]:
                assert "${{" not in str(step.get("run", "")), f"{path.name}: {step}"
