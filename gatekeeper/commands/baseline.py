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
from gatekeeper.messages import Message, msg, ptr, tr
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
    lines = [
        tr(
            ctx.lang,
            "baseline {label} recorded (ledger #{seq}, commit {commit})",
            label=label,
            seq=record.seq,
            commit=snap.commit[:10],
        )
    ]
    for item in snap.items:
        files = tr(ctx.lang, "{count} files", count=str(len(item.files)).rjust(5))
        lines.append(f"  {pad(item.id, 20)} {pad(item.kind, 12)} {files}  {item.digest[:19]}")
    for name, digest in sorted(snap.artifacts.items()):
        lines.append(f"  {pad(for_log(name), 33)} {for_log(digest)[:19]}")
    ctx.out("\n".join(lines))
    return 0


STATUS = {
    "added": msg("added"),
    "removed": msg("removed"),
    "changed": msg("changed"),
    "unchanged": msg("unchanged"),
}


def _status(status: str, lang: str) -> str:
    return STATUS[status].said(lang)


def _ledger_seq(lang: str, seq: int) -> str:
    return tr(lang, "ledger #{seq}", seq=seq)


def _artifact_text(change: ArtifactChange, lang: str) -> list[str]:
    rfcs = ", ".join(for_log(r) for r in change.rfcs) or tr(lang, "no RFC")
    mark = "✗" if not change.explained else " "
    lines = [
        f"   {mark} {pad(_status(change.status, lang), 8)} {for_log(change.name)}  "
        f"{for_log(short_digest(change.before))} → {for_log(short_digest(change.after))}  ({rfcs})"
    ]
    for deployment in change.deployments:
        lines.append(
            "        "
            + tr(
                lang,
                "deployment {id} ({ledger})",
                id=for_log(deployment.deployment_id),
                ledger=_ledger_seq(lang, deployment.seq),
            )
        )
    if not change.deployments:
        lines.append("        " + tr(lang, "no successful deployment since the baseline recorded this"))
    return lines


def render_diff_text(diff: BaselineDiff, lang: str) -> str:
    head = tr(
        lang,
        "baseline {label} (commit {commit}) -> {target}",
        label=diff.label,
        commit=diff.base_commit[:10],
        target=diff.target[:10],
    )
    lines = [head]
    for item in diff.items:
        lines.append(f"  {item.id} [{item.kind}]: {_status(item.status, lang)}")
        for change in item.changes:
            rfcs = ", ".join(change.rfcs) or tr(lang, "no RFC")
            mark = "✗" if not change.explained else " "
            lines.append(f"   {mark} {pad(_status(change.status, lang), 8)} {for_log(change.path)}  ({rfcs})")
            for commit in change.commits:
                lines.append(f"        {commit.sha[:10]} {for_log(commit.subject)}")
    if diff.artifacts:
        lines.append("  " + tr(lang, "deployed artefacts: {count} changed", count=len(diff.artifacts)))
        for artifact in diff.artifacts:
            lines.extend(_artifact_text(artifact, lang))
    drifted = len(diff.drifted)
    if drifted:
        lines.append(tr(lang, "changed without an RFC: {count} item(s)", count=drifted))
    drifted_artifacts = len(diff.drifted_artifacts)
    if drifted_artifacts:
        lines.append(tr(lang, "deployed without an RFC: {count} artefact(s)", count=drifted_artifacts))
    if not diff.has_drift:
        lines.append(tr(lang, "every change is explained by an RFC"))
    return "\n".join(lines) + "\n"


def render_diff_markdown(diff: BaselineDiff, lang: str) -> str:
    headers = [
        ptr(lang, "baseline diff table", "Item"),
        ptr(lang, "baseline diff table", "File"),
        ptr(lang, "baseline diff table", "Status"),
        ptr(lang, "baseline diff table", "Commits"),
        ptr(lang, "baseline diff table", "RFCs"),
    ]
    lines = [
        tr(
            lang,
            "### Baseline diff: {label} → `{target}`",
            label=for_markdown(diff.label),
            target=diff.target[:10],
        ),
        "",
        "| " + " | ".join(headers) + " |",
        "|---|---|---|---|---|",
    ]
    for item in diff.items:
        for change in item.changes:
            commits = " ".join(f"`{c.sha[:10]}`" for c in change.commits)
            rfcs = ", ".join(for_markdown(r) for r in change.rfcs) or tr(lang, "⛔ none")
            lines.append(
                f"| {for_markdown(item.id)} | {for_markdown(change.path)} | {change.status} "
                f"| {commits} | {rfcs} |"
            )
    if diff.artifacts:
        lines.extend(_artifacts_markdown(diff.artifacts, lang))
    return "\n".join(lines) + "\n"


def _artifacts_markdown(artifacts: tuple[ArtifactChange, ...], lang: str) -> list[str]:
    headers = [
        ptr(lang, "baseline diff table", "Artefact"),
        ptr(lang, "baseline diff table", "Status"),
        ptr(lang, "baseline diff table", "Before"),
        ptr(lang, "baseline diff table", "After"),
        ptr(lang, "baseline diff table", "Deployments"),
        ptr(lang, "baseline diff table", "RFCs"),
    ]
    lines = [
        "",
        "#### " + tr(lang, "Deployed artefacts"),
        "",
        "| " + " | ".join(headers) + " |",
        "|---|---|---|---|---|---|",
    ]
    for change in artifacts:
        deployments = (
            ", ".join(
                f"{for_markdown(d.deployment_id)} ({_ledger_seq(lang, d.seq)})" for d in change.deployments
            )
            or "-"
        )
        rfcs = ", ".join(for_markdown(r) for r in change.rfcs) or tr(lang, "⛔ none")
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
