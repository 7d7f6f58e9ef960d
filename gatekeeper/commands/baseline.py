"""`gatekeeper baseline create [--label L] | diff [REV] | verify [REV]` (CFG-P1)."""

from __future__ import annotations

import argparse
import json
from collections.abc import Callable
from typing import Any

from gatekeeper.commands import Context
from gatekeeper.commands._records import append, signed
from gatekeeper.domain import ChangeType, Grade, Outcome, RecordKind
from gatekeeper.domain.baseline import (
    ArtifactChange,
    Baseline,
    BaselineDiff,
    counted_baseline,
    deployed_artifacts,
    short_digest,
)
from gatekeeper.errors import InputError
from gatekeeper.facts.baseline import (
    Refusal,
    baseline_judge,
    compare,
    deployment_results,
    gather_drift,
    snapshot,
)
from gatekeeper.ledger import Draft, Ledger, LedgerReader
from gatekeeper.messages import Message, msg
from gatekeeper.reporters.columns import pad
from gatekeeper.reporters.sanitize import for_log, for_markdown
from gatekeeper.rules.baseline import ignored_text


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="baseline_command", metavar="SUBCOMMAND", required=True)
    create = sub.add_parser("create", help="record a baseline of the configuration items at HEAD")
    create.add_argument("--label", default="", help="version label, e.g. 1.0 (default: the next number)")
    create.add_argument("--rev", default="HEAD", help="the commit to baseline (default: HEAD)")
    diff = sub.add_parser("diff", help="added, removed and changed items since the baseline, with their RFCs")
    diff.add_argument(
        "rev", nargs="?", default="HEAD", metavar="REV", help="compare with this commit (default: HEAD)"
    )
    diff.add_argument("--label", default=None, help="the baseline to compare with (default: the latest)")
    verify = sub.add_parser("verify", help="fail when items drifted from the baseline without an RFC")
    verify.add_argument("rev", nargs="?", default="HEAD", metavar="REV")


def _ledger(ctx: Context) -> Ledger:
    from gatekeeper.ledger.backends import open_ledger

    return open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)


def _judge(ctx: Context, attest: Callable[[Any], bool]) -> Refusal:
    """Why a baseline record is not the baseline (`facts.baseline.baseline_judge`), with the role holders
    the platform gives where the pack names whose baselines count."""
    from gatekeeper.commands._gate import sources_for
    from gatekeeper.facts.gather import role_members

    members = None
    if ctx.policy.baseline.recorded_by:
        members = role_members(ctx.config.roles, sources_for(ctx).role_resolver)
    return baseline_judge(ctx.policy, ctx.config.system.grade, members, attest)


def _latest(ledger: Ledger, ctx: Context, label: str | None) -> Baseline:
    """The latest baseline that counts (labelled `label`, when given)."""
    attest, _ = _attestation(ctx, ledger)
    records = ledger.find(kind=RecordKind.BASELINE_CREATED.value, system=ctx.config.system.id)
    chosen = (r for r in records if label is None or Baseline.from_record(r).label == label)
    found, ignored = counted_baseline(chosen, _judge(ctx, attest))
    if found is None:
        which = f"labelled {label!r} " if label else ""
        system = ctx.config.system.id
        if not ignored:
            raise _to_record_one(
                msg(
                    "no baseline {which}is recorded for {id}",
                    which=which,
                    id=system,
                    which_strip_if_which_else=" " + which.strip() if which else "",
                )
            )
        en, ko = (ignored_text(lang, ignored) for lang in ("en", "ko"))
        labelled = f" {label!r}" if label else ""
        raise _to_record_one(
            msg(
                "no approved baseline {which}is recorded for {id}: {en}",
                which=which,
                id=system,
                en=en,
                labelled=labelled,
                ko=ko,
            )
        )
    return found


def _to_record_one(said: Message) -> InputError:
    """The error that there is no baseline to go by (`said`), with how one that counts is recorded."""
    return InputError(
        said.en,
        ko=said.ko,
        hint=msg(
            "the operator manager records it with `gatekeeper baseline create --label 1.0` (the pack's "
            "baseline.recorded_by), where the grade needs it in a pipeline job of the protected default "
            "branch that may request an OIDC token (GitHub: `permissions: id-token: write`; GitLab: "
            "`id_tokens:`)"
        ),
    )


def _refuse_if_not_the_baseline(ctx: Context, draft: Draft) -> None:
    """Exit 2, nothing written, when the gate would not count the baseline `draft` (signed where the job
    can be) as the baseline: judged as the gate judges it (`_judge`), its signature verified as the job's
    first record."""
    from gatekeeper.adapters.oidc import Attestor
    from gatekeeper.ledger import GENESIS

    runtime = ctx.runtime
    attest = Attestor(ctx.config, ctx.repo_root, runtime.env, runtime.now(), whole=True)
    refused = _judge(ctx, attest)(draft.place(1 << 62, GENESIS))
    if refused is None:
        return
    en, ko = refused
    raise _to_record_one(msg("this baseline would not count: {en}; nothing was recorded", en=en, ko=ko))


