"""The catalogue: every rule ID (DESIGN §4, contract), every audit checklist item and every KPI, with the
SOP clause each cites and what it checks.

Rule IDs are never renamed or renumbered. Each rule names the checklist item the audit answers with it
(`RuleInfo.item`): the audit re-runs the gate's rules at every deployment and files each finding under that
item, so the gate and the audit read one judgement. The README's rule and checklist tables are generated
from these mappings and a test keeps them in sync; a meta-test checks every rule has exactly one
implementation in a rule registry.
"""

from __future__ import annotations

from dataclasses import dataclass

from gatekeeper.messages import Message, msg, template


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    sop: str
    summary: str  # in English: the catalogue's msgid, declared through `msg` below so Babel extracts it
    item: str = ""  # the audit checklist item a finding of this rule at a deployment answers ("": none)

    def said(self, lang: str) -> str:
        """The summary in `lang`, from the message catalogue."""
        return template(lang, self.summary)

    @property
    def summary_ko(self) -> str:
        return self.said("ko")

    @property
    def message(self) -> Message:
        """The summary as a message, for a field of another."""
        return Message(self.summary)


def _rule(rule_id: str, sop: str, summary: Message, item: str = "") -> RuleInfo:
    return RuleInfo(rule_id, sop, summary.text, item)


def _catalogue(*rules: RuleInfo) -> dict[str, RuleInfo]:
    return {rule.id: rule for rule in rules}


