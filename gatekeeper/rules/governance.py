"""The governance rule (CFG-P3, CHG-P1): a change that alters the files deciding how changes are governed
says so in its RFC and goes through the normal change procedure, judged by the configuration it replaces.
`check-commits` asks it of each commit, the gate of the whole deployment (`domain.governance`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gatekeeper.domain import Finding
from gatekeeper.domain.governance import GovernanceChange, judge_governance
from gatekeeper.rules import RuleContext

_LISTED = 5


def _listed(paths: tuple[str, ...]) -> str:
    shown = ", ".join(paths[:_LISTED])
    return shown + (f" (+{len(paths) - _LISTED})" if len(paths) > _LISTED else "")


def config_changed(change: GovernanceChange, ctx: RuleContext) -> Iterable[Finding | None]:
    judgement = judge_governance(change)
    if judgement.holds:
        return
    ids = ", ".join(e.id for e in change.rfcs) or "-"
    under_en = f" (the decision uses the configuration of {change.base})" if change.base else ""
    under_ko = f" (판단은 {change.base}의 설정으로 합니다)" if change.base else ""
    what_en = f"commit {change.commit[:10]}" if change.commit else "the change"
    what_ko = f"커밋 {change.commit[:10]}" if change.commit else "이 변경"
    if judgement.undeclared:
        listed = _listed(judgement.undeclared)
        yield ctx.finding(
            "config.changed",
            subject=change.commit[:10] or judgement.undeclared[0],
            message=ctx.text(
                f"{what_en} alters governance files its RFC does not declare: {listed}{under_en}",
                f"{what_ko}에서 변경요청서에 선언되지 않은 거버넌스 파일을 변경합니다: {listed}{under_ko}",
            ),
            remediation=ctx.text(
                f"name them in `governance_files` of the RFC ({ids}) and have it approved as a normal "
                "change, or take the edit out of this change",
                f"변경요청서({ids})의 `governance_files`에 명시하고 일반변경으로 승인받거나, 이 변경에서 "
                "해당 수정을 제외하세요",
            ),
        )
    for rfc_id in judgement.not_normal:
        yield ctx.finding(
            "config.changed",
            subject=rfc_id,
            message=ctx.text(
                f"RFC {rfc_id} is not a normal change but {what_en} alters the governance files "
                f"{_listed(change.paths)}{under_en}",
                f"변경요청 {rfc_id}는 일반변경이 아닌데 {what_ko}에서 거버넌스 파일"
                f"({_listed(change.paths)})을 변경합니다{under_ko}",
            ),
            remediation=ctx.text(
                "a change of the governance is a normal change (CAB and ordered approvals): make the RFC "
                "normal, or split the governance edit into its own normal change",
                "거버넌스 변경은 일반변경(변경관리위원회, 순차 승인)입니다. 변경요청을 일반변경으로 하거나 "
                "거버넌스 수정을 별도의 일반변경으로 분리하세요",
            ),
        )


GOVERNANCE_RULES: dict[str, Callable[[GovernanceChange, RuleContext], Iterable[Finding | None]]] = {
    "config.changed": config_changed,
}
