"""The organisation's audit (`audit --system all`) judges each system's signed records against the
repository its own jobs run in — the `systems:` entry's `repository` — never against the repository the
audit runs from. Otherwise every genuinely signed approval of another system would read as unattested, and
a record signed by a job of the auditing repository would count as the other system's."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

from tests import acceptance as cases
from tests.adversarial.conftest import Recorder
from tests.helpers import GitRepo, run_cli

JUSO = "minwon/juso-api"
PORTAL = "minwon/minwon-portal"  # the repository of the configuration the organisation's audit runs from
WORKFLOW = ".github/workflows/gatekeeper-approve.yml"


def _approvals_item(repo: GitRepo, portal: GitRepo, at: Any, system: str) -> dict[str, Any]:
    audit = run_cli(["--format", "json", "audit", "--no-record", "--system", system], cwd=portal.path, now=at)
    assert audit.code in (0, 1), audit.stderr
    body = json.loads(audit.stdout)
    rows = body.get("systems", [body])
    (row,) = [r for r in rows if r.get("system") == system or r.get("id") == system]
    return next(item for item in row["items"] if item["id"] == "change.approvals")


def _agency(
    tmp_path: Path, signer: str, records: list[dict[str, Any]] | None = None
) -> tuple[GitRepo, GitRepo, Any]:
    """The address service (its repository: JUSO) deployed once, every record signed by jobs of `signer`,
    on a ledger it shares with the portal, whose configuration registers it."""
    ledger = {"ledger": {"backend": "sqlite", "path": str(tmp_path / "agency-ledger.db")}}
    juso, portal = GitRepo.create(tmp_path / "juso"), GitRepo.create(tmp_path / "portal")
    own = {"platform": {"github": {"oidc": {"repository": JUSO}}}}
    signed = {"repository": signer, "job_workflow_ref": f"{signer}/{WORKFLOW}@refs/heads/main"}
    at, _ = cases.build(
        juso,
        {
            "system": {"id": "juso-api", "name": "주소"},
            "config": {**ledger, **own},
            "approvals": [{**approval, "claims": signed} for approval in cases.FULL_CHAIN],
            "records": records
            or [
                {"kind": "deployment.started", "hours_ago": 48, "claims": {"repository": signer}},
                {
                    "kind": "deployment.finished",
                    "hours_ago": 47,
                    "closes": 0,
                    "claims": {"repository": signer},
                    "data": {"result": "success"},
                },
            ],
        },
    )
    registry = {"systems": [{"id": "juso-api", "name": "주소", "grade": 1, "repository": JUSO}]}
    cases.build(portal, {"config": {**ledger, **registry}})
    return juso, portal, at + timedelta(days=1)


def test_another_systems_records_are_verified_against_its_own_repository(
    tmp_path: Path, reliability: Recorder
) -> None:
    juso, portal, at = _agency(tmp_path / "genuine", JUSO)
    own = run_cli(["--format", "json", "audit", "--no-record"], cwd=juso.path, now=at)
    mine = next(i for i in json.loads(own.stdout)["items"] if i["id"] == "change.approvals")
    assert mine["result"] == "conform", mine
    assert _approvals_item(juso, portal, at, "juso-api")["result"] == "conform"
    # Signed by jobs of the portal's repository (the one the organisation's audit runs from): not juso's.
    juso, portal, at = _agency(tmp_path / "forged", PORTAL)
    item = _approvals_item(juso, portal, at, "juso-api")
    assert item["result"] == "nonconform", item
    reliability.row(
        "another system's approvals and deployment signed by jobs of the repository the organisation's audit "
        "runs from (not the repository its `systems:` entry registers)",
        "forged records of another system in a shared ledger",
        "nonconform for that system in `audit --system all`; its genuinely signed records conform there as "
        "in its own audit",
    )


def test_a_forged_success_of_another_system_counts_in_no_organisation_kpi(
    tmp_path: Path, reliability: Recorder
) -> None:
    """The address service's deploy job signs its start and, later, its failure; a `success` naming that
    deployment is appended unsigned in between. `kpi --system all`, run from the portal, pairs the address
    service's deployments as its own gate would: one deployment, no success."""
    signed = {"repository": JUSO}
    records = [
        {"kind": "deployment.started", "hours_ago": 48, "claims": signed},
        {
            "kind": "deployment.finished",
            "hours_ago": 47.5,
            "closes": 0,
            "signed": False,
            "data": {"result": "success"},
        },
        {
            "kind": "deployment.finished",
            "hours_ago": 47,
            "closes": 0,
            "claims": signed,
            "data": {"result": "failure"},
        },
    ]
    _juso, portal, at = _agency(tmp_path, JUSO, records)
    found = run_cli(["--format", "json", "kpi", "--system", "all"], cwd=portal.path, now=at)
    assert found.code in (0, 1), found.stderr
    (juso,) = [s for s in json.loads(found.stdout)["systems"] if s["system"] == "juso-api"]
    success = next(k for k in juso["kpis"] if k["id"] == "deployment-success-rate")
    assert (success["numerator"], success["denominator"]) == (0, 1), success
    reliability.row(
        "another system's signed deployment fails; a `success` naming it is appended unsigned first, and "
        "`kpi --system all` runs from the portal's repository",
        "forged ledger record of another system (deployment.finished inflating the organisation's KPIs)",
        "not counted: that system's deployments are paired as its own gate pairs them, its records verified "
        "against the repository its `systems:` entry names (success rate 0/1)",
    )