RULES: dict[str, RuleInfo] = _catalogue(
    _rule("commit.rfc-missing", "CFG-P3", msg("a commit names no RFC ID"), item="configuration.commit-rfc"),
    _rule(
        "commit.rfc-unknown",
        "CHG-P1",
        msg("the named RFC does not exist"),
        item="configuration.commit-rfc",
    ),
    _rule(
        "commit.rfc-inactive",
        "CHG-P1",
        msg("the named RFC is cancelled or closed"),
        item="configuration.commit-rfc",
    ),
    _rule(
        "commit.reason-missing",
        "CFG-P3",
        msg("the commit gives no reason beyond the ID"),
        item="configuration.commit-rfc",
    ),
    _rule("rfc.invalid", "CHG-PLAN", msg("an RFC file does not validate"), item="change.plan-complete"),
    _rule(
        "rfc.rollback-plan-missing",
        "CHG-P4, REL-P4",
        msg("no rollback plan"),
        item="release.rollback-plan",
    ),
    _rule(
        "rfc.test-plan-missing",
        "CHG-PLAN",
        msg("a software change without a test plan"),
        item="change.plan-complete",
    ),
    _rule(
        "window.business-hours",
        "CHG-P3",
        msg("deployment in business hours (weekdays 09-18 KST)"),
        item="change.business-hours",
    ),
    _rule("window.freeze", "-", msg("deployment inside a configured freeze period"), item="change.freeze"),
    _rule(
        "approval.missing",
        "CHG-P3, REL-P1",
        msg("a required approval step has no approval"),
        item="change.approvals",
    ),
    _rule(
        "approval.rejected",
        "CHG-P3",
        msg("the latest decision on a step is reject"),
        item="change.approvals",
    ),
    _rule(
        "approval.self",
        "TST-P3",
        msg("the approver authored or committed the change"),
        item="change.approvals",
    ),
    _rule("approval.same-person", "CHG-P3", msg("one person approved two steps"), item="change.approvals"),
    _rule(
        "approval.unauthorized",
        "CHG-P3",
        msg("the approver does not hold the step's role"),
        item="change.approvals",
    ),
    _rule(
        "approval.out-of-order",
        "CHG-P3",
        msg("a later step was approved before an earlier one"),
        item="change.approvals",
    ),
    _rule(
        "approval.stale",
        "CHG-P3",
        msg("the RFC changed after it was approved"),
        item="change.approvals",
    ),
    _rule(
        "approval.other-commit",
        "REL-P1",
        msg("a release step was approved for another commit than the one deployed (or named none)"),
        item="change.approvals",
    ),
    _rule(
        "approval.other-artifact",
        "REL-P1",
        msg(
            "a release step approved another build of an artefact being deployed (compared "
            "where both name it)"
        ),
        item="change.approvals",
    ),
    _rule(
        "approval.before-evidence",
        "REL-P1",
        msg(
            "a release step was approved before the test evidence it certifies existed for "
            "the deployed commit"
        ),
        item="change.approvals",
    ),
    _rule(
        "approval.unattested",
        "CHG-P3",
        msg("an approval lacks the CI platform's verified attestation where the pack recommends one"),
        item="change.approvals",
    ),
    _rule(
        "cab.missing",
        "CHG-P3",
        msg("a change needing CAB review has no CAB decision"),
        item="change.approvals",
    ),
    _rule(
        "approval.quorum",
        "CHG-P3",
        msg("a step the pack gives a quorum (a CAB's N of M) has fewer members' approvals that count"),
        item="change.approvals",
    ),
    _rule(
        "tests.missing",
        "REL-P1, REL-P3",
        msg("required test evidence is absent"),
        item="release.tested",
    ),
    _rule("tests.failed", "REL-P1", msg("evidence shows failing or erroring tests"), item="release.tested"),
    _rule(
        "tests.below-threshold",
        "TST-KPI",
        msg("success rate below the policy threshold"),
        item="release.tested",
    ),
    _rule(
        "tests.stale",
        "REL-P1",
        msg("evidence was produced for another commit, or not by a job shown to run on this one"),
        item="release.tested",
    ),
    _rule(
        "tests.unattested",
        "REL-P1",
        msg(
            "ledger test evidence lacks the signature of a CI job on the deployed commit "
            "where the pack recommends one"
        ),
        item="release.tested",
    ),
    _rule(
        "tests.performance-missing",
        "TST-PERF",
        msg("performance impact without performance evidence"),
        item="release.tested",
    ),
    _rule(
        "deploy.concurrent",
        "seed 003",
        msg("another deployment of this system is in progress"),
        item="release.exclusive",
    ),
    _rule(
        "calendar.collision",
        "seed 003, CHG-P3",
        msg("two changes of one system, configuration item or linked systems are planned for the same time"),
        item="release.exclusive",
    ),
    _rule(
        "deploy.sequence",
        "CHG-PLAN",
        msg(
            "a system of a multi-system RFC is deployed before every system listed before it "
            "finished its deployment successfully"
        ),
        item="release.sequential",
    ),
    _rule(
        "deploy.unattested",
        "CHG-P2, seed 003",
        msg(
            "a deployment's start or result record lacks the signature of a CI job of its "
            "system's repository (where the pack requires one it counts for nothing: a "
            "forged result releases no lock; where it recommends one, a warning)"
        ),
        item="release.exclusive",
    ),
    _rule(
        "deploy.pir-overdue",
        "CHG-P3",
        msg("an earlier change's PIR is past its deadline"),
        item="change.pir",
    ),
    _rule(
        "deploy.retro-review-overdue",
        "CHG-P1",
        msg("an emergency change lacks its after-the-fact approval"),
        item="change.emergency-review",
    ),
    _rule(
        "integration.notice-missing",
        "REL-NOTICE",
        msg("linked systems affected and no prior notice recorded"),
        item="release.notice",
    ),
    # Closing the release and the change (seed 002 배포관리 3.1–4.3, 변경관리 4.2): additive.
    _rule(
        "release.acceptance-overdue",
        "REL-P3",
        msg("an earlier deployment has no acceptance test by its requester past the pack's closure deadline"),
        item="release.acceptance",
    ),
    _rule(
        "release.production-tests-overdue",
        "TST-P5",
        msg(
            "an earlier deployment has no passing unit/integration test in production bound "
            "to it past the pack's closure deadline"
        ),
        item="release.production-tests",
    ),
    _rule(
        "release.closure-overdue",
        "REL-CONSISTENCY",
        msg(
            "an earlier deployment was not reviewed for consistency and closed past the "
            "pack's closure deadline"
        ),
        item="release.closure",
    ),
    _rule(
        "baseline.drift",
        "CFG-P1",
        msg("configuration items drifted from the baseline without an RFC"),
        item="configuration.baseline",
    ),
    _rule("gate.error", "-", msg("a fact could not be gathered; the gate fails closed")),
    # -- the RFC against its deployment, and standard changes (issue 17) --------------------------------
    _rule(
        "rfc.inactive",
        "CHG-P1",
        msg("the RFC deployed is cancelled, closed or a draft"),
        item="change.rfc-registered",
    ),
    _rule(
        "rfc.other-system",
        "CHG-P1",
        msg("the RFC deployed does not name the system deployed"),
        item="change.rfc-registered",
    ),
    _rule(
        "rfc.outside-window",
        "CHG-PLAN",
        msg("deployment outside the work window of the RFC's approved plan"),
        item="change.as-planned",
    ),
    _rule(
        "standard.template-unknown",
        "CHG-P1",
        msg("a standard change names no entry of the standard-change catalogue (judged as normal)"),
        item="change.standard-defined",
    ),
    _rule(
        "standard.out-of-scope",
        "CHG-P1",
        msg("a standard change leaves its catalogue entry (judged as normal)"),
        item="change.standard-defined",
    ),
    # Incidents and problems (SOP CHG-P1 emergency changes, INC, PRB): additive.
    _rule(
        "emergency.incident-unknown",
        "CHG-P1, INC",
        msg("an emergency change names no incident recorded by the pipeline or an incident role"),
        item="change.emergency-incident",
    ),
    _rule(
        "incident.report-missing",
        "INC",
        msg("a grade 1-2 incident lasted 30 minutes without an intermediate report"),
        item="incident.reported",
    ),
    _rule(
        "incident.problem-missing",
        "PRB",
        msg("an incident closed with its cause unknown is not in problem management"),
        item="incident.problem",
    ),
    # Governance changes (DESIGN §1: configuration from the protected default branch): additive.
    _rule(
        "config.changed",
        "CFG-P3, CHG-P1",
        msg(
            "the change alters governance files (configuration, policy pack, CI files, "
            "CODEOWNERS) its RFC does not declare, or not as a normal change"
        ),
        item="configuration.governance",
    ),
)

