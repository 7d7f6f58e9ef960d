"""Standard-change rules (CHG-P1; seed 002 변경관리 자. 1 변경 유형): a standard change is one the
catalogue defines in advance, and it stays inside its entry. When it does not, the gate judges it as a
normal change (CAB, two-step approval, no business hours — `domain.standard.effective_types`); these
findings say why."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gatekeeper.domain import Finding
from gatekeeper.domain.standard import StandardCheck
from gatekeeper.messages import in_language, tr
from gatekeeper.rules import RuleContext


def template_unknown(check: StandardCheck, ctx: RuleContext) -> Iterable[Finding | None]:
    if check.entry is not None:
        return
    if check.catalogue:
        why_en = f"its standard_template {check.template!r} is not an entry of {check.catalogue}"
        why_ko = f"standard_template {check.template!r}이(가) {check.catalogue}에 정의되어 있지 않습니다"
        fix_en = (
            f"name an entry of {check.catalogue} in standard_template, or make {check.rfc_id} a normal "
            "change; a new standard change is added to the catalogue by its own approved change"
        )
        fix_ko = (
            f"standard_template에 {check.catalogue}의 항목을 지정하거나 일반변경으로 진행하세요. "
            "새 단순변경은 승인된 변경으로 목록에 추가합니다"
        )
    else:
        why_en = "no standard-change catalogue is configured, so no standard change is defined in advance"
        why_ko = "단순변경 목록이 설정되어 있지 않아 사전에 정의된 단순변경이 없습니다"
        fix_en = "set `standard_changes.catalogue` in .gatekeeper.yml, or make it a normal change"
        fix_ko = ".gatekeeper.yml의 `standard_changes.catalogue`를 설정하거나 일반변경으로 진행하세요"
    yield ctx.finding(
        "standard.template-unknown",
        subject=check.rfc_id,
        message=tr(
            ctx.lang,
            "RFC {rfc_id} is judged as a normal change: {why_en}",
            rfc_id=check.rfc_id,
            why_en=why_en,
            why_ko=why_ko,
        ),
        remediation=in_language(ctx.lang, fix_en, fix_ko),
    )


def out_of_scope(check: StandardCheck, ctx: RuleContext) -> Iterable[Finding | None]:
    if check.entry is None or not check.problems:
        return
    yield ctx.finding(
        "standard.out-of-scope",
        subject=check.rfc_id,
        message=in_language(
            ctx.lang,
            f"RFC {check.rfc_id} leaves the standard change {check.template} ({check.entry.title}) and is "
            f"judged as a normal change: " + "; ".join(en for en, _ in check.problems),
            f"변경요청 {check.rfc_id}는 단순변경 {check.template}({check.entry.title})의 범위를 벗어나 "
            "일반변경으로 판단됩니다: " + "; ".join(ko for _, ko in check.problems),
        ),
        remediation=tr(
            ctx.lang,
            "keep the change inside its catalogue entry (split it), or follow the normal change procedure",
        ),
    )


STANDARD_RULES: dict[str, Callable[[StandardCheck, RuleContext], Iterable[Finding | None]]] = {
    "standard.template-unknown": template_unknown,
    "standard.out-of-scope": out_of_scope,
}
