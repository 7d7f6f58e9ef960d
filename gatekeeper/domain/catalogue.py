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

from gatekeeper.messages import msg


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    sop: str
    summary: str
    summary_ko: str
    item: str = ""  # the audit checklist item a finding of this rule at a deployment answers ("": none)


def _catalogue(*rules: RuleInfo) -> dict[str, RuleInfo]:
    return {rule.id: rule for rule in rules}


RULES: dict[str, RuleInfo] = _catalogue(
    RuleInfo(
        "commit.rfc-missing", "CFG-P3", *msg("a commit names no RFC ID").pair, item="configuration.commit-rfc"
    ),
    RuleInfo(
        "commit.rfc-unknown",
        "CHG-P1",
        *msg("the named RFC does not exist").pair,
        item="configuration.commit-rfc",
    ),
    RuleInfo(
        "commit.rfc-inactive",
        "CHG-P1",
        *msg("the named RFC is cancelled or closed").pair,
        item="configuration.commit-rfc",
    ),
    RuleInfo(
        "commit.reason-missing",
        "CFG-P3",
        *msg("the commit gives no reason beyond the ID").pair,
        item="configuration.commit-rfc",
    ),
    RuleInfo(
        "rfc.invalid", "CHG-PLAN", *msg("an RFC file does not validate").pair, item="change.plan-complete"
    ),
    RuleInfo(
        "rfc.rollback-plan-missing",
        "CHG-P4, REL-P4",
        *msg("no rollback plan").pair,
        item="release.rollback-plan",
    ),
    RuleInfo(
        "rfc.test-plan-missing",
        "CHG-PLAN",
        *msg("a software change without a test plan").pair,
        item="change.plan-complete",
    ),
    RuleInfo(
        "window.business-hours",
        "CHG-P3",
        *msg("deployment in business hours (weekdays 09-18 KST)").pair,
        item="change.business-hours",
    ),
    RuleInfo(
        "window.freeze", "-", *msg("deployment inside a configured freeze period").pair, item="change.freeze"
    ),
    RuleInfo(
        "approval.missing",
        "CHG-P3, REL-P1",
        *msg("a required approval step has no approval").pair,
        item="change.approvals",
    ),
    RuleInfo(
        "approval.rejected",
        "CHG-P3",
        *msg("the latest decision on a step is reject").pair,
        item="change.approvals",
    ),
    RuleInfo(
        "approval.self",
        "TST-P3",
        *msg("the approver authored or committed the change").pair,
        item="change.approvals",
    ),
    RuleInfo(
        "approval.same-person", "CHG-P3", *msg("one person approved two steps").pair, item="change.approvals"
    ),
    RuleInfo(
        "approval.unauthorized",
        "CHG-P3",
        *msg("the approver does not hold the step's role").pair,
        item="change.approvals",
    ),
    RuleInfo(
        "approval.out-of-order",
        "CHG-P3",
        *msg("a later step was approved before an earlier one").pair,
        item="change.approvals",
    ),
    RuleInfo(
        "approval.stale",
        "CHG-P3",
        *msg("the RFC changed after it was approved").pair,
        item="change.approvals",
    ),
    RuleInfo(
        "approval.other-commit",
        "REL-P1",
        *msg("a release step was approved for another commit than the one deployed (or named none)").pair,
        item="change.approvals",
    ),
    RuleInfo(
        "approval.other-artifact",
        "REL-P1",
        *msg(
            "a release step approved another build of an artefact being deployed (compared "
            "where both name it)"
        ).pair,
        item="change.approvals",
    ),
    RuleInfo(
        "approval.before-evidence",
        "REL-P1",
        *msg(
            "a release step was approved before the test evidence it certifies existed for "
            "the deployed commit"
        ).pair,
        item="change.approvals",
    ),
    RuleInfo(
        "approval.unattested",
        "CHG-P3",
        *msg("an approval lacks the CI platform's verified attestation where the pack recommends one").pair,
        item="change.approvals",
    ),
    RuleInfo(
        "cab.missing",
        "CHG-P3",
        *msg("a change needing CAB review has no CAB decision").pair,
        item="change.approvals",
    ),
    RuleInfo(
        "approval.quorum",
        "CHG-P3",
        *msg("a step the pack gives a quorum (a CAB's N of M) has fewer members' approvals that count").pair,
        item="change.approvals",
    ),
    RuleInfo(
        "tests.missing",
        "REL-P1, REL-P3",
        *msg("required test evidence is absent").pair,
        item="release.tested",
    ),
    RuleInfo(
        "tests.failed", "REL-P1", *msg("evidence shows failing or erroring tests").pair, item="release.tested"
    ),
    RuleInfo(
        "tests.below-threshold",
        "TST-KPI",
        *msg("success rate below the policy threshold").pair,
        item="release.tested",
    ),
    RuleInfo(
        "tests.stale",
        "REL-P1",
        *msg("evidence was produced for another commit, or not by a job shown to run on this one").pair,
        item="release.tested",
    ),
    RuleInfo(
        "tests.unattested",
        "REL-P1",
        *msg(
            "ledger test evidence lacks the signature of a CI job on the deployed commit "
            "where the pack recommends one"
        ).pair,
        item="release.tested",
    ),
    RuleInfo(
        "tests.performance-missing",
        "TST-PERF",
        *msg("performance impact without performance evidence").pair,
        item="release.tested",
    ),
    RuleInfo(
        "deploy.concurrent",
        "seed 003",
        *msg("another deployment of this system is in progress").pair,
        item="release.exclusive",
    ),
    RuleInfo(
        "calendar.collision",
        "seed 003, CHG-P3",
        *msg(
            "two changes of one system, configuration item or linked systems are planned for the same time"
        ).pair,
        item="release.exclusive",
    ),
    RuleInfo(
        "deploy.sequence",
        "CHG-PLAN",
        *msg(
            "a system of a multi-system RFC is deployed before every system listed before it "
            "finished its deployment successfully"
        ).pair,
        item="release.sequential",
    ),
    RuleInfo(
        "deploy.unattested",
        "CHG-P2, seed 003",
        *msg(
            "a deployment's start or result record lacks the signature of a CI job of its "
            "system's repository (where the pack requires one it counts for nothing: a "
            "forged result releases no lock; where it recommends one, a warning)"
        ).pair,
        item="release.exclusive",
    ),
    RuleInfo(
        "deploy.pir-overdue",
        "CHG-P3",
        *msg("an earlier change's PIR is past its deadline").pair,
        item="change.pir",
    ),
    RuleInfo(
        "deploy.retro-review-overdue",
        "CHG-P1",
        *msg("an emergency change lacks its after-the-fact approval").pair,
        item="change.emergency-review",
    ),
    RuleInfo(
        "integration.notice-missing",
        "REL-NOTICE",
        *msg("linked systems affected and no prior notice recorded").pair,
        item="release.notice",
    ),
    # Closing the release and the change (seed 002 배포관리 3.1–4.3, 변경관리 4.2): additive.
    RuleInfo(
        "release.acceptance-overdue",
        "REL-P3",
        *msg(
            "an earlier deployment has no acceptance test by its requester past the pack's closure deadline"
        ).pair,
        item="release.acceptance",
    ),
    RuleInfo(
        "release.production-tests-overdue",
        "TST-P5",
        *msg(
            "an earlier deployment has no passing unit/integration test in production bound "
            "to it past the pack's closure deadline"
        ).pair,
        item="release.production-tests",
    ),
    RuleInfo(
        "release.closure-overdue",
        "REL-CONSISTENCY",
        *msg(
            "an earlier deployment was not reviewed for consistency and closed past the "
            "pack's closure deadline"
        ).pair,
        item="release.closure",
    ),
    RuleInfo(
        "baseline.drift",
        "CFG-P1",
        *msg("configuration items drifted from the baseline without an RFC").pair,
        item="configuration.baseline",
    ),
    RuleInfo("gate.error", "-", *msg("a fact could not be gathered; the gate fails closed").pair),
    # -- the RFC against its deployment, and standard changes (issue 17) --------------------------------
    RuleInfo(
        "rfc.inactive",
        "CHG-P1",
        *msg("the RFC deployed is cancelled, closed or a draft").pair,
        item="change.rfc-registered",
    ),
    RuleInfo(
        "rfc.other-system",
        "CHG-P1",
        *msg("the RFC deployed does not name the system deployed").pair,
        item="change.rfc-registered",
    ),
    RuleInfo(
        "rfc.outside-window",
        "CHG-PLAN",
        *msg("deployment outside the work window of the RFC's approved plan").pair,
        item="change.as-planned",
    ),
    RuleInfo(
        "standard.template-unknown",
        "CHG-P1",
        *msg("a standard change names no entry of the standard-change catalogue (judged as normal)").pair,
        item="change.standard-defined",
    ),
    RuleInfo(
        "standard.out-of-scope",
        "CHG-P1",
        *msg("a standard change leaves its catalogue entry (judged as normal)").pair,
        item="change.standard-defined",
    ),
    # Incidents and problems (SOP CHG-P1 emergency changes, INC, PRB): additive.
    RuleInfo(
        "emergency.incident-unknown",
        "CHG-P1, INC",
        *msg("an emergency change names no incident recorded by the pipeline or an incident role").pair,
        item="change.emergency-incident",
    ),
    RuleInfo(
        "incident.report-missing",
        "INC",
        *msg("a grade 1-2 incident lasted 30 minutes without an intermediate report").pair,
        item="incident.reported",
    ),
    RuleInfo(
        "incident.problem-missing",
        "PRB",
        *msg("an incident closed with its cause unknown is not in problem management").pair,
        item="incident.problem",
    ),
    # Governance changes (DESIGN §1: configuration from the protected default branch): additive.
    RuleInfo(
        "config.changed",
        "CFG-P3, CHG-P1",
        *msg(
            "the change alters governance files (configuration, policy pack, CI files, "
            "CODEOWNERS) its RFC does not declare, or not as a normal change"
        ).pair,
        item="configuration.governance",
    ),
)

