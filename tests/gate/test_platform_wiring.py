"""The gate consults the platform it runs on: in GitHub Actions with a token, the pull request's reviews and
the team roles come from the API, and an API that cannot be reached blocks with `gate.error`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.helpers import GitRepo, git, run_cli

AFTER_HOURS = datetime(2026, 11, 24, 10, 30, tzinfo=UTC)  # 19:30 KST, a Tuesday


def _github_env(repo: GitRepo, tmp_path: Path, api: str) -> dict[str, str]:
    event = tmp_path / "event.json"
    event.write_text(json.dumps({"inputs": {}, "ref": "refs/heads/main"}), encoding="utf-8")
    return {
        "GITHUB_ACTIONS": "true",
        "GITHUB_ACTOR": "choi",
        "GITHUB_EVENT_NAME": "workflow_dispatch",
        "GITHUB_EVENT_PATH": str(event),
        "GITHUB_SHA": repo.head(),
        "GITHUB_REF": "refs/heads/main",
        "GITHUB_REPOSITORY": "agency/minwon-portal",
        "GITHUB_RUN_ID": "4242",
        "GITHUB_TOKEN": "ghp_NotARealTokenButSecret0123456789",
        "GITHUB_API_URL": api,
    }


def test_an_unreachable_platform_api_blocks_with_gate_error(repo: GitRepo, tmp_path: Path) -> None:
    repo.add_rfc("RFC-2026-0042")
    repo.commit("RFC-2026-0042 validate the application form")
    env = _github_env(repo, tmp_path, "http://127.0.0.1:9")  # nothing listens on the discard port
    result = run_cli(
        ["--format", "json", "gate", "--rfc", "RFC-2026-0042"], cwd=repo.path, env=env, now=AFTER_HOURS
    )
    assert result.code == 1, result.stdout + result.stderr
    body = json.loads(result.stdout)
    errors = [f for f in body["findings"] if f["rule"] == "gate.error"]
    assert errors, body["findings"]
    assert any("platform" in f["message"].lower() for f in errors), errors
    # The only place the token appears is the runner's own masking command, which hides it from the log.
    shown = [
        line for line in (result.stdout + result.stderr).splitlines() if not line.startswith("::add-mask::")
    ]
    assert not [line for line in shown if "ghp_NotARealTokenButSecret" in line]


def test_without_a_token_the_gate_reads_the_ledger_only(repo: GitRepo, tmp_path: Path) -> None:
    repo.keep_ledger_outside()
    repo.add_rfc("RFC-2026-0042")
    repo.commit("RFC-2026-0042 validate the application form")
    env = _github_env(repo, tmp_path, "http://127.0.0.1:9")
    del env["GITHUB_TOKEN"]
    result = run_cli(
        ["--format", "json", "gate", "--rfc", "RFC-2026-0042"], cwd=repo.path, env=env, now=AFTER_HOURS
    )
    body = json.loads(result.stdout)
    assert not [f for f in body["findings"] if f["rule"] == "gate.error"], body["findings"]
    assert {f["rule"] for f in body["findings"]} >= {"approval.missing"}


def _run_approval(environment: str, login: str, user_id: int) -> dict[str, object]:
    return {
        "environments": [{"id": user_id, "name": environment}],
        "state": "approved",
        "user": {"login": login, "id": user_id, "type": "User", "site_admin": False},
        "comment": "",
    }


def test_platform_approvals_are_recorded_by_deploy_start_and_audited_conform(
    repo: GitRepo, tmp_path: Path
) -> None:
    """The release steps were approved on GitHub (the environments `gatekeeper-release-first` and
    `-second` of this run), the change steps in the ledger. `deploy start` records the platform's decisions
    it counted; the audit, which cannot ask GitHub, replays them and finds the deployment conform."""
    from gatekeeper.config import load_config
    from gatekeeper.ledger.backends import open_ledger
    from tests.acceptance import FULL_CHAIN, RFC_ID, build
    from tests.platform.replay import serve

    evening = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)  # 20:00 KST
    # The integration evidence of the commit is in the ledger before the release steps that certify it.
    tested = [{"kind": "integration", "tests": 10, "passed": 10}]
    at, _ = build(repo, {"approvals": FULL_CHAIN[:3], "at": evening.isoformat(), "ledger_evidence": tested})
    exchange = {
        "method": "GET",
        "path": "/repos/agency/minwon-portal/actions/runs/4242/approvals",
        "body": [
            _run_approval("gatekeeper-release-first", "han", 4101),
            _run_approval("gatekeeper-release-second", "lee", 4102),
        ],
    }
    # Who wrote each commit, as GitHub answers (the shape of tests/platform/recordings/github/commits.json).
    authors = [
        {
            "method": "GET",
            "path": f"/repos/agency/minwon-portal/commits/{sha}",
            "body": {
                "sha": sha,
                "author": {"login": "dev", "id": 4001},
                "committer": {"login": "dev", "id": 4001},
            },
        }
        for sha in git(repo.path, "rev-list", "--all").split()
    ]
    with serve([exchange, *authors]) as api:
        env = _github_env(repo, tmp_path, api.base)
        args = ["--format", "json", "deploy", "start", "--rfc", RFC_ID]
        result = run_cli(args, cwd=repo.path, env=env, now=at)
        assert result.code == 0, result.stdout + result.stderr
        assert [seen.path for seen in api.seen if seen.path.endswith("/approvals")] == [exchange["path"]]
    ledger = open_ledger(load_config(repo.path / ".gatekeeper.yml"), repo.path, {})
    try:
        (started,) = ledger.find(kind="deployment.started")
    finally:
        ledger.close()
    recorded = started.data["facts"]["approvals"]
    platform = [a for a in recorded if "seq" not in a]
    assert {(a["step"], a["actor"]) for a in platform} == {
        ("release-first", "han"),
        ("release-second", "lee"),
    }
    assert all(a["source"] == "github run 4242 deployment review" for a in platform)
    assert {a["step"] for a in recorded if "seq" in a} == {"change-review", "change-approval", "cab"}

    audit = run_cli(["--format", "json", "audit", "--no-record"], cwd=repo.path, now=at)
    items = {i["id"]: i for i in json.loads(audit.stdout)["items"]}
    assert items["change.approvals"]["result"] == "conform", json.dumps(items["change.approvals"])
    assert f"seq:{started.seq}" in items["change.approvals"]["evidence"]
