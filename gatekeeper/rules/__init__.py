"""Rules are pure functions: (facts, RuleContext) -> findings. They never read the environment, the clock,
files or the network, never print and never exit.

Each rule module exposes its rules in a registry dict; the commands run every rule of the registry they
need. `RuleContext.finding` resolves the severity from the policy pack and drops findings the pack
switches off, so rules only decide *whether* something is wrong and *what to say*.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from gatekeeper.config.models import Policy
from gatekeeper.domain import ActorSource, ChangeType, Finding, Grade, Severity
from gatekeeper.domain.catalogue import RULES


def from_workstation(policy: Policy, grade: Grade | None, actor_source: str) -> bool:
    """Whether a person's record was written on a workstation where the grade needs the pipeline
    (`approvals.local_actor_grades`): there nothing but a git identity, which anyone can set, says who."""
    return (
        actor_source == ActorSource.LOCAL
        and grade is not None
        and grade not in policy.approvals.local_actor_grades
    )


def unproven(attested: bool | None, level: str) -> bool:
    """Whether a record counts for nothing because the CI platform's signature does not show its actor
    wrote it (`attested` False) where the pack's attestation `level` (`attestation_level`) is required."""
    return attested is False and level == "required"


@dataclass(frozen=True)
class RuleContext:
    policy: Policy
    grade: Grade
    change_type: ChangeType
    now: datetime
    lang: str = "en"
    # The rules that apply in the deployment's environment (`Policy.rules_in` its kind); None: every rule.
    applies: frozenset[str] | None = None

    def severity(self, rule: str) -> Severity:
        return self.policy.severity(rule, self.grade, self.change_type)

    def finding(
        self,
        rule: str,
        *,
        message: str,
        remediation: str,
        subject: str = "",
        severity: Severity | None = None,
    ) -> Finding | None:
        """A finding for `rule`, or None when the pack switches the rule off for this grade and type.

        `severity` overrides the pack where a rule's own settings decide it (e.g. a step required only as
        a recommendation).
        """
        info = RULES[rule]
        if self.applies is not None and rule not in self.applies:
            return None
        level = severity if severity is not None else self.severity(rule)
        if level is Severity.OFF:
            return None
        return Finding(rule, level, info.sop, message, remediation, subject)
