"""`gatekeeper ledger verify | head | log | export`, and the one way every write command stores a record."""

from __future__ import annotations

import argparse
import csv
import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from gatekeeper.commands import Context
from gatekeeper.commands._options import parse_time
from gatekeeper.commands._records import open_configured
from gatekeeper.errors import ExitCode, InputError, LedgerError
from gatekeeper.ledger import Ledger, chain_reason_ko
from gatekeeper.ledger.anchor import AnchorProblem, Head, head_in
from gatekeeper.messages import in_language, msg, tr
from gatekeeper.reporters.columns import pad
from gatekeeper.reporters.sanitize import for_log

if TYPE_CHECKING:
    from gatekeeper.adapters.platforms.base import PostedStatus


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="ledger_command", metavar="SUBCOMMAND", required=True)
    verify = sub.add_parser(
        "verify",
        help="check the whole hash chain, that the ledger still holds what this machine verified before, "
        "and any anchors; names the first bad seq (exit 1)",
    )
    verify.add_argument(
        "--anchor",
        action="append",
        default=[],
        type=_anchor,
        metavar="SEQ:HASH",
        help="a head recorded outside the ledger (`gatekeeper ledger head`): the record at SEQ must still "
        "have HASH (repeatable)",
    )
    verify.add_argument("--anchors", metavar="FILE", help="a file of anchors, one SEQ:HASH a line")
    verify.add_argument(
        "--anchors-from",
        choices=["github", "gitlab"],
        help="also every anchor the CI platform holds: the `gatekeeper/ledger` commit statuses of the last "
        "--anchor-depth commits of HEAD (needs the platform token CI jobs use)",
    )
    verify.add_argument(
        "--anchor-depth",
        type=_depth,
        default=200,
        metavar="N",
        help="how many commits of HEAD's history --anchors-from reads (default 200)",
    )
    verify.add_argument(
        "--attestations",
        action="store_true",
        help="also re-check every approval's OIDC attestation (exit 1 when one does not verify)",
    )
    sub.add_parser("head", help="print the ledger's head (seq and hash) to record outside the ledger")
    log = sub.add_parser("log", help="list records, oldest first")
    _filters(log)
    log.add_argument("--limit", type=int, default=0, help="only the last N matching records")
    export = sub.add_parser("export", help="write every record as JSON lines or CSV")
    export.add_argument("--format", dest="export_format", choices=["jsonl", "csv"], default="jsonl")
    export.add_argument("--output", "-o", metavar="FILE", help="file to write (default: standard output)")


