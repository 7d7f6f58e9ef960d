"""The portfolio views (`audit`/`kpi --system`) against a developer with write access to one system's
pipeline: a system id that carries path, markup and terminal control characters (on the command line and
in a record of the shared ledger), records of another system dressed up to count for this one, and a
system nobody knows."""

from __future__ import annotations

import json

import pytest

from gatekeeper.ledger import Draft
from tests.adversarial.conftest import Recorder
from tests.audit.conftest import AUDIT_AT, AuditRepo
from tests.audit.history import drafts
from tests.helpers import run_cli
from tests.portfolio.world import HR, OWN, append, as_system, make_world

HOSTILE = "../../etc/passwd<script>alert(1)</script>\x1b[2J\r\nforged: 적합"


@pytest.fixture
def world(tmp_path: object, monkeypatch: pytest.MonkeyPatch) -> AuditRepo:
    from pathlib import Path

    return make_world(Path(str(tmp_path)) / "repo", monkeypatch)


def test_an_unknown_system_is_a_usage_error_naming_the_known_ones(
    world: AuditRepo, reliability: Recorder
) -> None:
    for command in ("audit", "kpi"):
        for lang, word in (("en", "no such system"), ("ko", "없는 시스템")):
            result = run_cli(["--lang", lang, command, "--system", "billing"], cwd=world.path, now=AUDIT_AT)
            assert result.code == 2, result.stdout + result.stderr
            assert word in result.stderr and "Traceback" not in result.stderr
            assert "hr-portal" in result.stderr and "tax-office" in result.stderr and "`all`" in result.stderr
    count = len(list(_records(world)))
    assert run_cli(["audit", "--system", "billing", OWN], cwd=world.path, now=AUDIT_AT).code == 2
    assert len(list(_records(world))) == count  # nothing recorded
    reliability.row(
        "audit/kpi --system billing (not in the configuration nor the ledger)",
        "unknown system",
        "exit 2 (en/ko) listing the known systems; nothing recorded",
    )


def _records(world: AuditRepo) -> list[object]:
    from gatekeeper.ledger.sqlite import SqliteLedger

    ledger = SqliteLedger(world.path / ".gatekeeper" / "ledger.db")
    try:
        return list(ledger.records())
    finally:
        ledger.close()


def test_a_hostile_system_id_is_shown_escaped_everywhere(world: AuditRepo, reliability: Recorder) -> None:
    result = run_cli(["audit", "--system", HOSTILE], cwd=world.path, now=AUDIT_AT)
    assert result.code == 2
    assert "\x1b" not in result.stderr and "\r" not in result.stderr, result.stderr
    # The same id in a record of the shared ledger (written by some other pipeline).
    append(world.path / ".gatekeeper" / "ledger.db", as_system(drafts()[:11], HOSTILE))
    html = world.path / "org.html"
    for fmt in ("text", "markdown", "json"):
        result = run_cli(
            ["--format", fmt, "audit", "--system", "all", "--no-record", "--html", str(html)],
            cwd=world.path,
            now=AUDIT_AT,
        )
        assert result.code == 1, result.stderr
        assert "\x1b" not in result.stdout, fmt
        if fmt == "json":
            systems = [s["system"] for s in json.loads(result.stdout)["systems"]]
            assert HOSTILE in systems  # the data as it is; JSON escapes it
        else:
            assert "\r\nforged" not in result.stdout, fmt
    page = html.read_text(encoding="utf-8")
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert not any(p.name.startswith("passwd") for p in world.path.parent.rglob("*"))
    kpi = run_cli(["kpi", "--system", "all"], cwd=world.path, now=AUDIT_AT)
    assert "\x1b" not in kpi.stdout and "\r\nforged" not in kpi.stdout
    reliability.row(
        "--system and a ledger record's system naming ../../etc/passwd, <script>, ESC[2J and CRLF",
        "path / markup / terminal injection through a system id",
        "exit 2 for the argument; escaped in text, Markdown and HTML, intact in JSON; no file by that name",
    )


def test_another_systems_records_never_count_for_this_one(world: AuditRepo, reliability: Recorder) -> None:
    """hr-portal's pipeline writes the approvals, PIR and successful deployments minwon-portal lacks —
    under its own system name, and a finish of its own naming minwon-portal's failed deployment."""
    before = json.loads(
        run_cli(
            ["--format", "json", "audit", "--system", OWN, "--no-record"], cwd=world.path, now=AUDIT_AT
        ).stdout
    )
    kpi_before = json.loads(
        run_cli(["--format", "json", "kpi", "--system", OWN], cwd=world.path, now=AUDIT_AT).stdout
    )
    own = {d.id: d for d in drafts()}
    failed = next(d for d in drafts() if d.kind == "deployment.finished" and d.data["result"] == "failure")
    forged = [
        Draft(
            "pir",
            HR,
            "kim",
            "github-actions",
            AUDIT_AT,
            {"result": "achieved", "note": "ok"},
            ("RFC-2026-0002",),
        ),
        Draft(
            "approval",
            HR,
            "park",
            "github-actions",
            AUDIT_AT,
            {"step": "change-approval", "decision": "approve", "digest": "sha256:x"},
            ("RFC-2026-0003",),
        ),
        Draft(
            "deployment.finished",
            HR,
            "ci",
            "github-actions",
            AUDIT_AT,
            {**failed.data, "result": "success", "started": own[failed.data["started"]].id},
            failed.rfcs,
        ),
    ]
    append(world.path / ".gatekeeper" / "ledger.db", forged)
    after = json.loads(
        run_cli(
            ["--format", "json", "audit", "--system", OWN, "--no-record"], cwd=world.path, now=AUDIT_AT
        ).stdout
    )
    kpi_after = json.loads(
        run_cli(["--format", "json", "kpi", "--system", OWN], cwd=world.path, now=AUDIT_AT).stdout
    )

    def results(body: dict[str, object]) -> dict[str, str]:
        (system,) = body["systems"]  # type: ignore[misc]
        return {i["id"]: i["result"] for i in system["items"]}

    assert results(after) == results(before)
    assert results(after)["change.pir"] == "nonconform"
    assert kpi_after["systems"][0]["kpis"] == kpi_before["systems"][0]["kpis"]
    reliability.row(
        "records of hr-portal (a PIR, an approval, a finish naming minwon-portal's failed deployment)",
        "another system's records counted for this one",
        "minwon-portal's checklist and KPIs unchanged",
    )
