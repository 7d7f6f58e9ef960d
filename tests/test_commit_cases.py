"""Acceptance cases for the commit rules, as data: tests/cases/commit.*/{pass,fail}/*.yaml.

Each case gives a commit message, the RFCs the store holds (ID -> status; any other ID is unknown), and
`expect`: every rule that fires (grade 1, kr-ap-sop, so each is an error). A failing case may also name
text its finding must contain (the fix the author reads).
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import yaml

from gatekeeper.config import Rfc, load_policy
from gatekeeper.domain import ChangeType, Grade, Severity
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.rules import RuleContext
from gatekeeper.rules.commit import COMMIT_RULES, CommitFacts, check_commit, read_message

CASES = Path(__file__).resolve().parent / "cases"
PATTERN = r"RFC-\d{4}-\d{4}"
ALL = sorted(p for p in CASES.glob("commit.*/*/*.yaml"))


def _entry(rfc_id: str, status: str) -> RfcEntry:
    document = {
        "id": rfc_id,
        "title": "t",
        "type": "normal",
        "requester": "lee",
        "systems": ["minwon-portal"],
        "reason": "r",
        "status": status,
    }
    rfc = Rfc.model_validate_json(json.dumps(document))
    return RfcEntry(rfc_id, f"changes/{rfc_id}.yml", rfc=rfc)


def _run(case: dict[str, object]) -> list[tuple[str, str]]:
    policy = load_policy("kr-ap-sop")
    parts = read_message(str(case["message"]), PATTERN, policy.commit)
    held = dict(case.get("rfcs") or {})  # type: ignore[call-overload]
    rfcs = {i: (_entry(i, held[i]) if i in held else None) for i in parts.ids}
    ctx = RuleContext(policy, Grade.ONE, ChangeType.NORMAL, datetime(2026, 11, 24, tzinfo=UTC))
    facts = CommitFacts("0123456789abcdef0123456789abcdef01234567", parts, rfcs)
    findings = check_commit(facts, ctx)
    assert all(f.severity is Severity.ERROR for f in findings)
    return [(f.rule, f"{f.message} / {f.remediation}") for f in findings]


@pytest.mark.parametrize("path", ALL, ids=[f"{p.parent.parent.name}/{p.parent.name}/{p.stem}" for p in ALL])
def test_case(path: Path) -> None:
    case = yaml.safe_load(path.read_text(encoding="utf-8"))
    rule, side = path.parent.parent.name, path.parent.name
    fired = _run(case)
    assert sorted({r for r, _ in fired}) == sorted(case["expect"])
    assert (rule in {r for r, _ in fired}) == (side == "fail")
    if "message_contains" in case:
        assert any(case["message_contains"] in text for r, text in fired if r == rule), fired


def test_every_commit_rule_has_passing_and_failing_cases() -> None:
    for rule in COMMIT_RULES:
        assert list((CASES / rule / "pass").glob("*.yaml")), rule
        assert list((CASES / rule / "fail").glob("*.yaml")), rule
