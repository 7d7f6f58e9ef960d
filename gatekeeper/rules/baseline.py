"""`baseline.drift` (CFG-P1): configuration items differ from the approved baseline without an RFC.

A change is explained when at least one commit behind it names an RFC ID. Whether that RFC exists and is
active is the business of the commit rules; this rule only finds changes nobody asked for.

Deployed artefacts are part of the baseline too: an artefact whose digest changed (or that was added or
removed) since the baseline without a successful deployment naming an RFC is reported with the artefact's
`env:name` as the subject.
"""

from __future__ import annotations

from collections.abc import Iterable

from gatekeeper.domain import Finding
from gatekeeper.domain.baseline import ArtifactChange, DriftFacts, short_digest
from gatekeeper.messages import tr
from gatekeeper.rules import RuleContext

MAX_PATHS_IN_MESSAGE = 5


def _artifact_finding(change: ArtifactChange, label: str, ctx: RuleContext) -> Finding | None:
    before, after = short_digest(change.before), short_digest(change.after)
    what = {
        "added": tr(ctx.lang, "added {after}", after=after),
        "removed": tr(ctx.lang, "removed (was {before})", before=before),
        "changed": tr(ctx.lang, "changed {before} → {after}", before=before, after=after),
    }[change.status]
    if change.deployments:
        refs = ", ".join(
            tr(ctx.lang, "{deployment} (ledger #{seq})", deployment=d.deployment_id, seq=d.seq)
            for d in change.deployments
        )
        by = tr(ctx.lang, ", by deployment(s) {refs} naming no RFC", refs=refs)
    else:
        by = tr(ctx.lang, ", and no successful deployment since the baseline recorded it")
    return ctx.finding(
        "baseline.drift",
        subject=change.name,
        message=tr(
            ctx.lang,
            "deployed artefact {name} differs from baseline {label} without an RFC: {what}{by}",
            name=change.name,
            label=label,
            what=what,
            by=by,
        ),
        remediation=tr(
            ctx.lang,
            "deploy through `gatekeeper deploy start --rfc RFC-...` so the deployment names "
            "the approved RFC, or redeploy the baselined artefact; once the change is "
            "approved, record a new baseline with `gatekeeper baseline create`",
        ),
    )


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
        by = tr(ctx.lang, " by commit(s) {join_shas}", join_shas=", ".join(shas)) if shas else ""
        yield ctx.finding(
            "baseline.drift",
            subject=item.id,
            message=tr(
                ctx.lang,
                "configuration item {id} differs from baseline {label} without an RFC{by}: {shown}",
                id=item.id,
                label=label,
                by=by,
                shown=shown,
            ),
            remediation=tr(
                ctx.lang,
                "name the RFC that approved the change in a commit (`Refs: RFC-...`), or revert "
                "it; once the change is approved, record a new baseline with `gatekeeper "
                "baseline create`",
            ),
        )
    for change in facts.diff.drifted_artifacts:
        yield _artifact_finding(change, facts.diff.label or str(facts.diff.baseline_seq), ctx)


RULES = {"baseline.drift": baseline_drift}


def findings(facts: DriftFacts, ctx: RuleContext) -> list[Finding]:
    """Every baseline finding (the gate's entry point)."""
    return [f for f in baseline_drift(facts, ctx) if f is not None]
