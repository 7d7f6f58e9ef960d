"""The portfolio views over one ledger shared by several systems (`tests/portfolio/world.py`): the JSON
shapes grow by a `systems` list, each system's checklist and KPIs are exactly what a single-system run
gives, totals add up, only the own system's audit is recorded, and what people read is golden (Korean
and English, text and Markdown). Regenerate the golden files with `GATEKEEPER_UPDATE_GOLDEN=1`."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

import pytest

from gatekeeper.checks.audit import ITEMS
from gatekeeper.ledger.sqlite import SqliteLedger
from gatekeeper.ledger.systems import systems_of
from tests.audit.conftest import AUDIT_AT, AuditRepo
from tests.audit.history import drafts
from tests.helpers import run_cli
from tests.portfolio.world import HR, OWN, WATER, as_system

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("GATEKEEPER_UPDATE_GOLDEN") == "1"


def _golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.is_file(), f"{name} is missing; run with GATEKEEPER_UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), f"{name} changed; rerun with GATEKEEPER_UPDATE_GOLDEN=1"


def _json(world: AuditRepo, *args: str, code: int = 1) -> dict[str, Any]:
    result = run_cli(["--format", "json", *args], cwd=world.path, now=AUDIT_AT)
    assert result.code == code, result.stderr
    body: dict[str, Any] = json.loads(result.stdout)
    return body


def test_audit_json_grows_by_a_systems_list(world: AuditRepo) -> None:
    body = _json(world, "audit", "--system", "all", "--no-record")
    assert body["ok"] is False and body["system"] is None
    assert [s["system"] for s in body["systems"]] == [HR, OWN, WATER]
    hr, own, water = body["systems"]
    assert (hr["grade"], hr["registered"], hr["name"]) == (2, True, "인사포털")
    assert (own["grade"], own["registered"]) == (1, True)
    assert (water["grade"], water["registered"], water["name"]) == (1, False, WATER)
    assert [i["id"] for i in body["items"]] == list(ITEMS)
    assert body["totals"] == {"systems": 3, "nonconform": 3, "conform": 0}
    for key in ("conform", "nonconform", "not-applicable"):
        assert body["summary"][key] == sum(s["summary"][key] for s in body["systems"])
    pir = next(i for i in body["items"] if i["id"] == "change.pir")
    assert pir["result"] == "nonconform" and f"{OWN}:rfc:RFC-2026-0002" in pir["evidence"]
    assert (OWN, "change.pir") in {(d["system"], d["item"]) for d in body["debts"]}
    # No `systems:` entry names water-board's repository, so nothing its jobs signed verifies: its approvals
    # are unattested, and its CAB review (which would owe the PIR) counts for nothing.
    approvals = next(i for i in water["items"] if i["id"] == "change.approvals")
    assert approvals["result"] == "nonconform", approvals
    assert (WATER, "change.pir") not in {(d["system"], d["item"]) for d in body["debts"]}
    assert (HR, "change.pir") not in {(d["system"], d["item"]) for d in body["debts"]}  # it had its PIR
    assert (HR, "release.closure") in {(d["system"], d["item"]) for d in body["debts"]}  # never closed


def test_each_system_is_judged_as_a_single_system_run_judges_it(world: AuditRepo) -> None:
    single = _json(world, "audit", "--no-record")
    assert "systems" not in single  # without --system the shape is as before
    portfolio = _json(world, "audit", "--system", OWN, "--no-record")
    (own,) = portfolio["systems"]
    assert own["items"] == single["items"] and own["summary"] == single["summary"]
    # water-board holds the same history under its own name: judged alike (it is grade 1 too), except for
    # the commits and the baseline, which only the own repository answers, the RFC registration (the RFCs
    # name minwon-portal), and what rests on signatures: no `systems:` entry names its repository, so its
    # CAB review is unattested and owes no PIR, and no job is shown to have started its deployments: their
    # results are nonconformities of the ledger's integrity, and neither record a history nor a failure
    # owing its incident.
    water = _json(world, "audit", "--system", WATER, "--no-record")["systems"][0]
    differ = {
        i["id"] for i, j in zip(water["items"], single["items"], strict=True) if i["result"] != j["result"]
    }
    assert differ == {
        "change.rfc-registered",
        "configuration.commit-rfc",
        "configuration.baseline",
        "change.pir",
        "configuration.ledger-integrity",
        "change.history-recorded",
        "release.failure-incident",
    }
    # hr-portal's records are signed by jobs of the repository its entry registers: they count.
    hr = _json(world, "audit", "--system", HR, "--no-record")["systems"][0]
    assert next(i for i in hr["items"] if i["id"] == "change.approvals")["result"] == "conform"


def test_kpis_a_row_per_system_and_totals(world: AuditRepo) -> None:
    body = _json(world, "kpi", "--system", "all", "--since", "2026-10-01", "--until", "2026-11-30")
    assert body["system"] is None and [s["system"] for s in body["systems"]] == [HR, OWN, WATER]
    single = _json(world, "kpi", "--since", "2026-10-01", "--until", "2026-11-30")
    assert body["systems"][1]["kpis"] == single["kpis"]

    def kpi(of: dict[str, Any], kpi_id: str) -> dict[str, Any]:
        return next(k for k in of["kpis"] if k["id"] == kpi_id)

    total = kpi(body, "deployment-success-rate")
    parts = [kpi(s, "deployment-success-rate") for s in body["systems"]]
    # water-board's deployments are signed by jobs no `systems:` entry vouches for (grade 1: signatures
    # required): its three successes count for nothing, its three failures count all the same.
    assert total["denominator"] == sum(p["denominator"] for p in parts) == 1 + 6 + 3
    assert total["numerator"] == sum(p["numerator"] for p in parts) == 1 + 3 + 0
    water = body["systems"][2]
    assert len(water["unverified"]) == 6 and all(u["reason_ko"] for u in water["unverified"]), water
    assert {m["system"] for m in body["months"]} == {HR, OWN, WATER}  # the trends per system


def test_only_the_own_system_gets_its_audit_recorded(world: AuditRepo) -> None:
    body = _json(world, "audit", "--system", "all")
    ledger = SqliteLedger(world.path / ".gatekeeper" / "ledger.db")
    try:
        runs = [r for r in ledger.records() if r.kind == "audit.run"]
    finally:
        ledger.close()
    assert [(r.system, r.seq) for r in runs] == [(OWN, body["audit_run_seq"])]
    assert run_cli(["audit", "--system", HR], cwd=world.path, now=AUDIT_AT).code == 1
    ledger = SqliteLedger(world.path / ".gatekeeper" / "ledger.db")
    try:
        assert sum(r.kind == "audit.run" for r in ledger.records()) == 1
    finally:
        ledger.close()


def test_the_systems_of_a_postgres_ledger(pg_dsn: str, tmp_path: Path) -> None:
    import uuid

    from gatekeeper.ledger.postgres import PostgresLedger

    ledger = PostgresLedger(pg_dsn, "t_" + uuid.uuid4().hex[:12])
    try:
        assert systems_of(ledger) == []
        for draft in as_system(drafts()[:3], "b-sys") + as_system(drafts()[:2], "a-sys") + drafts()[:1]:
            ledger.append(draft)
        assert systems_of(ledger) == ["a-sys", "b-sys", OWN]
        ledger.append(as_system(drafts()[3:4], "c-sys")[0])  # the read transaction was closed
        assert systems_of(ledger) == ["a-sys", "b-sys", "c-sys", OWN]
    finally:
        ledger.close()


@pytest.mark.parametrize(
    ("registry", "said"),
    [
        (
            "systems:\n  - {id: hr-portal, name: a, grade: 2}\n  - {id: hr-portal, name: b, grade: 3}\n",
            "twice",
        ),
        ("systems:\n  - {id: minwon-portal, name: a, grade: 2}\n", "own system"),
        ("systems:\n  - {id: 'Bad Id', name: a, grade: 2}\n", "systems"),
    ],
)
def test_a_bad_registry_is_a_configuration_error(world: AuditRepo, registry: str, said: str) -> None:
    config = world.path / ".gatekeeper.yml"
    text = config.read_text(encoding="utf-8")
    config.write_text(text[: text.index("systems:")] + registry, encoding="utf-8")
    result = run_cli(["kpi", "--system", "all"], cwd=world.path, now=AUDIT_AT)
    assert result.code == 2 and said in result.stderr and "Traceback" not in result.stderr, result.stderr


@pytest.mark.parametrize("lang", ["ko", "en"])
@pytest.mark.parametrize("fmt", ["text", "markdown"])
def test_organisation_report_golden(world: AuditRepo, lang: str, fmt: str) -> None:
    suffix = "txt" if fmt == "text" else "md"
    period = ["--since", "2026-10-01", "--until", "2026-11-30"]
    audit = run_cli(
        ["--lang", lang, "--format", fmt, "audit", "--system", "all", "--no-record", *period],
        cwd=world.path,
        now=AUDIT_AT,
    )
    assert audit.code == 1, audit.stderr
    _golden(f"audit.{lang}.{suffix}", audit.stdout)
    kpi = run_cli(
        ["--lang", lang, "--format", fmt, "kpi", "--system", "all", *period], cwd=world.path, now=AUDIT_AT
    )
    assert kpi.code == 1, kpi.stderr
    _golden(f"kpi.{lang}.{suffix}", kpi.stdout)


def test_kpi_csv_rows_per_system_then_totals(world: AuditRepo) -> None:
    result = run_cli(["kpi", "--system", HR, OWN, "--csv"], cwd=world.path, now=AUDIT_AT)
    lines = result.stdout.splitlines()
    assert lines[0].startswith("system,month,kpi")
    assert {line.split(",")[0] for line in lines[1:]} == {HR, OWN, ""}
    assert lines[-1].startswith(",total,")


def test_a_registered_system_without_records_is_reported_by_its_registry_entry(world: AuditRepo) -> None:
    body = _json(world, "audit", "--system", "tax-office", "--no-record", code=0)
    (tax,) = body["systems"]
    assert (tax["system"], tax["name"], tax["grade"], tax["registered"]) == ("tax-office", "지방세", 1, True)
    assert tax["summary"]["nonconform"] == 0 and tax["summary"]["conform"] <= 1  # only the chain's integrity
    kpis = _json(world, "kpi", "--system", "tax-office", code=0)
    assert kpis["systems"][0]["months"] == []
