"""The audit reads environments as the gate does: recorded names by their declared name, and the rules of
each environment's kind — a deployment to staging owes no PIR, one to production under an alias does."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

import pytest

from tests.acceptance import RFC_ID, TUESDAY_EVENING, build
from tests.helpers import GitRepo, run_cli

EVENING = datetime.fromisoformat(TUESDAY_EVENING)
ENVIRONMENTS = {
    "environments": {
        "production": {"kind": "production", "aliases": ["prod"]},
        "staging": {"kind": "staging", "aliases": ["stg"]},
    }
}


def _deploy_and_audit(repo: GitRepo, env: str) -> dict[str, str]:
    build(repo, {"config": ENVIRONMENTS})
    started = run_cli(
        ["--format", "json", "deploy", "start", "--rfc", RFC_ID, "--env", env], cwd=repo.path, now=EVENING
    )
    assert started.code == 0, started.stdout + started.stderr
    deployment = json.loads(started.stdout)["deployment_id"]
    later = EVENING + timedelta(hours=1)
    finished = run_cli(["deploy", "finish", deployment, "--result", "success"], cwd=repo.path, now=later)
    assert finished.code == 0, finished.stderr
    audit = run_cli(["--format", "json", "audit"], cwd=repo.path, now=EVENING + timedelta(days=20))
    assert audit.code in (0, 1), audit.stderr
    return {item["id"]: item["result"] for item in json.loads(audit.stdout)["items"]}


@pytest.mark.parametrize(("env", "pir"), [("STG", "conform"), (" Prod", "nonconform")])
def test_the_pir_debt_follows_the_kind_of_the_environment(repo: GitRepo, env: str, pir: str) -> None:
    items = _deploy_and_audit(repo, env)
    assert (items["change.pir"] == "nonconform") is (pir == "nonconform"), items
    assert items["change.approvals"] == "conform" and items["release.exclusive"] == "conform", items
