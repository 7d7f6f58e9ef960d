"""The rule catalogue (DESIGN §4, contract): every rule ID, the SOP clause it cites and what it checks.

Rule IDs are never renamed or renumbered. The README's rule table is generated from this mapping and a
test keeps the two in sync.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    sop: str
    summary: str
    summary_ko: str


def _catalogue(*rules: RuleInfo) -> dict[str, RuleInfo]:
    return {rule.id: rule for rule in rules}


RULES: dict[str, RuleInfo] = _catalogue(
    RuleInfo("commit.rfc-missing", "CFG-P3", "a commit names no RFC ID", "커밋에 변경요청ID가 없음"),
    RuleInfo("commit.rfc-unknown", "CHG-P1", "the named RFC does not exist", "변경요청서가 존재하지 않음"),
    RuleInfo(
        "commit.rfc-inactive", "CHG-P1", "the named RFC is cancelled or closed", "변경요청이 취소·종료됨"
    ),
    RuleInfo(
        "commit.reason-missing", "CFG-P3", "the commit gives no reason beyond the ID", "변경 사유가 없음"
    ),
    RuleInfo("rfc.invalid", "CHG-PLAN", "an RFC file does not validate", "변경요청서 형식 오류"),
    RuleInfo("rfc.rollback-plan-missing", "CHG-P4, REL-P4", "no rollback plan", "원상복구계획 없음"),
    RuleInfo("rfc.test-plan-missing", "CHG-PLAN", "a software change without a test plan", "테스트계획 없음"),
    RuleInfo(
        "window.business-hours",
        "CHG-P3",
        "deployment in business hours (weekdays 09-18 KST)",
        "업무시간 배포",
    ),
    RuleInfo("window.freeze", "-", "deployment inside a configured freeze period", "배포 동결 기간"),
    RuleInfo("approval.missing", "CHG-P3, REL-P1", "a required approval step has no approval", "승인 누락"),
    RuleInfo("approval.rejected", "CHG-P3", "the latest decision on a step is reject", "승인 반려"),
    RuleInfo("approval.self", "TST-P3", "the approver authored or committed the change", "본인 승인"),
    RuleInfo("approval.same-person", "CHG-P3", "one person approved two steps", "동일인 2단계 승인"),
    RuleInfo(
        "approval.unauthorized", "CHG-P3", "the approver does not hold the step's role", "권한 없는 승인"
    ),
    RuleInfo(
        "approval.out-of-order", "CHG-P3", "a later step was approved before an earlier one", "승인 순서 위반"
    ),
    RuleInfo("approval.stale", "CHG-P3", "the RFC changed after it was approved", "승인 후 변경요청서 수정"),
    RuleInfo(
        "cab.missing", "CHG-P3", "a change needing CAB review has no CAB decision", "변경관리위원회 심의 누락"
    ),
    RuleInfo("tests.missing", "REL-P1, REL-P3", "required test evidence is absent", "테스트 결과 없음"),
    RuleInfo("tests.failed", "REL-P1", "evidence shows failing or erroring tests", "테스트 실패"),
    RuleInfo(
        "tests.below-threshold", "TST-KPI", "success rate below the policy threshold", "테스트 성공률 미달"
    ),
    RuleInfo("tests.stale", "REL-P1", "evidence was produced for another commit", "다른 커밋의 테스트 결과"),
    RuleInfo(
        "tests.performance-missing",
        "TST-PERF",
        "performance impact without performance evidence",
        "성능시험 누락",
    ),
    RuleInfo(
        "deploy.concurrent", "seed 003", "another deployment of this system is in progress", "동시 배포"
    ),
    RuleInfo(
        "deploy.pir-overdue", "CHG-P3", "an earlier change's PIR is past its deadline", "이행 후 검토 지연"
    ),
    RuleInfo(
        "deploy.retro-review-overdue",
        "CHG-P1",
        "an emergency change lacks its after-the-fact approval",
        "긴급변경 사후승인 지연",
    ),
    RuleInfo(
        "integration.notice-missing",
        "REL-NOTICE",
        "linked systems affected and no prior notice recorded",
        "연계기관 사전공지 누락",
    ),
    RuleInfo(
        "baseline.drift",
        "CFG-P1",
        "configuration items drifted from the baseline without an RFC",
        "형상 불일치",
    ),
    RuleInfo("gate.error", "-", "a fact could not be gathered; the gate fails closed", "확인 불가(차단)"),
)
