"""`gatekeeper gate` on a real repository and ledger: the window at the minute boundaries, `--at`, and a
gate that fails closed (a hostile report, a broken ledger, an unknown RFC)."""

from __future__ import annotations

import json

import pytest

from tests.acceptance import RFC_ID, build, gate
from tests.helpers import GitRepo, run_cli


# The window through the whole gate: the same baseline at the minute boundaries of business hours.
@pytest.mark.parametrize(
    ("at", "decision"),
    [
        ("2026-11-24T08:59:00+09:00", "allow"),
        ("2026-11-24T09:00:00+09:00", "block"),
        ("2026-11-24T17:59:00+09:00", "block"),
        ("2026-11-24T18:00:00+09:00", "allow"),
        ("2026-11-24T10:00:00+09:00", "block"),
        ("2026-11-24T19:00:00+09:00", "allow"),
        ("2026-11-24T01:00:00Z", "block"),  # 10:00 KST given in UTC
    ],
)
def test_business_hours_through_the_gate(repo: GitRepo, at: str, decision: str) -> None:
    moment, _ = build(repo, {"at": at})
    code, body = gate(repo, moment)
    assert code == (0 if decision == "allow" else 1)
    assert body["decision"] == decision, body["findings"]
    rules = {f["rule"] for f in body["findings"]}
    assert rules == (set() if decision == "allow" else {"window.business-hours"})


def test_what_if_at_uses_the_given_time_not_the_clock(repo: GitRepo) -> None:
    moment, _ = build(repo, {})
    result = run_cli(
        ["--format", "json", "gate", "--rfc", RFC_ID, "--at", "2026-11-24T10:00:00+09:00"],
        cwd=repo.path,
        now=moment,
    )
    assert result.code == 1
    assert [f["rule"] for f in json.loads(result.stdout)["findings"]] == ["window.business-hours"]


def test_an_xxe_report_is_a_gate_error_never_evidence(repo: GitRepo) -> None:
    at, _ = build(repo, {"evidence": {"unit": "xxe", "integration": {}}})
    code, body = gate(repo, at)
    assert code == 1
    errors = [f for f in body["findings"] if f["rule"] == "gate.error"]
    assert errors and errors[0]["subject"] == "test evidence reports/unit/result.xml"
    assert "root:" not in json.dumps(body)  # the entity was never expanded


def test_a_broken_ledger_fails_closed(repo: GitRepo) -> None:
    at, _ = build(repo, {})
    (repo.path.parent / f"{repo.path.name}-ledger.db").write_bytes(b"not a database at all" * 100)
    code, body = gate(repo, at)
    assert code == 1
    assert any(f["rule"] == "gate.error" and "ledger" in f["subject"] for f in body["findings"])


def test_an_unknown_rfc_fails_closed(repo: GitRepo) -> None:
    at, _ = build(repo, {})
    result = run_cli(["--format", "json", "gate", "--rfc", "RFC-2026-0999"], cwd=repo.path, now=at)
    assert result.code == 1
    assert any(f["rule"] == "gate.error" for f in json.loads(result.stdout)["findings"])
