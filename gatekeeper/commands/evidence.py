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
                f"{path}: links to {path.resolve()}, outside the repository; it is not read",
                hint="write the test report inside the workspace instead of linking to it",
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
    record = store(ctx, draft(ctx, str(RecordKind.TEST_EVIDENCE), data, tuple(args.rfc)))
    line = f"{args.kind}: {totals['passed']}/{totals['tests']} passed in {len(files)} file(s) at {head[:12]}"
    return report_stored(ctx, record, line)
