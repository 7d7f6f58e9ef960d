"""Every rule is declared once and implemented once: the catalogue (`domain.catalogue.RULES`, the one place
a rule's ID, SOP clause and checklist item are written) and the rule registries agree exactly, and every
rule an audit can answer names a checklist item that exists."""

from __future__ import annotations

from collections import Counter

from gatekeeper.domain.catalogue import CHECKLIST, RULES
from gatekeeper.rules.approval import APPROVAL_RULES
from gatekeeper.rules.baseline import RULES as BASELINE_RULES
from gatekeeper.rules.calendar import CALENDAR_RULES
from gatekeeper.rules.commit import COMMIT_RULES
from gatekeeper.rules.deploy import DEPLOY_RULES
from gatekeeper.rules.governance import GOVERNANCE_RULES
from gatekeeper.rules.rfc import RFC_RULES, TARGET_RULES
from gatekeeper.rules.standard import STANDARD_RULES
from gatekeeper.rules.tests import TEST_RULES
from gatekeeper.rules.window import WINDOW_RULES

REGISTRIES = {
    "approval": APPROVAL_RULES,
    "baseline": BASELINE_RULES,
    "calendar": CALENDAR_RULES,
    "commit": COMMIT_RULES,
    "deploy": DEPLOY_RULES,
    "governance": GOVERNANCE_RULES,
    "rfc": RFC_RULES,
    "rfc-target": TARGET_RULES,
    "standard": STANDARD_RULES,
    "tests": TEST_RULES,
    "window": WINDOW_RULES,
}
# The gate itself reports a fact it could not gather (`checks.gate.evaluate`): no rule function.
EVALUATED_BY_THE_GATE = {"gate.error"}


def test_every_catalogued_rule_has_exactly_one_implementation() -> None:
    implemented = Counter(rule for registry in REGISTRIES.values() for rule in registry)
    twice = sorted(rule for rule, count in implemented.items() if count > 1)
    assert not twice, f"implemented in two registries: {twice}"
    assert set(implemented) | EVALUATED_BY_THE_GATE == set(RULES)


def test_every_rule_cites_a_clause_and_says_what_it_checks_in_both_languages() -> None:
    for info in RULES.values():
        assert info.sop and info.summary and info.summary_ko, info.id
        assert info.id.count(".") == 1 and info.id == info.id.lower(), info.id


def test_rules_answer_checklist_items_that_exist() -> None:
    answered = {info.item for info in RULES.values() if info.item}
    assert answered <= set(CHECKLIST)
    # Commit rules answer `configuration.commit-rfc` over the period's commits; gate.error answers nothing.
    assert {r for r, info in RULES.items() if not info.item} == {"gate.error"}
    assert {RULES[rule].item for rule in COMMIT_RULES} == {"configuration.commit-rfc"}