def _filters(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--kind", help="record kind, e.g. approval or deployment.started")
    parser.add_argument("--system", help="system id")
    parser.add_argument("--rfc", help="RFC ID")
    parser.add_argument("--since", type=_since, help="records at or after this time (RFC 3339 with offset)")
    parser.add_argument("--until", type=_until, help="records before this time (RFC 3339 with offset)")


def _anchor(text: str) -> Head:
    try:
        return Head.parse(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _depth(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 100_000:
        raise argparse.ArgumentTypeError(f"{text[:40]!r} is not a number of commits from 1 to 100000")
    return int(text)


def _since(text: str) -> datetime:
    return parse_time(text, "--since")


def _until(text: str) -> datetime:
    return parse_time(text, "--until")


def run(args: argparse.Namespace, ctx: Context) -> int:
    ledger = open_configured(ctx)
    try:
        if args.ledger_command == "verify":
            from gatekeeper.commands._attestations import recheck_attestations

            if ctx.output_format == "json":  # one document: the chain's verdict, then the signatures'
                return _verify(ledger, ctx, args, lambda: recheck_attestations(ledger, ctx, emit=False))
            code = _verify(ledger, ctx, args)
            if args.attestations and code == int(ExitCode.OK):
                return recheck_attestations(ledger, ctx)[0]
            return code
        if args.ledger_command == "head":
            return _head(ledger, ctx)
        if args.ledger_command == "log":
            return _log(ledger, ctx, args)
        return _export(ledger, ctx, args)
    finally:
        ledger.close()


def _verify(
    ledger: Ledger,
    ctx: Context,
    args: argparse.Namespace,
    signatures: Callable[[], tuple[int, dict[str, Any]]] | None = None,
) -> int:
    from gatekeeper.ledger.anchor import anchor_problems, read_anchors
    from gatekeeper.ledger.backends import ledger_identity, verify_thoroughly
    from gatekeeper.ledger.checkpoint import Checkpoint, CheckpointFile, ledger_tip, lost_growth

    anchors = [*args.anchor, *(read_anchors(ctx.runtime.cwd / args.anchors) if args.anchors else [])]
    where: dict[Head, str] = {}
    unreadable: list[AnchorProblem] = []
    if args.anchors_from:
        for status in _platform_anchors(ctx, args.anchors_from, args.anchor_depth):
            head = head_in(status.text)
            if head is None:
                unreadable.append(AnchorProblem(None, "unreadable", status.text, status.where))
                continue
            anchors.append(head)
            where.setdefault(head, status.where)
    env = ctx.runtime.env
    checkpoints = CheckpointFile.for_ledger(ledger_identity(ctx.config, ctx.repo_root, env), env)
    checkpoint = checkpoints.load() if checkpoints is not None else None
    # The ledger only grows: less than this machine verified before is a rewrite, whatever the chain says.
    rewritten = lost_growth(ledger, checkpoint) if checkpoint is not None else ""
    result = verify_thoroughly(ledger)
    problems = [*unreadable, *(anchor_problems(ledger, anchors, where) if anchors else [])]
    ok = result.ok and not rewritten and not problems
    if ok and checkpoints is not None:
        checkpoints.save(Checkpoint(result.count, result.head, ctx.runtime.now(), ledger_tip(ledger)))
    if ctx.output_format == "json":
        body = {
            "ok": ok,
            "count": result.count,
            "first_bad_seq": result.first_bad_seq,
            "reason": result.reason,
            "head": result.head,
            "rewritten": rewritten,
            "anchors": sorted({str(a) for a in anchors}),
            "anchors_from": args.anchors_from,
            "anchor_problems": [p.message() for p in problems],
        }
        if args.attestations and signatures is not None and ok:  # one document: the signatures are part of it
            code, checked = signatures()
            body["approvals"], body["records"] = checked["approvals"], checked["records"]
            ok = body["ok"] = code == int(ExitCode.OK)
        ctx.out(json.dumps(body, indent=2, ensure_ascii=False))
        return int(ExitCode.OK if ok else ExitCode.BLOCKED)
    lang = ctx.lang
    if result.ok:
        ctx.out(
            tr(
                lang,
                "ledger verified: {count} records, chain intact, head {head}",
                count=result.count,
                head=result.head,
            )
        )
    else:
        ctx.out(
            tr(
                lang,
                "ledger BROKEN at seq {seq}: {reason} ({count} records before it are intact)\n"
                "  fix: restore the ledger from a trusted copy; records from that seq on cannot be trusted",
                seq=result.first_bad_seq,
                reason=in_language(lang, result.reason, chain_reason_ko(result.reason)),
                count=result.count,
            )
        )
    if rewritten:
        ctx.out(
            tr(
                lang,
                "ledger REWRITTEN: {rewritten}\n"
                "  fix: restore the ledger this machine saw from a trusted copy",
                rewritten=rewritten,
            )
        )
    for problem in problems:
        text = for_log(problem.message(lang))
        ctx.out(tr(lang, "ledger does NOT hold its anchor: {problem}", problem=text))
    count = len(set(anchors))
    if args.anchors_from and not anchors and not problems:
        ctx.out(
            tr(
                lang,
                "no anchors on {platform} (the last {depth} commits of HEAD)",
                platform=args.anchors_from,
                depth=args.anchor_depth,
            )
        )
    elif anchors and not problems:
        ctx.out(tr(lang, "anchors: all {count} held by the ledger", count=count))
    return int(ExitCode.OK if ok else ExitCode.BLOCKED)


def _platform_anchors(ctx: Context, provider: str, depth: int) -> list[PostedStatus]:
    """The anchor statuses the platform holds on the last `depth` commits of HEAD."""
    from gatekeeper.adapters.git import git
    from gatekeeper.reporters.publish import open_platform

    platform = open_platform(provider, ctx.config, ctx.runtime.env)  # type: ignore[arg-type]
    if platform is None:
        raise InputError(
            msg(
                "--anchors-from {provider}: no {provider} token to read the commit statuses with",
                provider=provider,
            ),
            hint=msg(
                "set the token the CI jobs use (GITHUB_TOKEN / GATEKEEPER_GITLAB_TOKEN) and the "
                "repository (GITHUB_REPOSITORY / CI_PROJECT_ID)"
            ),
        )
    shas = git(ctx.repo_root, "rev-list", f"--max-count={depth}", "HEAD").split()
    return platform.anchor_statuses(shas)


def _head(ledger: Ledger, ctx: Context) -> int:
    from gatekeeper.ledger.anchor import ledger_head

    head = ledger_head(ledger)
    if ctx.output_format == "json":
        ctx.out(json.dumps({"seq": head.seq, "hash": head.hash, "anchor": str(head)}))
    else:
        ctx.out(
            tr(
                ctx.lang,
                "ledger head: seq {seq}, hash {hash}\n"
                "  record it outside the ledger (a deployment status, an audit report) and check it later "
                "with `gatekeeper ledger verify --anchor {head}`",
                seq=head.seq,
                hash=head.hash,
                head=head,
            )
        )
    return int(ExitCode.OK)


def _log(ledger: Ledger, ctx: Context, args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise InputError(msg("--limit must be zero (all) or positive"), hint=msg("for example --limit 20"))
    records = list(
        ledger.find(kind=args.kind, system=args.system, rfc=args.rfc, since=args.since, until=args.until)
    )
    if args.limit:
        records = records[-args.limit :]
    if ctx.output_format == "json":
        ctx.out(json.dumps([r.as_dict() for r in records], ensure_ascii=False, indent=2))
        return int(ExitCode.OK)
    for r in records:
        rfcs = ",".join(r.rfcs) or "-"
        data = for_log(json.dumps(r.data, ensure_ascii=False, sort_keys=True), limit=160)
        ctx.out(
            f"{r.seq:>6}  {r.at}  {pad(r.kind, 19)} {for_log(r.system)}  {for_log(rfcs)}  "
            f"{for_log(r.actor)} [{r.actor_source}]  {data}"
        )
    if not records:
        ctx.out(tr(ctx.lang, "no records"))
    return int(ExitCode.OK)


_CSV_FIELDS = ("seq", "id", "kind", "system", "rfcs", "actor", "actor_source", "at", "data", "prev", "hash")


def _cell(value: str) -> str:
    # Spreadsheets run cells starting with these as formulas; an export is opened by auditors.
    return "'" + value if value[:1] in {"=", "+", "-", "@", "\t", "\r"} else value


def _export(ledger: Ledger, ctx: Context, args: argparse.Namespace) -> int:
    target = ctx.runtime.stdout
    handle = None
    if args.output:
        path = ctx.runtime.cwd / args.output
        try:
            handle = path.open("w", encoding="utf-8", newline="")
        except OSError as exc:
            raise InputError(
                msg("cannot write {path}: {reason}", path=path, reason=exc.strerror),
                hint=msg("check the folder and its permissions"),
            ) from None
        target = handle
    try:
        if args.export_format == "jsonl":
            for record in ledger.records():
                target.write(record.to_json() + "\n")
        else:
            writer = csv.writer(target, lineterminator="\n")
            writer.writerow(_CSV_FIELDS)
            for record in ledger.records():
                row = record.as_dict()
                row["rfcs"] = ";".join(record.rfcs)
                row["data"] = json.dumps(record.data, ensure_ascii=False, sort_keys=True)
                writer.writerow([row["seq"], *(_cell(str(row[f])) for f in _CSV_FIELDS[1:])])
    except OSError as exc:
        raise LedgerError(
            msg("cannot write the export: {exc}", exc=exc),
            hint=msg("check the disk space and the permissions"),
        ) from None
    finally:
        if handle is not None:
            handle.close()
    return int(ExitCode.OK)