# Audit checklist items (SOP.md audit checklists for CHG, REL, TST, CFG), answered by `gatekeeper audit`.
# id -> (area, SOP clause, question en, question ko). The order is the order of the report.
CHECKLIST: dict[str, tuple[str, str, str, str]] = {
    "change.rfc-registered": (
        "change",
        "CHG-P1",
        "Did every deployment name a registered change request (RFC)?",
        "모든 배포에 등록된 변경요청서(RFC)가 있는가?",
    ),
    "change.plan-complete": (
        "change",
        "CHG-PLAN",
        "Was every deployed change plan complete (reason, work plan, rollback plan, test plan for software)?",
        "배포된 변경계획서가 완전한가 (사유, 작업계획, 원상복구계획, 소프트웨어 변경의 테스트계획)?",
    ),
    "change.approvals": (
        "change",
        "CHG-P3",
        "Did every deployment have its required approvals, in order, before it started?",
        "모든 배포가 시작 전에 필요한 승인을 순서대로 받았는가?",
    ),
    "change.business-hours": (
        "change",
        "CHG-P3",
        "Was every change that the pack keeps out of business hours (weekdays 09–18 on business days) "
        "deployed outside them?",
        "업무시간(업무일 평일 09~18시) 배포가 제한되는 변경이 모두 업무시간 외에 배포되었는가?",
    ),
    "change.freeze": (
        "change",
        "CHG-P3",
        "Was every deployment made outside the freeze periods the pack and the configuration set?",
        "모든 배포가 배포 동결 기간 밖에서 이루어졌는가?",
    ),
    "change.as-planned": (
        "change",
        "CHG-PLAN",
        "Was every change deployed inside the work window its approved change plan set?",
        "모든 변경이 승인된 변경계획의 작업 예정 시간 안에 배포되었는가?",
    ),
    "change.standard-defined": (
        "change",
        "CHG-P1",
        "Was every standard change one the standard-change catalogue defines in advance, kept inside its "
        "entry (otherwise judged as a normal change)?",
        "모든 단순변경이 단순변경 목록에 사전 정의된 변경이며 그 범위 안에서 수행되었는가 "
        "(아니면 일반변경으로 처리되었는가)?",
    ),
    "change.emergency-review": (
        "change",
        "CHG-P1",
        "Was every emergency change reviewed and approved after the fact within its deadline?",
        "모든 긴급변경이 기한 내에 사후 검토·승인되었는가?",
    ),
    "change.pir": (
        "change",
        "CHG-P3",
        "Did every CAB-reviewed change that needs one get its post-implementation review (PIR)?",
        "변경관리위원회 심의를 거친 변경에 대해 이행 후 검토(PIR)를 수행하였는가?",
    ),
    "change.history-recorded": (
        "change",
        "CHG-P2",
        "Is the result of every deployment, including failed ones, recorded?",
        "실패를 포함한 모든 배포의 결과가 기록되었는가?",
    ),
    "release.tested": (
        "release",
        "REL-P1",
        "Did every deployment have passing test evidence recorded before it started?",
        "모든 배포 전에 테스트를 통과한 결과가 기록되었는가?",
    ),
    "release.rollback-plan": (
        "release",
        "REL-P4",
        "Did every deployment have a rollback plan?",
        "모든 배포에 원상복구계획이 있었는가?",
    ),
    "release.notice": (
        "release",
        "REL-NOTICE",
        "Was a prior notice recorded before every deployment of a change that affects linked systems or "
        "agencies?",
        "연계시스템·기관에 영향을 주는 변경의 배포 전에 사전 공지가 기록되었는가?",
    ),
    "release.exclusive": (
        "release",
        "seed 003",
        "Was every deployment started while no other deployment of its system and environment was open?",
        "모든 배포가 같은 시스템·환경의 다른 배포가 진행 중이지 않을 때 시작되었는가?",
    ),
    "release.sequential": (
        "release",
        "CHG-PLAN",
        "Was every change deployed to several systems deployed to them one after another, each after the "
        "previous one succeeded?",
        "여러 시스템에 배포하는 변경을 앞 시스템의 배포가 성공한 뒤 순서대로 배포하였는가?",
    ),
    "release.failure-incident": (
        "release",
        "REL-P4",
        "Was every failed or rolled-back deployment escalated to an incident record?",
        "실패하거나 원상복구된 모든 배포가 장애로 등록되었는가?",
    ),
    # Closing the release and the change (seed 002 배포관리 3.1–4.3, 변경관리 4.2): additive.
    "release.acceptance": (
        "release",
        "REL-P3",
        "Did the requester run and record the acceptance test of every successful deployment to production "
        "after it finished?",
        "운영 배포가 끝난 뒤 요청자가 인수테스트를 수행하고 기록하였는가?",
    ),
    "release.production-tests": (
        "test",
        "TST-P5",
        "Was every successful deployment to production verified there by passing unit and integration "
        "(linked-system) tests bound to it?",
        "운영 배포마다 운영환경 단위·통합(연계) 테스트를 수행하여 통과하였는가?",
    ),
    "release.closure": (
        "release",
        "REL-CONSISTENCY",
        "Was every successful deployment to production checked for consistency of change plan, release plan "
        "and result, and the release and the change closed by the agency officer?",
        "운영 배포마다 변경계획·배포계획·배포결과의 일치성을 검토하고 운영기관 담당자가 배포와 변경을 "
        "종료하였는가?",
    ),
    "test.success-rate": (
        "test",
        "TST-KPI",
        "Does the recorded test success rate meet the pack's threshold?",
        "기록된 테스트 성공률이 기준을 충족하는가?",
    ),
    "test.recorded": (
        "test",
        "TST-P4",
        "Does every test record name the commit tested, the test kind and the counts?",
        "모든 테스트 기록에 대상 커밋, 테스트 종류, 결과 건수가 있는가?",
    ),
    "configuration.commit-rfc": (
        "configuration",
        "CFG-P3",
        "Does every commit name its change request ID?",
        "모든 커밋(체크인)에 변경요청ID가 기록되었는가?",
    ),
    "configuration.baseline": (
        "configuration",
        "CFG-P1",
        "Is a configuration baseline recorded and current (no change without an RFC)?",
        "형상 베이스라인이 등록되어 있고 최신인가 (변경요청 없는 변경이 없는가)?",
    ),
    "configuration.ledger-integrity": (
        "configuration",
        "CHG-P2",
        "Is the change and deployment ledger intact (hash chain verifies)?",
        "변경·배포 원장이 위변조 없이 보존되었는가 (해시 체인 검증)?",
    ),
    # Incidents and problems (SOP CHG-P1, INC, PRB): additive.
    "change.emergency-incident": (
        "change",
        "CHG-P1, INC",
        "Did every emergency change fix an incident recorded by the pipeline or by someone holding an "
        "incident role?",
        "모든 긴급변경이 파이프라인 또는 장애 담당 역할자가 등록한 장애를 조치하는 변경이었는가?",
    ),
    "incident.reported": (
        "release",
        "INC",
        "Was every grade 1-2 incident that lasted 30 minutes reported at an intermediate step?",
        "30분 이상 지속된 1~2등급 장애마다 중간보고가 기록되었는가?",
    ),
    "incident.problem": (
        "release",
        "PRB",
        "Was every incident closed with its cause unknown registered in problem management?",
        "원인 불명으로 종료된 장애가 모두 문제관리에 등록되었는가?",
    ),
    "configuration.governance": (
        "configuration",
        "CFG-P3, CHG-P1",
        "Was every change of the governance files (configuration, policy pack, CI files, CODEOWNERS) "
        "declared by its RFC and approved as a normal change?",
        "거버넌스 파일(설정, 정책팩, CI 파일, CODEOWNERS)의 모든 변경이 변경요청서에 선언되고 일반변경으로 "
        "승인되었는가?",
    ),
}

