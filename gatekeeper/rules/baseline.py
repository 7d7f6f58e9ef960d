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
from gatekeeper.domain.baseline import ArtifactChange, DriftFacts, short_digest
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


def _ignored(facts: DriftFacts, ctx: RuleContext) -> str:
    """Why the baselines recorded after the one compared with are not the baseline, for the message."""
    if not facts.ignored:
        return ""
    en = "; ".join(f"baseline {b.label} (ledger #{b.seq}) is not counted: {b.reason}" for b in facts.ignored)
    ko = "; ".join(
        f"베이스라인 {b.label}(원장 #{b.seq})은(는) 인정되지 않습니다: {b.reason_ko}" for b in facts.ignored
    )
    return ctx.text(f" ({en})", f" ({ko})")


def _artifact_finding(
    change: ArtifactChange, label: str, ctx: RuleContext, ignored: str = ""
) -> Finding | None:
    before, after = short_digest(change.before), short_digest(change.after)
    what = {
        "added": ctx.text(f"added {after}", f"추가 {after}"),
        "removed": ctx.text(f"removed (was {before})", f"삭제 (이전 {before})"),
        "changed": ctx.text(f"changed {before} → {after}", f"변경 {before} → {after}"),
    }[change.status]
    if change.deployments:
        refs_en = ", ".join(f"{d.deployment_id} (ledger #{d.seq})" for d in change.deployments)
        refs_ko = ", ".join(f"{d.deployment_id} (원장 #{d.seq})" for d in change.deployments)
        by = ctx.text(f", by deployment(s) {refs_en} naming no RFC", f", 변경요청ID 없는 배포 {refs_ko}")
    else:
        by = ctx.text(
            ", and no successful deployment since the baseline recorded it",
            ", 베이스라인 이후 이를 기록한 성공 배포 없음",
        )
    return ctx.finding(
        "baseline.drift",
        subject=change.name,
        message=ctx.text(
            f"deployed artefact {change.name} differs from baseline {label} without an RFC: {what}{by}",
            f"배포 산출물 {change.name}이(가) 변경요청 없이 베이스라인 {label}과 다릅니다: {what}{by}",
        )
        + ignored,
        remediation=ctx.text(
            "deploy through `gatekeeper deploy start --rfc RFC-...` so the deployment names the approved "
            "RFC, or redeploy the baselined artefact; once the change is approved, record a new baseline "
            "with `gatekeeper baseline create`",
            "`gatekeeper deploy start --rfc RFC-...`로 승인된 변경요청ID를 기록하며 배포하거나 베이스라인의 "
            "산출물을 다시 배포하세요. 승인 후 `gatekeeper baseline create`로 새 베이스라인을 등록하세요",
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
        by = ctx.text(f" by commit(s) {', '.join(shas)}", f" (커밋 {', '.join(shas)})") if shas else ""
        yield ctx.finding(
            "baseline.drift",
            subject=item.id,
            message=ctx.text(
                f"configuration item {item.id} differs from baseline {label} without an RFC{by}: {shown}",
                f"형상항목 {item.id}이(가) 변경요청 없이 베이스라인 {label}과 다릅니다{by}: {shown}",
            )
            + _ignored(facts, ctx),
            remediation=ctx.text(
                "name the RFC that approved the change in a commit (`Refs: RFC-...`), or revert it; once the "
                "change is approved, record a new baseline with `gatekeeper baseline create`",
                "변경을 승인한 변경요청ID를 커밋에 기록하거나(`Refs: RFC-...`) 변경을 되돌리세요. 승인 후 "
                "`gatekeeper baseline create`로 새 베이스라인을 등록하세요",
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
