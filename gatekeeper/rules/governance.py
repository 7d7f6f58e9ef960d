"""The governance rule (CFG-P3, CHG-P1): a change that alters the files deciding how changes are governed
says so in its RFC and goes through the normal change procedure, judged by the configuration it replaces.
`check-commits` asks it of each commit, the gate of the whole deployment (`domain.governance`)."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gatekeeper.domain import Finding
from gatekeeper.domain.governance import GovernanceChange, judge_governance
from gatekeeper.messages import msg, tr
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
    under = msg(" (the decision uses the configuration of {base})", base=change.base) if change.base else ""
    what = msg("commit {commit}", commit=change.commit[:10]) if change.commit else msg("the change")
    if judgement.undeclared:
        listed = _listed(judgement.undeclared)
        yield ctx.finding(
            "config.changed",
            subject=change.commit[:10] or judgement.undeclared[0],
            message=tr(
                ctx.lang,
                "{what} alters governance files its RFC does not declare: {listed}{under}",
                what=what,
                listed=listed,
                under=under,
            ),
            remediation=tr(
                ctx.lang,
                "name them in `governance_files` of the RFC ({ids}) and have it approved as a "
                "normal change, or take the edit out of this change",
                ids=ids,
            ),
        )
    for rfc_id in judgement.not_normal:
        yield ctx.finding(
            "config.changed",
            subject=rfc_id,
            message=tr(
                ctx.lang,
                "RFC {rfc_id} is not a normal change but {what} alters the governance files "
                "{listed_paths}{under}",
                rfc_id=rfc_id,
                what=what,
                listed_paths=_listed(change.paths),
                under=under,
            ),
            remediation=tr(
                ctx.lang,
                "a change of the governance is a normal change (CAB and ordered approvals): make "
                "the RFC normal, or split the governance edit into its own normal change",
            ),
        )


GOVERNANCE_RULES: dict[str, Callable[[GovernanceChange, RuleContext], Iterable[Finding | None]]] = {
    "config.changed": config_changed,
}
