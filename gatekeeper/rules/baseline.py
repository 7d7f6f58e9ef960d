"""`baseline.drift` (CFG-P1): configuration items differ from the approved baseline without an RFC.

A change is explained when at least one commit behind it names an RFC ID. Whether that RFC exists and is
active is the business of the commit rules; this rule only finds changes nobody asked for.

Deployed artefacts are part of the baseline too: an artefact whose digest changed (or that was added or
removed) since the baseline without a successful deployment naming an RFC is reported with the artefact's
`env:name` as the subject.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from gatekeeper.config.models import Policy
from gatekeeper.domain import Finding, Grade, Role
from gatekeeper.domain.baseline import ArtifactChange, DriftFacts, IgnoredBaseline, short_digest
from gatekeeper.messages import in_language, tr
from gatekeeper.rules import RuleContext

MAX_PATHS_IN_MESSAGE = 5


def baseline_refusal(
    policy: Policy,
    grade: Grade | None,
    members: Mapping[Role, frozenset[str]] | None,
    actor: str,
    actor_source: str,
    attested: bool | None = None,
) -> tuple[str, str] | None:
    """Why a `baseline.created` record is not the baseline (en, ko), or None when it is — the one place
    this is decided, for the gate, the audit, `baseline diff|verify` and `baseline create`'s refusal. CFG-P1,
    seed 002 형상관리 1.2: the operator manager defines the baseline (the pack's `baseline.recorded_by`); a
    baseline the developer records of their own change would hide it. As for a PIR or a notice
    (`rules.deploy.pir_refusal`): not from a workstation where the grade needs the pipeline, signed by the
    CI platform where the pack requires attestation (`attested`: whether the signature of a job of the
    system's repository on its protected default branch verifies; None: not checked), by a holder of one of
    the roles (when the holders are known)."""
    from gatekeeper.rules.deploy import _whose_word

    return _whose_word(
        policy, grade, members, actor, actor_source, attested, policy.baseline.recorded_by, "set the baseline"
    )


def ignored_text(lang: str, ignored: Iterable[IgnoredBaseline]) -> str:
    """Why each of `ignored` is not the baseline, in `lang`, one after another."""
    return "; ".join(
        tr(
            lang,
            "baseline {label} (ledger #{seq}) is not counted: {reason}",
            label=b.label,
            seq=b.seq,
            reason=in_language(lang, b.reason, b.reason_ko),
        )
        for b in ignored
    )


def _ignored(facts: DriftFacts, ctx: RuleContext) -> str:
    """Why the baselines recorded after the one compared with are not the baseline, for the message."""
    return f" ({ignored_text(ctx.lang, facts.ignored)})" if facts.ignored else ""


def _artifact_finding(
    change: ArtifactChange, label: str, ctx: RuleContext, ignored: str = ""
) -> Finding | None:
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
        )
        + ignored,
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
        by = tr(ctx.lang, " by commit(s) {shas}", shas=", ".join(shas)) if shas else ""
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
            )
            + _ignored(facts, ctx),
            remediation=tr(
                ctx.lang,
                "name the RFC that approved the change in a commit (`Refs: RFC-...`), or revert "
                "it; once the change is approved, record a new baseline with `gatekeeper "
                "baseline create`",
            ),
        )
    for change in facts.diff.drifted_artifacts:
        yield _artifact_finding(
            change, facts.diff.label or str(facts.diff.baseline_seq), ctx, _ignored(facts, ctx)
        )


RULES = {"baseline.drift": baseline_drift}


def findings(facts: DriftFacts, ctx: RuleContext) -> list[Finding]:
    """Every baseline finding (the gate's entry point)."""
    return [f for f in baseline_drift(facts, ctx) if f is not None]