# id -> (unit, SOP clause, label en, label ko). The order is the order of every report.
KPI_CATALOGUE: dict[str, tuple[str, str, str, str]] = {
    "deployment-success-rate": ("%", "REL-KPI", "Deployment success rate", "배포 성공률"),
    "deployment-failure-rate": ("%", "REL-KPI", "Deployment failure rate", "배포 실패율"),
    "rollback-rate": ("%", "REL-KPI", "Rollback rate", "원상복구율"),
    "post-deployment-defect-rate": ("%", "REL-KPI", "Post-deployment defect rate", "배포 후 결함률"),
    "mttr-minutes": ("min", "REL-KPI", "Mean time to recover", "평균 복구 시간"),
    "change-on-time-rate": ("%", "CHG-KPI", "Change on-time rate", "변경 적기 처리율"),
    "test-success-rate": ("%", "TST-KPI", "Test success rate", "테스트 성공률"),
    "test-coverage": ("%", "TST-KPI", "Test coverage", "테스트 커버리지"),
    "audit-execution-rate": ("%", "CFG-KPI", "Configuration audit execution rate", "형상감사 수행률"),
    "configuration-integrity": ("%", "CFG-KPI", "Configuration integrity", "형상 무결성"),
    "configuration-error-detection-rate": (
        "%",
        "CFG-KPI",
        "Configuration error detection rate",
        "형상 오류 탐지율",
    ),
    "deployment-frequency": ("deployments", "DORA", "Deployment frequency", "배포 빈도"),
    "lead-time-hours": ("h", "DORA", "Lead time for changes", "변경 리드타임"),
    "change-failure-rate": ("%", "DORA", "Change failure rate", "변경 실패율"),
    "time-to-restore-minutes": ("min", "DORA", "Time to restore service", "서비스 복구 시간"),
}