def _next_label(ledger: Ledger, ctx: Context) -> str:
    count = sum(1 for _ in ledger.find(kind=RecordKind.BASELINE_CREATED.value, system=ctx.config.system.id))
    return f"{count + 1}.0"


def _create(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.adapters.ci.context import detect_ci

    ledger = _ledger(ctx)
    try:
        system = ctx.config.system.id
        artifacts = deployed_artifacts(ledger.find(kind=RecordKind.DEPLOYMENT_FINISHED.value, system=system))
        snap = snapshot(ctx.repo_root, ctx.config, args.rev, artifacts)
        label = args.label or _next_label(ledger, ctx)
        ci = detect_ci(ctx.runtime.env, ctx.runtime.cwd)
        draft = signed(
            ctx,
            Draft(
                kind=RecordKind.BASELINE_CREATED.value,
                system=system,
                actor=ci.actor,
                actor_source=str(ci.actor_source),
                at=ctx.runtime.now(),
                data=snap.data(label),
            ),
            ledger,
        )
        _refuse_if_not_the_baseline(ctx, draft)
        record = append(ctx, ledger, draft)
    finally:
        ledger.close()
    if ctx.output_format == "json":
        ctx.out(json.dumps({"ok": True, "seq": record.seq, **snap.data(label)}, ensure_ascii=False, indent=2))
        return 0
    words = ctx.lang == "ko"
    lines = [
        (
            f"베이스라인 {label} 등록 (원장 #{record.seq}, 커밋 {snap.commit[:10]})"
            if words
            else f"baseline {label} recorded (ledger #{record.seq}, commit {snap.commit[:10]})"
        )
    ]
    for item in snap.items:
        lines.append(
            f"  {pad(item.id, 20)} {pad(item.kind, 12)} {len(item.files):>5} {'파일' if words else 'files'}"
            f"  {item.digest[:19]}"
        )
    for name, digest in sorted(snap.artifacts.items()):
        lines.append(f"  {pad(for_log(name), 33)} {for_log(digest)[:19]}")
    ctx.out("\n".join(lines))
    return 0


STATUS_KO = {"added": "추가", "removed": "삭제", "changed": "변경", "unchanged": "변경 없음"}


def _artifact_text(change: ArtifactChange, ko: bool) -> list[str]:
    rfcs = ", ".join(for_log(r) for r in change.rfcs) or ("변경요청 없음" if ko else "no RFC")
    mark = "✗" if not change.explained else " "
    lines = [
        f"   {mark} {pad(STATUS_KO[change.status] if ko else change.status, 8)} {for_log(change.name)}  "
        f"{for_log(short_digest(change.before))} → {for_log(short_digest(change.after))}  ({rfcs})"
    ]
    for deployment in change.deployments:
        lines.append(
            f"        {'배포' if ko else 'deployment'} {for_log(deployment.deployment_id)} "
            f"({'원장' if ko else 'ledger'} #{deployment.seq})"
        )
    if not change.deployments:
        lines.append(
            "        베이스라인 이후 이 변경을 기록한 성공 배포 없음"
            if ko
            else "        no successful deployment since the baseline recorded this"
        )
    return lines


def render_diff_text(diff: BaselineDiff, lang: str) -> str:
    ko = lang == "ko"
    head = (
        f"베이스라인 {diff.label} (커밋 {diff.base_commit[:10]}) → {diff.target[:10]}"
        if ko
        else f"baseline {diff.label} (commit {diff.base_commit[:10]}) -> {diff.target[:10]}"
    )
    lines = [head]
    for item in diff.items:
        lines.append(f"  {item.id} [{item.kind}]: {STATUS_KO[item.status] if ko else item.status}")
        for change in item.changes:
            rfcs = ", ".join(change.rfcs) or ("변경요청 없음" if ko else "no RFC")
            mark = "✗" if not change.explained else " "
            lines.append(
                f"   {mark} {pad(STATUS_KO[change.status] if ko else change.status, 8)} "
                f"{for_log(change.path)}  ({rfcs})"
            )
            for commit in change.commits:
                lines.append(f"        {commit.sha[:10]} {for_log(commit.subject)}")
    if diff.artifacts:
        count = len(diff.artifacts)
        lines.append(f"  배포 산출물: {count}개 변경" if ko else f"  deployed artefacts: {count} changed")
        for artifact in diff.artifacts:
            lines.extend(_artifact_text(artifact, ko))
    drifted = len(diff.drifted)
    if drifted:
        lines.append(
            f"변경요청 없는 변경: 형상항목 {drifted}개"
            if ko
            else f"changed without an RFC: {drifted} item(s)"
        )
    drifted_artifacts = len(diff.drifted_artifacts)
    if drifted_artifacts:
        lines.append(
            f"변경요청 없는 배포: 산출물 {drifted_artifacts}개"
            if ko
            else f"deployed without an RFC: {drifted_artifacts} artefact(s)"
        )
    if not diff.has_drift:
        lines.append("모든 변경에 변경요청이 있습니다" if ko else "every change is explained by an RFC")
    return "\n".join(lines) + "\n"


def render_diff_markdown(diff: BaselineDiff, lang: str) -> str:
    ko = lang == "ko"
    lines = [
        f"### {'베이스라인 비교' if ko else 'Baseline diff'}: "
        f"{for_markdown(diff.label)} → `{diff.target[:10]}`",
        "",
        "| "
        + (
            " | ".join(
                ["형상항목", "파일", "상태", "커밋", "변경요청"]
                if ko
                else ["Item", "File", "Status", "Commits", "RFCs"]
            )
        )
        + " |",
        "|---|---|---|---|---|",
    ]
    for item in diff.items:
        for change in item.changes:
            commits = " ".join(f"`{c.sha[:10]}`" for c in change.commits)
            rfcs = ", ".join(for_markdown(r) for r in change.rfcs) or ("⛔ 없음" if ko else "⛔ none")
            lines.append(
                f"| {for_markdown(item.id)} | {for_markdown(change.path)} | {change.status} "
                f"| {commits} | {rfcs} |"
            )
    if diff.artifacts:
        lines.extend(_artifacts_markdown(diff.artifacts, ko))
    return "\n".join(lines) + "\n"


def _artifacts_markdown(artifacts: tuple[ArtifactChange, ...], ko: bool) -> list[str]:
    headers = (
        ["배포 산출물", "상태", "이전", "이후", "배포", "변경요청"]
        if ko
        else ["Artefact", "Status", "Before", "After", "Deployments", "RFCs"]
    )
    lines = [
        "",
        f"#### {'배포 산출물' if ko else 'Deployed artefacts'}",
        "",
        "| " + " | ".join(headers) + " |",
        "|---|---|---|---|---|---|",
    ]
    for change in artifacts:
        deployments = (
            ", ".join(
                f"{for_markdown(d.deployment_id)} ({'원장' if ko else 'ledger'} #{d.seq})"
                for d in change.deployments
            )
            or "-"
        )
        rfcs = ", ".join(for_markdown(r) for r in change.rfcs) or ("⛔ 없음" if ko else "⛔ none")
        lines.append(
            f"| {for_markdown(change.name)} | {change.status} | {for_markdown(short_digest(change.before))} "
            f"| {for_markdown(short_digest(change.after))} | {deployments} | {rfcs} |"
        )
    return lines


def _attestation(ctx: Context, ledger: LedgerReader) -> tuple[Callable[[Any], bool], str]:
    """The verifier of deployment records' signatures and the pack's level for them: which deployment
    results explain a deployed artefact (`facts.baseline.deployment_results`)."""
    from gatekeeper.adapters.oidc import Attestor
    from gatekeeper.rules.deploy import deployment_attestation

    attest = Attestor(ctx.config, ctx.repo_root, ctx.runtime.env, ctx.runtime.now(), ledger=ledger)
    return attest, deployment_attestation(ctx.policy, ctx.config.system.grade)


def _diff(args: argparse.Namespace, ctx: Context) -> int:
    ledger = _ledger(ctx)
    try:
        baseline = _latest(ledger, ctx, args.label)
        attest, level = _attestation(ctx, ledger)
        deployments = deployment_results(ledger, ctx.config.system.id, attest, level)
        diff = compare(ctx.repo_root, ctx.config, baseline, args.rev, deployments)
    finally:
        ledger.close()
    if ctx.output_format == "json":
        ctx.out(json.dumps({"ok": not diff.has_drift, **diff.as_dict()}, ensure_ascii=False, indent=2))
    elif ctx.output_format == "markdown":
        ctx.out(render_diff_markdown(diff, ctx.lang))
    else:
        ctx.runtime.stdout.write(render_diff_text(diff, ctx.lang))
    return 0


def _verify(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.rules import RuleContext
    from gatekeeper.rules.baseline import findings

    ledger = _ledger(ctx)
    try:
        _latest(ledger, ctx, None)  # a clear error when there is nothing to verify against
        attest, level = _attestation(ctx, ledger)
        facts = gather_drift(ctx.repo_root, ctx.config, ledger, args.rev, attest, level, _judge(ctx, attest))
    finally:
        ledger.close()
    grade = Grade(ctx.config.system.grade)
    rule_ctx = RuleContext(ctx.policy, grade, ChangeType.NORMAL, ctx.runtime.now(), ctx.lang)
    outcome = Outcome(
        ctx.config.system.id, int(grade), ChangeType.NORMAL.value, (), tuple(findings(facts, rule_ctx))
    )
    return ctx.emit(outcome)


def run(args: argparse.Namespace, ctx: Context) -> int:
    handlers = {"create": _create, "diff": _diff, "verify": _verify}
    return handlers[args.baseline_command](args, ctx)
