"""RFC rules (CHG-PLAN, CHG-P4, REL-P4): the RFC validates, and its plans are real plans; and, against the
deployment (CHG-P1, CHG-PLAN): the RFC is active, names the system deployed, and is deployed in the window
its approved plan gives (seed 002 변경관리 3.3: "승인된 운영환경 반영계획에 따라")."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from gatekeeper.config.models import PlanPolicy
from gatekeeper.domain import Finding, RfcStatus
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.domain.schedule import local_text, parse_window, window_start
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
                f"변경요청서 {entry.id} 형식 오류: {entry.error_ko or entry.error}",
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


# -- the RFC against the deployment it is deployed by (status, systems, planned window) ----------------


@dataclass(frozen=True, slots=True)
class DeployTarget:
    """What a deployment is: the system deployed, and when (aware; None when the calendar could not say,
    which the gate reports as `gate.error`)."""

    system: str
    at: datetime | None
    timezone: str


def inactive(entry: RfcEntry, target: DeployTarget, ctx: RuleContext) -> Iterable[Finding | None]:
    if entry.rfc is None or entry.rfc.status is RfcStatus.ACTIVE:
        return
    yield ctx.finding(
        "rfc.inactive",
        subject=entry.id,
        message=ctx.text(
            f"RFC {entry.id} is {entry.rfc.status}: only an active change request is deployed",
            f"변경요청 {entry.id}의 상태가 {entry.rfc.status}입니다. 진행 중(active)인 변경요청만 배포할 수 "
            "있습니다",
        ),
        remediation=ctx.text(
            f"deploy under an active RFC; a cancelled or closed change is reopened as a new RFC, a draft is "
            f"set to `status: active` in {entry.where} once it is complete",
            f"진행 중인 변경요청으로 배포하세요. 취소·종료된 변경은 새 변경요청으로 등록하고, 작성 중인 "
            f"변경요청은 완성 후 {entry.where}에서 `status: active`로 바꾸세요",
        ),
    )


def other_system(entry: RfcEntry, target: DeployTarget, ctx: RuleContext) -> Iterable[Finding | None]:
    if entry.rfc is None or target.system in entry.rfc.systems:
        return
    named = ", ".join(entry.rfc.systems)
    yield ctx.finding(
        "rfc.other-system",
        subject=entry.id,
        message=ctx.text(
            f"RFC {entry.id} changes {named}, not {target.system}, which is being deployed",
            f"변경요청 {entry.id}의 대상 시스템은 {named}이며 배포 대상 {target.system}이(가) 아닙니다",
        ),
        remediation=ctx.text(
            f"deploy {target.system} under an RFC that names it in `systems`",
            f"`systems`에 {target.system}을(를) 명시한 변경요청으로 배포하세요",
        ),
    )


def outside_window(entry: RfcEntry, target: DeployTarget, ctx: RuleContext) -> Iterable[Finding | None]:
    if entry.rfc is None or target.at is None:
        return
    window = parse_window(entry.rfc.schedule.window)
    if window is None or window.contains(target.at, ZoneInfo(target.timezone)):
        return
    zone = ZoneInfo(target.timezone)
    planned, at = window.describe(target.timezone), local_text(target.at, zone)
    next_start = local_text(window_start(window, target.at, zone), zone)
    yield ctx.finding(
        "rfc.outside-window",
        subject=entry.id,
        message=ctx.text(
            f"RFC {entry.id} plans its work for {planned}; deploying at {at} departs from the approved plan",
            f"변경요청 {entry.id}의 작업 예정 시간은 {planned}이며 {at} 배포는 승인된 계획과 다릅니다",
        ),
        remediation=ctx.text(
            f"deploy inside the planned window (next start {next_start}), or change `schedule.window` in "
            f"{entry.where} and have the change approved again",
            f"예정 시간 안에 배포하거나 {entry.where}의 `schedule.window`를 수정한 뒤 다시 승인받으세요",
        ),
    )


TARGET_RULES: dict[str, Callable[[RfcEntry, DeployTarget, RuleContext], Iterable[Finding | None]]] = {
    "rfc.inactive": inactive,
    "rfc.other-system": other_system,
    "rfc.outside-window": outside_window,
}
