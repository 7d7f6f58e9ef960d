"""Acceptance cases for the window rules, as data: tests/cases/window.*/{pass,fail}/*.yaml.

A case gives `at` (ISO 8601 with offset), optionally `type` (default normal), `grade` (default 1) and
`config` (keys merged into a grade-1 kr-ap-sop configuration). A `pass` case must produce no finding of its
rule; a `fail` case must produce one with `expect.severity`, and `expect.next_allowed` is the next allowed
start the calendar computes.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.config import load_config, load_policy
from gatekeeper.domain import ChangeType, Grade
from gatekeeper.domain.calendar import BusinessCalendar
from gatekeeper.rules import RuleContext
from gatekeeper.rules.window import WINDOW_RULES, check_window, window_facts

CASES = Path(__file__).parent / "cases"


def _case_id(path: Path) -> str:
    return f"{path.parent.parent.name}/{path.parent.name}/{path.stem}"


CASE_FILES = sorted(p for rule in WINDOW_RULES for p in (CASES / rule).glob("*/*.yaml"))


def _config_text(grade: int, overrides: dict[str, Any]) -> str:
    body: dict[str, Any] = {
        "version": 1,
        "system": {"id": "minwon-portal", "name": "민원포털", "grade": grade},
        "policy": "kr-ap-sop",
        "timezone": "Asia/Seoul",
    }
    body.update(overrides)
    return yaml.safe_dump(body, allow_unicode=True)


def test_every_window_rule_has_pass_and_fail_cases() -> None:
    for rule in WINDOW_RULES:
        assert list((CASES / rule / "pass").glob("*.yaml")), rule
        assert list((CASES / rule / "fail").glob("*.yaml")), rule


@pytest.mark.parametrize("case_file", CASE_FILES, ids=_case_id)
def test_window_case(case_file: Path, tmp_path: Path) -> None:
    rule, expected = case_file.parent.parent.name, case_file.parent.name
    case = yaml.safe_load(case_file.read_text(encoding="utf-8"))
    grade = Grade(case.get("grade", 1))
    change_type = ChangeType(case.get("type", "normal"))
    config_path = tmp_path / ".gatekeeper.yml"
    config_path.write_text(_config_text(int(grade), case.get("config", {})), encoding="utf-8")
    config = load_config(config_path)
    policy = load_policy(config.policy, relative_to=tmp_path)
    at = datetime.fromisoformat(case["at"])

    facts = window_facts(BusinessCalendar.from_config(config, policy), at, change_type, grade)
    findings = [f for f in check_window(facts, RuleContext(policy, grade, change_type, at)) if f.rule == rule]

    if expected == "pass":
        assert findings == [], case["description"]
        return
    assert len(findings) >= 1, case["description"]
    assert {str(f.severity) for f in findings} == {case["expect"]["severity"]}, case["description"]
    assert facts.next_allowed == datetime.fromisoformat(case["expect"]["next_allowed"]), case["description"]
    assert facts.next_allowed.isoformat(timespec="minutes") in findings[0].remediation
