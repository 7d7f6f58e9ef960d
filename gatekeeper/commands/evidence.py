"""`gatekeeper evidence add --kind K FILES..`: test evidence — counts, file digests and the commit tested.

Every file is parsed before anything is stored (evidence is all-or-nothing); the record binds each file's
SHA-256 and the commit the pipeline tested, so the gate can match evidence to exactly what is deployed.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from gatekeeper.commands import Context
from gatekeeper.commands._records import draft, report_stored, store
from gatekeeper.domain import EvidenceKind, RecordKind
from gatekeeper.errors import InputError
from gatekeeper.messages import msg, tr


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="evidence_command", metavar="SUBCOMMAND", required=True)
    add = sub.add_parser("add", help="record test-result files as evidence of one kind")
    add.add_argument("--kind", required=True, choices=[str(k) for k in EvidenceKind])
    add.add_argument("--rfc", action="append", default=[], metavar="RFC", help="RFC the tests belong to")
    add.add_argument(
        "--report-format",
        default="auto",
        choices=["auto", "junit", "xunit", "nunit", "trx"],
        dest="report_format",
    )
    add.add_argument(
        "--deployment",
        default="",
        metavar="ID",
        help="the production deployment these tests verified after it finished (운영환경 단위·통합 테스트, "
        "TST-P5): the id `deploy start` printed",
    )
    add.add_argument("files", nargs="+", metavar="FILE", help="JUnit, xUnit, NUnit or TRX result files")


def _shown(path: Path, root: Path) -> str:
    try:
        return path.resolve().relative_to(root.resolve()).as_posix()
    except ValueError:
        return str(path)


def _refuse_escaping_links(paths: list[Path], root: Path) -> None:
    """A report named inside the repository that is a link to a file outside it is not this job's evidence."""
    real_root = root.resolve()
    for path in paths:
        named_inside = Path(os.path.normpath(path.absolute())).is_relative_to(root.absolute())
        if named_inside and not path.resolve().is_relative_to(real_root):
            raise InputError(
                msg(
                    "{path}: links to {path_resolve}, outside the repository; it is not read",
                    path=path,
                    path_resolve=path.resolve(),
                ),
                hint=msg("write the test report inside the workspace instead of linking to it"),
            )


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.adapters.ci.context import detect_ci
    from gatekeeper.adapters.evidence import parse_many

    paths = [ctx.runtime.cwd / f for f in args.files]
    _refuse_escaping_links(paths, ctx.repo_root)
    summaries = parse_many(paths, args.report_format)
    head = detect_ci(ctx.runtime.env, ctx.runtime.cwd).head
    files = []
    for summary in summaries:
        entry = summary.as_dict()
        entry["path"] = _shown(summary.path, ctx.repo_root)
        files.append(entry)
    totals = {
        name: sum(int(getattr(s, name)) for s in summaries)
        for name in ("tests", "passed", "failed", "errors", "skipped")
    }
    executed = totals["tests"] - totals["skipped"]
    data = {
        "kind": args.kind,
        "commit": head,
        "files": files,
        "totals": totals,
        "success_rate": round(100.0 * totals["passed"] / executed, 2) if executed else None,
    }
    if args.deployment.strip():
        return _bound(args, ctx, data, head)
    record = store(ctx, draft(ctx, str(RecordKind.TEST_EVIDENCE), data, tuple(args.rfc)))
    line = tr(
        ctx.lang,
        "{kind}: {passed}/{tests} passed in {files} file(s) at {commit}",
        kind=args.kind,
        passed=totals["passed"],
        tests=totals["tests"],
        files=len(files),
        commit=head[:12],
    )
    return report_stored(ctx, record, line)


def _bound(args: argparse.Namespace, ctx: Context, data: dict[str, object], head: str) -> int:
    """Evidence of tests run in production on a finished deployment, bound to it (exit 2, nothing written,
    when the gate would not count it: a deployment never started, still open or failed, another commit, a
    failing run, a workstation where the pack refuses those)."""
    from gatekeeper.commands._closure import refuse_uncounted, release_of, require_signature
    from gatekeeper.commands._records import append, open_configured, signed

    deployment = args.deployment.strip()
    data["deployment"] = deployment
    ledger = open_configured(ctx)
    try:
        history, release = release_of(ctx, ledger, deployment)
        rfcs = tuple(dict.fromkeys([*args.rfc, *release.rfcs]))
        record_draft = signed(ctx, draft(ctx, str(RecordKind.TEST_EVIDENCE), data, rfcs))
        refuse_uncounted(ctx, history, release, record_draft, f"{args.kind} evidence")
        level = ctx.policy.tests.attestation_level(ctx.config.system.grade, release.change_type)
        require_signature(ctx, record_draft, f"{args.kind} evidence", level)
        record = append(ctx, ledger, record_draft)
    finally:
        ledger.close()
    totals = data["totals"]
    assert isinstance(totals, dict)
    line = tr(
        ctx.lang,
        "{kind} in production: {passed}/{tests} passed at {commit} for {deployment}",
        kind=args.kind,
        passed=totals["passed"],
        tests=totals["tests"],
        commit=head[:12],
        deployment=deployment,
    )
    return report_stored(ctx, record, line)
