"""The gate consults the platform it runs on: in GitHub Actions with a token, the pull request's reviews and
the team roles come from the API, and an API that cannot be reached blocks with `gate.error`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from tests.helpers import GitRepo, run_cli

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