# Audit checklist items (SOP.md audit checklists for CHG, REL, TST, CFG), answered by `gatekeeper audit`.
# id -> (area, SOP clause, question). The order is the order of the report.
CHECKLIST: dict[str, tuple[str, str, Message]] = {
    "change.rfc-registered": (
        "change",
        "CHG-P1",
        msg("Did every deployment name a registered change request (RFC)?"),
    ),
    "change.plan-complete": (
        "change",
        "CHG-PLAN",
        msg(
            "Was every deployed change plan complete (reason, work plan, rollback plan, test plan for "
            "software)?"
        ),
    ),
    "change.approvals": (
        "change",
        "CHG-P3",
        msg("Did every deployment have its required approvals, in order, before it started?"),
    ),
    "change.business-hours": (
        "change",
        "CHG-P3",
        msg(
            "Was every change that the pack keeps out of business hours (weekdays 09–18 on business days) "
            "deployed outside them?"
        ),
    ),
    "change.freeze": (
        "change",
        "CHG-P3",
        msg("Was every deployment made outside the freeze periods the pack and the configuration set?"),
    ),
    "change.as-planned": (
        "change",
        "CHG-PLAN",
        msg("Was every change deployed inside the work window its approved change plan set?"),
    ),
    "change.standard-defined": (
        "change",
        "CHG-P1",
        msg(
            "Was every standard change one the standard-change catalogue defines in advance, kept inside its "
            "entry (otherwise judged as a normal change)?"
        ),
    ),
    "change.emergency-review": (
        "change",
        "CHG-P1",
        msg("Was every emergency change reviewed and approved after the fact within its deadline?"),
    ),
    "change.pir": (
        "change",
        "CHG-P3",
        msg("Did every CAB-reviewed change that needs one get its post-implementation review (PIR)?"),
    ),
    "change.history-recorded": (
        "change",
        "CHG-P2",
        msg("Is the result of every deployment, including failed ones, recorded?"),
    ),
    "release.tested": (
        "release",
        "REL-P1",
        msg("Did every deployment have passing test evidence recorded before it started?"),
    ),
    "release.rollback-plan": (
        "release",
        "REL-P4",
        msg("Did every deployment have a rollback plan?"),
    ),
    "release.notice": (
        "release",
        "REL-NOTICE",
        msg(
            "Was a prior notice recorded before every deployment of a change that affects linked systems or "
            "agencies?"
        ),
    ),
    "release.exclusive": (
        "release",
        "seed 003",
        msg("Was every deployment started while no other deployment of its system and environment was open?"),
    ),
    "release.sequential": (
        "release",
        "CHG-PLAN",
        msg(
            "Was every change deployed to several systems deployed to them one after another, each after the "
            "previous one succeeded?"
        ),
    ),
    "release.failure-incident": (
        "release",
        "REL-P4",
        msg("Was every failed or rolled-back deployment escalated to an incident record?"),
    ),
    # Closing the release and the change (seed 002 배포관리 3.1–4.3, 변경관리 4.2): additive.
    "release.acceptance": (
        "release",
        "REL-P3",
        msg(
            "Did the requester run and record the acceptance test of every successful deployment to "
            "production after it finished?"
        ),
    ),
    "release.production-tests": (
        "test",
        "TST-P5",
        msg(
            "Was every successful deployment to production verified there by passing unit and integration "
            "(linked-system) tests bound to it?"
        ),
    ),
    "release.closure": (
        "release",
        "REL-CONSISTENCY",
        msg(
            "Was every successful deployment to production checked for consistency of change plan, release "
            "plan and result, and the release and the change closed by the agency officer?"
        ),
    ),
    "test.success-rate": (
        "test",
        "TST-KPI",
        msg("Does the recorded test success rate meet the pack's threshold?"),
    ),
    "test.recorded": (
        "test",
        "TST-P4",
        msg("Does every test record name the commit tested, the test kind and the counts?"),
    ),
    "configuration.commit-rfc": (
        "configuration",
        "CFG-P3",
        msg("Does every commit name its change request ID?"),
    ),
    "configuration.baseline": (
        "configuration",
        "CFG-P1",
        msg("Is a configuration baseline recorded and current (no change without an RFC)?"),
    ),
    "configuration.ledger-integrity": (
        "configuration",
        "CHG-P2",
        msg("Is the change and deployment ledger intact (hash chain verifies)?"),
    ),
    # Incidents and problems (SOP CHG-P1, INC, PRB): additive.
    "change.emergency-incident": (
        "change",
        "CHG-P1, INC",
        msg(
            "Did every emergency change fix an incident recorded by the pipeline or by someone holding an "
            "incident role?"
        ),
    ),
    "incident.reported": (
        "release",
        "INC",
        msg("Was every grade 1-2 incident that lasted 30 minutes reported at an intermediate step?"),
    ),
    "incident.problem": (
        "release",
        "PRB",
        msg("Was every incident closed with its cause unknown registered in problem management?"),
    ),
    "configuration.governance": (
        "configuration",
        "CFG-P3, CHG-P1",
        msg(
            "Was every change of the governance files (configuration, policy pack, CI files, CODEOWNERS) "
            "declared by its RFC and approved as a normal change?"
        ),
    ),
}