# id -> (where the SOP defines it: seed line, formula en, formula ko): the README's KPI table. Each formula
# is the seed's, read over the ledger as `gatekeeper.checks.kpi` says.
KPI_FORMULAS: dict[str, tuple[str, str, str]] = {
    "deployment-success-rate": (
        "002:552",
        "successful deployments ÷ all deployments × 100",
        "(성공한 배포 수 / 전체 배포 수) × 100",
    ),
    "deployment-failure-rate": (
        "002:553",
        "deployments after which an incident occurred (failed, rolled back, or an incident naming the "
        "deployment or its RFC) ÷ all deployments × 100",
        "(장애 발생 배포 수 / 전체 배포 수) × 100: 실패·원상복구한 배포와, 그 배포나 RFC를 가리키는 장애가 "
        "발생한 배포",
    ),
    "rollback-rate": (
        "002:554",
        "rolled-back deployments ÷ all deployments × 100",
        "(롤백 배포 수 / 전체 배포 수) × 100",
    ),
    "post-deployment-defect-rate": (
        "002:555",
        "defects found after deployment (incidents not opened by a failed deployment) ÷ all deployments "
        "× 100",
        "(배포 후 발견된 결함 수 / 전체 배포 수) × 100: 결함은 실패한 배포가 연 것이 아닌 장애",
    ),
    "mttr-minutes": (
        "002:556, 1235",
        "mean 장애 시간 of the incidents resolved: from occurrence to service restored",
        "장애 발생 시간 ~ 정상화 시간의 평균 (장애 시간)",
    ),
    "change-on-time-rate": (
        "002:391",
        "changes whose first successful deployment was by the end of the requested day ÷ change requests due "
        "in the period (deployed or not) × 100",
        "(목표시간내 변경 건수 ÷ 변경 요청 건수) × 100: 요청일이 기간에 든 모든 변경 요청(미배포 포함)",
    ),
    "test-success-rate": (
        "002:742",
        "tests passed ÷ tests run to a verdict (passed, failed, errored) × 100",
        "(성공 테스트 수 / 전체 테스트 수) × 100",
    ),
    "test-coverage": (
        "002:743",
        "test cases executed (at most the plan, per kind) ÷ test cases the RFCs deployed plan "
        "(`tests.planned`) × 100",
        "(테스트 수행 가능 수 / 전체 기능 수) × 100: RFC가 계획한 테스트 케이스(`tests.planned`) 대비 "
        "수행 증적",
    ),
    "audit-execution-rate": (
        "002:1022",
        "configuration audits performed (`audit.run`, at most the plan per period) ÷ audits planned "
        "(`audit_plan`) × 100",
        "(실제 수행된 검사 횟수 / 계획된 검사 횟수) × 100: 계획은 `audit_plan`",
    ),
    "configuration-integrity": (
        "002:1023",
        "configuration items intact ÷ items checked by the month's last audit × 100",
        "(무결성이 확인된 형상 수 / 전체 변경 형상 수) × 100",
    ),
    "configuration-error-detection-rate": (
        "002:1024",
        "configuration errors the audit detected (changed items no RFC explains) ÷ changed items × 100, of "
        "the month's last audit",
        "(탐지된 오류 수 / 전체 변경 항목 수) × 100: 월 마지막 감사 기준",
    ),
    "deployment-frequency": ("DORA", "successful deployments", "성공한 배포 수"),
    "lead-time-hours": (
        "DORA",
        "mean hours from commit to successful deployment",
        "커밋부터 성공한 배포까지의 평균 시간",
    ),
    "change-failure-rate": (
        "DORA",
        "deployments causing a failure in production ÷ all deployments × 100 (the deployment failure rate's "
        "count)",
        "운영 장애를 일으킨 배포 수 ÷ 전체 배포 수 × 100 (배포 장애율과 같은 건수)",
    ),
    "time-to-restore-minutes": ("DORA", "MTTR: the same figure", "MTTR과 같은 값"),
}
