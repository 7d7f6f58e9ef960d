"""RFC rules (CHG-PLAN, CHG-P4, REL-P4): the RFC validates, and its plans are real plans."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gatekeeper.config.models import PlanPolicy
from gatekeeper.domain import Finding
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.rules import RuleContext


def is_real_plan(text: str, plans: PlanPolicy) -> bool:
    """A plan is real when it is not a placeholder ("N/A", "-", "TBD", "없음") and has some substance."""
    stripped = " ".join(text.split())
    if stripped.casefold().strip(" .") in {p.casefold() for p in plans.placeholders}:
        return False
    return len(stripped) >= plans.min_chars


def rfc_invalid(entry: RfcEntry, ctx: RuleContext) -> Iterable[Finding | None]:
    if entry.rfc is None:
        yield ctx.finding(
            "rfc.invalid",
            subject=entry.id,
            message=ctx.text(
                f"RFC {entry.id} does not validate: {entry.error}",
                f"변경요청서 {entry.id} 형식 오류: {entry.error}",
            ),
            remediation=ctx.text(
                f"fix {entry.where}; `gatekeeper rfc validate {entry.id}` shows every error",
                f"{entry.where} 파일을 수정하세요. "
                f"`gatekeeper rfc validate {entry.id}`로 오류를 확인할 수 있습니다",
            ),
        )


def rollback_plan(entry: RfcEntry, ctx: RuleContext) -> Iterable[Finding | None]:
    if entry.rfc is not None and not is_real_plan(entry.rfc.rollback_plan, ctx.policy.plans):
        yield ctx.finding(
            "rfc.rollback-plan-missing",
            subject=entry.id,
            message=ctx.text(
                f"RFC {entry.id} has no real rollback plan",
                f"변경요청서 {entry.id}에 원상복구계획이 없습니다",
            ),
            remediation=ctx.text(
                f"describe in `rollback_plan` of {entry.where} how to restore the previous version and check "
                f"data consistency (at least {ctx.policy.plans.min_chars} characters, not a placeholder)",
                f"{entry.where}의 `rollback_plan`에 이전 버전 복구 및 데이터 정합성 확인 절차를 작성하세요",
            ),
        )


def test_plan(entry: RfcEntry, ctx: RuleContext) -> Iterable[Finding | None]:
    if (
        entry.rfc is not None
        and entry.rfc.software
        and not is_real_plan(entry.rfc.test_plan, ctx.policy.plans)
    ):
        yield ctx.finding(
            "rfc.test-plan-missing",
            subject=entry.id,
            message=ctx.text(
                f"RFC {entry.id} is a software change without a real test plan",
                f"변경요청서 {entry.id}는 소프트웨어 변경이지만 테스트계획이 없습니다",
            ),
            remediation=ctx.text(
                f"write the test cases and scenarios in `test_plan` of {entry.where}",
                f"{entry.where}의 `test_plan`에 테스트 케이스와 시나리오를 작성하세요",
            ),
        )


RFC_RULES: dict[str, Callable[[RfcEntry, RuleContext], Iterable[Finding | None]]] = {
    "rfc.invalid": rfc_invalid,
    "rfc.rollback-plan-missing": rollback_plan,
    "rfc.test-plan-missing": test_plan,
}


def check_rfc(entry: RfcEntry, ctx: RuleContext) -> list[Finding]:
    return [f for rule in RFC_RULES.values() for f in rule(entry, ctx) if f is not None]
