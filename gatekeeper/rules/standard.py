"""Standard-change rules (CHG-P1; seed 002 변경관리 자. 1 변경 유형): a standard change is one the
catalogue defines in advance, and it stays inside its entry. When it does not, the gate judges it as a
normal change (CAB, two-step approval, no business hours — `domain.standard.effective_types`); these
findings say why."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gatekeeper.domain import Finding
from gatekeeper.domain.standard import StandardCheck
from gatekeeper.messages import in_language, msg, tr
from gatekeeper.rules import RuleContext


def template_unknown(check: StandardCheck, ctx: RuleContext) -> Iterable[Finding | None]:
    if check.entry is not None:
        return
    if check.catalogue:
        why = msg(
            "its standard_template {template!r} is not an entry of {catalogue}",
            template=check.template,
            catalogue=check.catalogue,
        )
        fix = msg(
            "name an entry of {catalogue} in standard_template, or make {rfc_id} a normal change; a new "
            "standard change is added to the catalogue by its own approved change",
            catalogue=check.catalogue,
            rfc_id=check.rfc_id,
        )
    else:
        why = msg("no standard-change catalogue is configured, so no standard change is defined in advance")
        fix = msg("set `standard_changes.catalogue` in .gatekeeper.yml, or make it a normal change")
    yield ctx.finding(
        "standard.template-unknown",
        subject=check.rfc_id,
        message=tr(
            ctx.lang,
            "RFC {rfc_id} is judged as a normal change: {why}",
            rfc_id=check.rfc_id,
            why=why,
        ),
        remediation=fix.said(ctx.lang),
    )


def out_of_scope(check: StandardCheck, ctx: RuleContext) -> Iterable[Finding | None]:
    if check.entry is None or not check.problems:
        return
    yield ctx.finding(
        "standard.out-of-scope",
        subject=check.rfc_id,
        message=tr(
            ctx.lang,
            "RFC {rfc_id} leaves the standard change {template} ({title}) and is judged as a normal change: "
            "{problems}",
            rfc_id=check.rfc_id,
            template=check.template,
            title=check.entry.title,
            problems="; ".join(in_language(ctx.lang, en, ko) for en, ko in check.problems),
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