# id -> (unit, SOP clause, label). The order is the order of every report.
KPI_CATALOGUE: dict[str, tuple[str, str, Message]] = {
    "deployment-success-rate": ("%", "REL-KPI", msg("Deployment success rate")),
    "deployment-failure-rate": ("%", "REL-KPI", msg("Deployment failure rate")),
    "rollback-rate": ("%", "REL-KPI", msg("Rollback rate")),
    "post-deployment-defect-rate": ("%", "REL-KPI", msg("Post-deployment defect rate")),
    "mttr-minutes": ("min", "REL-KPI", msg("Mean time to recover")),
    "change-on-time-rate": ("%", "CHG-KPI", msg("Change on-time rate")),
    "test-success-rate": ("%", "TST-KPI", msg("Test success rate")),
    "test-coverage": ("%", "TST-KPI", msg("Test coverage")),
    "audit-execution-rate": ("%", "CFG-KPI", msg("Configuration audit execution rate")),
    "configuration-integrity": ("%", "CFG-KPI", msg("Configuration integrity")),
    "configuration-error-detection-rate": (
        "%",
        "CFG-KPI",
        msg("Configuration error detection rate"),
    ),
    "deployment-frequency": ("deployments", "DORA", msg("Deployment frequency")),
    "lead-time-hours": ("h", "DORA", msg("Lead time for changes")),
    "change-failure-rate": ("%", "DORA", msg("Change failure rate")),
    "time-to-restore-minutes": ("min", "DORA", msg("Time to restore service")),
}


