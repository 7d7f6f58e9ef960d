"""A ledger shared by several systems, in a real repository: the hand-checked history of minwon-portal
(`tests/audit/history.py`, this configuration's own system), hr-portal (registered in `systems:` as grade
2, with its repository, whose jobs sign its records) with only the October change that was done right, and
water-board (not registered) with the whole history again, signed by jobs of this configuration's
repository, which vouch for no other system. The same records under another system's name must count for
that system only."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gatekeeper.ledger import Draft
from gatekeeper.ledger.sqlite import SqliteLedger
from tests.audit.conftest import AuditRepo, make_audit_repo
from tests.audit.history import drafts
from tests.platform.oidc import attest, sign

OWN, HR, WATER = "minwon-portal", "hr-portal", "water-board"
REGISTRY = """\
systems:
  - {id: hr-portal, name: 인사포털, grade: 2, agency: 행정안전부, repository: minwon/hr-portal}
  - id: tax-office
    name: 지방세
    grade: 1
    roles: {agency-manager: [han], agency-officer: [seo], operator-manager: [choi], cab: [han, seo, choi]}
"""
# The first eleven records of the history: D1 in October (tests, approvals, deployment, PIR).
OCTOBER = 11


def as_system(items: list[Draft], system: str, repository: str | None = None) -> list[Draft]:
    """The drafts as another system's records, each with an id of its own (deployments paired by id),
    signed anew where the original was: the other system's pipelines — jobs of `repository` — sign what
    they write (None: of this configuration's repository, which vouches for no other system)."""
    ids = {d.id: f"{system}-{d.id}" for d in items}

    def renamed(d: Draft) -> Draft:
        data = dict(d.data)
        if isinstance(data.get("started"), str):
            data["started"] = ids.get(data["started"], data["started"])
        if isinstance(data.get("deployment_id"), str):
            data["deployment_id"] = ids.get(data["deployment_id"], data["deployment_id"])
        signature = data.pop("attestation", None)
        copy = replace(d, system=system, id=ids[d.id], data=data)
        if signature is None:
            return copy
        # On the commit the original job ran on (a deployment's result names none: its job's token does).
        sha = {"sha": _token_sha(signature)} if copy.kind == "deployment.finished" else {}
        if repository is None:
            return attest(copy) if copy.kind == "approval" else sign(copy, **sha)
        workflow = f"{repository}/.github/workflows/gatekeeper-approve.yml@refs/heads/main"
        if copy.kind == "approval":
            return attest(copy, repository=repository, job_workflow_ref=workflow, workflow_ref=workflow)
        return sign(copy, repository=repository, **sha)

    return [renamed(d) for d in items]


def _token_sha(signature: dict[str, str]) -> str:
    """The commit the job whose token `signature` carries ran on."""
    import jwt

    sha: str = jwt.decode(signature["token"], options={"verify_signature": False})["sha"]
    return sha


def append(ledger_path: Path, items: list[Draft]) -> None:
    ledger = SqliteLedger(ledger_path)
    try:
        for draft in items:
            ledger.append(draft)
    finally:
        ledger.close()


def make_world(path: Path, monkeypatch: pytest.MonkeyPatch) -> AuditRepo:
    world = make_audit_repo(path, monkeypatch, drift=False)
    config = world.path / ".gatekeeper.yml"
    config.write_text(config.read_text(encoding="utf-8") + REGISTRY, encoding="utf-8")
    history = drafts()
    append(
        world.path / ".gatekeeper" / "ledger.db",
        as_system(history[:OCTOBER], HR, "minwon/hr-portal") + as_system(history, WATER),
    )
    return world
