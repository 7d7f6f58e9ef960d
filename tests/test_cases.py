"""The acceptance cases of every rule, as data (tests/cases/<rule>/{pass,fail}/*.yaml, one dialect:
`tests.acceptance`), run through the command that judges the rule — `gatekeeper gate` on a real repository
and ledger, or `gatekeeper check-commits` on a commit message."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from gatekeeper.domain.catalogue import RULES
from tests.acceptance import CASE_FILES, CASE_RULES, CASES, build, case_id, gate, run_case
from tests.helpers import GitRepo


def test_every_rule_has_pass_and_fail_cases() -> None:
    for rule in CASE_RULES:
        assert list((CASES / rule / "pass").glob("*.yaml")), f"{rule} has no pass case"
        assert list((CASES / rule / "fail").glob("*.yaml")), f"{rule} has no fail case"
    assert {p.name for p in CASES.iterdir() if p.is_dir()} <= set(RULES), "a case folder names no rule"


def test_the_baseline_deployment_is_allowed(repo: GitRepo) -> None:
    at, _ = build(repo, {})
    code, body = gate(repo, at)
    assert (code, body["decision"], body["findings"]) == (0, "allow", [])


@pytest.mark.parametrize("case_file", CASE_FILES, ids=case_id)
def test_case(case_file: Path, repo: GitRepo) -> None:
    rule, expected = case_file.parent.parent.name, case_file.parent.name
    case = yaml.safe_load(case_file.read_text(encoding="utf-8"))
    assert case.get("description"), "every case says what it shows"
    code, body = run_case(repo, rule, case)
    mine = [f for f in body["findings"] if f["rule"] == rule]
    expect = case.get("expect", {})
    if expected == "fail":
        assert mine, f"expected {rule}, got {body['findings']}"
        assert {f["severity"] for f in mine} == {expect.get("severity", "error")}
        assert body["decision"] == expect.get("decision", "block")
    else:
        assert not mine, mine
        assert body["decision"] == expect.get("decision", "allow"), body["findings"]
    assert code == (0 if body["decision"] == "allow" else 1)
    if "rules" in expect:
        assert sorted({f["rule"] for f in body["findings"]}) == sorted(expect["rules"]), body["findings"]
    for text in expect.get("message_contains", []):
        assert any(text in f["message"] + " " + f["remediation"] for f in mine), mine
