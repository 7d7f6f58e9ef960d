"""The offline install the README shows: `make wheelhouse` (`.ci/wheelhouse.sh`), then
`pip install --no-index --find-links DIR sop-gatekeeper` into a fresh virtual environment, and the
commands a pipeline runs work from that plain install — the GitHub and GitLab adapters included."""

from __future__ import annotations

import json
import subprocess
import zipfile
from pathlib import Path

import pytest

from tests.offline import clean_env, offline_venv, run, wheelhouse

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    work = tmp_path_factory.mktemp("offline")
    bundle = wheelhouse(work)
    return bundle, offline_venv(work, bundle)


def test_the_bundle_holds_every_wheel_the_install_needs(installed: tuple[Path, Path]) -> None:
    bundle, env = installed
    names = {p.name.split("-")[0].lower() for p in bundle.glob("*.whl")}
    assert {"sop_gatekeeper", "pygithub", "python_gitlab", "psycopg", "psycopg_binary", "hatchling"} <= names
    assert {"python_hwpx", "lxml"} <= names  # the hwpx extra (`--hwpx`) installs offline too
    assert not [p for p in bundle.iterdir() if not p.name.endswith(".whl")]  # wheels only, no sdist to build
    frozen = run(env / "bin" / "python", "-m", "pip", "freeze", cwd=bundle, env=clean_env()).stdout.lower()
    assert "pygithub==" in frozen and "python-gitlab==" in frozen and "psycopg" not in frozen
    assert "python-hwpx" not in frozen  # an extra: only on request


def test_the_wheel_in_the_bundle_ships_the_examples_and_templates(installed: tuple[Path, Path]) -> None:
    bundle, _env = installed
    (wheel,) = bundle.glob("sop_gatekeeper-*.whl")
    files = set(zipfile.ZipFile(wheel).namelist())
    assert "gatekeeper/_data/examples/github/gatekeeper-deploy.yml" in files
    assert "gatekeeper/_data/templates/init/github/gatekeeper-deploy.yml.j2" in files


@pytest.mark.parametrize(
    ("platform", "env"),
    [
        ("github", {"GITHUB_ACTIONS": "true", "GITHUB_SHA": "", "GITHUB_EVENT_NAME": "workflow_dispatch"}),
        ("gitlab", {"GITLAB_CI": "true", "CI_COMMIT_SHA": "", "CI_PIPELINE_SOURCE": "web"}),
    ],
)
def test_gate_runs_inside_ci_from_the_plain_install(
    installed: tuple[Path, Path], tmp_path: Path, platform: str, env: dict[str, str]
) -> None:
    _bundle, venv = installed
    repo = tmp_path / "repo"
    repo.mkdir()
    run("git", "init", "-q", "-b", "main", cwd=repo)
    # Committed on main, which a CI job reads its configuration from; the ledger outside the checkout.
    (repo / ".gatekeeper.yml").write_text(
        "version: 1\nsystem: {id: portal, name: portal, grade: 3}\npolicy: kr-ap-sop\n"
        "ledger: {backend: sqlite, path: ../ledger.db}\n",
        encoding="utf-8",
    )
    run("git", "add", ".gatekeeper.yml", cwd=repo)
    run("git", "-c", "user.name=K", "-c", "user.email=k@a.b", "commit", "-q", "-m", "x", cwd=repo)
    head = run("git", "rev-parse", "HEAD", cwd=repo).stdout.strip()
    variables = {k: (head if k.endswith("_SHA") else v) for k, v in env.items()}
    # A token makes the gate set up the platform adapter (PyGithub / python-gitlab); the API URL points at
    # a closed local port, so the adapter is imported and fails closed without leaving the machine.
    variables |= {"GATEKEEPER_TOKEN": "t0ken", "GITHUB_REPOSITORY": "agency/portal", "CI_PROJECT_ID": "1"}
    variables |= {"GITHUB_API_URL": "http://127.0.0.1:9", "CI_API_V4_URL": "http://127.0.0.1:9/api/v4"}
    result = run_gate(venv, repo, clean_env(**variables))
    text = result.stdout + result.stderr
    assert "ModuleNotFoundError" not in text and "internal error" not in text, text
    assert json.loads(result.stdout)["decision"] in {"allow", "block"}, platform


def run_gate(venv: Path, repo: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(venv / "bin" / "gatekeeper"), "--format", "json", "gate", "--rfc", "RFC-2026-0001"],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_the_demo_runs_from_the_plain_install(installed: tuple[Path, Path], tmp_path: Path) -> None:
    _bundle, venv = installed
    python = venv / "bin" / "python"
    missing = subprocess.run([str(python), "-c", "import pytest"], capture_output=True, env=clean_env())
    assert missing.returncode != 0  # the plain install has no test framework, and the demo needs none
    demo = run(
        venv / "bin" / "gatekeeper", "demo", "--workdir", tmp_path / "demo", cwd=tmp_path, env=clean_env()
    )
    assert "Done. The audit report is" in demo.stdout
    assert "python tests/run.py --junitxml" in demo.stdout and "4 passed, 0 failed" in demo.stdout