# id -> (where the SOP defines it: seed line, formula): the README's KPI table. Each formula
# is the seed's, read over the ledger as `gatekeeper.checks.kpi` says.
KPI_FORMULAS: dict[str, tuple[str, Message]] = {
    "deployment-success-rate": (
        "002:552",
        msg("successful deployments ÷ all deployments × 100"),
    ),
    "deployment-failure-rate": (
        "002:553",
        msg(
            "deployments after which an incident occurred (failed, rolled back, or an incident naming the "
            "deployment or its RFC) ÷ all deployments × 100"
        ),
    ),
    "rollback-rate": (
        "002:554",
        msg("rolled-back deployments ÷ all deployments × 100"),
    ),
    "post-deployment-defect-rate": (
        "002:555",
        msg(
            "defects found after deployment (incidents not opened by a failed deployment) ÷ all deployments "
            "× 100"
        ),
    ),
    "mttr-minutes": (
        "002:556, 1235",
        msg(
            "mean {term} of the incidents resolved: from occurrence to service restored",
            term="장애 시간",  # korean-by-design: the seed's own term, quoted in the English formula too
        ),
    ),
    "change-on-time-rate": (
        "002:391",
        msg(
            "changes whose first successful deployment was by the end of the requested day ÷ change "
            "requests due in the period (deployed or not) × 100"
        ),
    ),
    "test-success-rate": (
        "002:742",
        msg("tests passed ÷ tests run to a verdict (passed, failed, errored) × 100"),
    ),
    "test-coverage": (
        "002:743",
        msg(
            "test cases executed (at most the plan, per kind) ÷ test cases the RFCs deployed plan "
            "(`tests.planned`) × 100"
        ),
    ),
    "audit-execution-rate": (
        "002:1022",
        msg(
            "configuration audits performed (`audit.run`, at most the plan per period) ÷ audits planned "
            "(`audit_plan`) × 100"
        ),
    ),
    "configuration-integrity": (
        "002:1023",
        msg("configuration items intact ÷ items checked by the month's last audit × 100"),
    ),
    "configuration-error-detection-rate": (
        "002:1024",
        msg(
            "configuration errors the audit detected (changed items no RFC explains) ÷ changed items × 100, "
            "of the month's last audit"
        ),
    ),
    "deployment-frequency": ("DORA", msg("successful deployments")),
    "lead-time-hours": (
        "DORA",
        msg("mean hours from commit to successful deployment"),
    ),
    "change-failure-rate": (
        "DORA",
        msg(
            "deployments causing a failure in production ÷ all deployments × 100 (the deployment failure "
            "rate's count)"
        ),
    ),
    "time-to-restore-minutes": ("DORA", msg("MTTR: the same figure")),
}
