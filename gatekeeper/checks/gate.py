"""The deploy gate's decision: every rule registry run over the gathered facts (pure).

`evaluate` is pure: the same facts always give the same outcome, which is what `--at` relies on, and what
lets the audit re-run the gate over the facts a deployment recorded (`checks.audit`). The facts come from
`gatekeeper.facts.gather`; every fact that could not be gathered becomes a `gate.error` finding, so the gate
never passes because it could not look (DESIGN §1).
"""

from __future__ import annotations

from gatekeeper.domain import Finding, Outcome
from gatekeeper.facts.gather import GateFacts
from gatekeeper.messages import in_language, tr
from gatekeeper.rules import RuleContext
from gatekeeper.rules.approval import APPROVAL_RULES
from gatekeeper.rules.baseline import RULES as BASELINE_RULES
from gatekeeper.rules.calendar import CALENDAR_RULES
from gatekeeper.rules.deploy import DEPLOY_RULES
from gatekeeper.rules.governance import GOVERNANCE_RULES
from gatekeeper.rules.rfc import RFC_RULES, TARGET_RULES, DeployTarget
from gatekeeper.rules.standard import STANDARD_RULES
from gatekeeper.rules.tests import TEST_RULES
from gatekeeper.rules.window import WINDOW_RULES


def evaluate(facts: GateFacts, lang: str = "en") -> Outcome:
    """Run every rule registry over the facts; pure."""
    applies = facts.policy.rules_in(facts.environment_kind)
    base = RuleContext(facts.policy, facts.grade, facts.change_type, facts.at, lang, applies)
    found: list[Finding | None] = []
    for failure in facts.failures:
        found.append(
            base.finding(
                "gate.error",
                subject=failure.what,
                message=tr(
                    base.lang,
                    "could not read {what}: {error}",
                    what=failure.what,
                    error=in_language(base.lang, failure.error, failure.error_ko or failure.error),
                ),
                remediation=tr(
                    base.lang, "fix the cause and run the gate again; the gate blocks whenever it cannot look"
                ),
            )
        )
    target = DeployTarget(
        facts.system,
        facts.window.at if facts.window is not None else None,
        facts.window.timezone if facts.window is not None else "UTC",
    )
    for entry in facts.rfcs:
        rfc_ctx = RuleContext(facts.policy, facts.grade, facts.rfc_type(entry), facts.at, lang, applies)
        for rfc_rule in RFC_RULES.values():
            found.extend(rfc_rule(entry, rfc_ctx))
        for target_rule in TARGET_RULES.values():
            found.extend(target_rule(entry, target, rfc_ctx))
    for check in facts.standard:
        for standard_rule in STANDARD_RULES.values():
            found.extend(standard_rule(check, base))
    if facts.window is not None:
        for window_rule in WINDOW_RULES.values():
            found.extend(window_rule(facts.window, base))
    types = {entry.id: facts.rfc_type(entry) for entry in facts.rfcs}
    for approval in facts.approvals:
        rfc_ctx = RuleContext(
            facts.policy, facts.grade, types.get(approval.rfc_id, facts.change_type), facts.at, lang, applies
        )
        for approval_rule in APPROVAL_RULES.values():
            found.extend(approval_rule(approval, rfc_ctx))
    if facts.evidence is not None:
        for test_rule in TEST_RULES.values():
            found.extend(test_rule(facts.evidence, base))
    if facts.deploy is not None:
        for deploy_rule in DEPLOY_RULES.values():
            found.extend(deploy_rule(facts.deploy, base))
    if facts.drift is not None:
        for baseline_rule in BASELINE_RULES.values():
            found.extend(baseline_rule(facts.drift, base))
    if facts.calendar is not None:
        for calendar_rule in CALENDAR_RULES.values():
            found.extend(calendar_rule(facts.calendar, base))
    if facts.governance is not None:
        for governance_rule in GOVERNANCE_RULES.values():
            found.extend(governance_rule(facts.governance, base))
    return Outcome(
        system=facts.system,
        grade=int(facts.grade),
        change_type=str(facts.change_type),
        rfcs=tuple(entry.id for entry in facts.rfcs),
        findings=tuple(f for f in found if f is not None),
        extra={**_standard_changes(facts), **_configuration_from(facts)},
    )


def _configuration_from(facts: GateFacts) -> dict[str, object]:
    """Where the configuration the gate decided with came from, in CI (the JSON output's `configuration`)."""
    if not facts.governed_by:
        return {}
    branch, _, commit = facts.governed_by.rpartition("@")
    return {"configuration": {"branch": branch, "commit": commit}}


def _standard_changes(facts: GateFacts) -> dict[str, object]:
    """The standard changes that hold, with whom their result is reported to (단순변경: the officer decides
    and reports the result), for the JSON output; nothing when there are none."""
    held = [
        {"rfc": c.rfc_id, "template": c.template, "report_to": list(c.entry.report_to)}
        for c in facts.standard
        if c.holds and c.entry is not None
    ]
    return {"standard_changes": held} if held else {}
