"""`baseline.drift` (CFG-P1): configuration items differ from the approved baseline without an RFC.

A change is explained when at least one commit behind it names an RFC ID. Whether that RFC exists and is
active is the business of the commit rules; this rule only finds changes nobody asked for.
"""

from __future__ import annotations

from collections.abc import Iterable

from gatekeeper.baseline import DriftFacts
from gatekeeper.domain import Finding
from gatekeeper.rules import RuleContext

MAX_PATHS_IN_MESSAGE = 5


def baseline_drift(facts: DriftFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    if facts.diff is None:
        return
    for item in facts.diff.drifted:
        paths = [c.path for c in item.drifted]
        shown = ", ".join(paths[:MAX_PATHS_IN_MESSAGE]) + (
            f" (+{len(paths) - MAX_PATHS_IN_MESSAGE})" if len(paths) > MAX_PATHS_IN_MESSAGE else ""
        )
        label = facts.diff.label or str(facts.diff.baseline_seq)
        shas = sorted({k.sha[:10] for c in item.drifted for k in c.commits})
        by = ctx.text(f" by commit(s) {', '.join(shas)}", f" (커밋 {', '.join(shas)})") if shas else ""
        yield ctx.finding(
            "baseline.drift",
            subject=item.id,
            message=ctx.text(
                f"configuration item {item.id} differs from baseline {label} without an RFC{by}: {shown}",
                f"형상항목 {item.id}이(가) 변경요청 없이 베이스라인 {label}과 다릅니다{by}: {shown}",
            ),
            remediation=ctx.text(
                "name the RFC that approved the change in a commit (`Refs: RFC-...`), or revert it; once the "
                "change is approved, record a new baseline with `gatekeeper baseline create`",
                "변경을 승인한 변경요청ID를 커밋에 기록하거나(`Refs: RFC-...`) 변경을 되돌리세요. 승인 후 "
                "`gatekeeper baseline create`로 새 베이스라인을 등록하세요",
            ),
        )


RULES = {"baseline.drift": baseline_drift}


def findings(facts: DriftFacts, ctx: RuleContext) -> list[Finding]:
    """Every baseline finding (the gate's entry point)."""
    return [f for f in baseline_drift(facts, ctx) if f is not None]
