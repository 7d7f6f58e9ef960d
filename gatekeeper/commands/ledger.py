"""`gatekeeper ledger verify | log | export`, and the one way every write command stores a record."""

from __future__ import annotations

import argparse
import csv
import json
from datetime import datetime
from typing import Any

from gatekeeper.commands import Context
from gatekeeper.commands.options import parse_time
from gatekeeper.errors import ConfigError, ExitCode, InputError, LedgerError
from gatekeeper.ledger import Draft, Ledger, Precondition, Record
from gatekeeper.reporters.sanitize import for_log


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="ledger_command", metavar="SUBCOMMAND", required=True)
    sub.add_parser("verify", help="check the whole hash chain; names the first bad seq (exit 1)")
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


def _since(text: str) -> datetime:
    return parse_time(text, "--since")


def _until(text: str) -> datetime:
    return parse_time(text, "--until")


def open_configured(ctx: Context) -> Ledger:
    from gatekeeper.ledger.backends import open_ledger

    return open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)


def store(ctx: Context, draft: Draft, precondition: Precondition | None = None) -> Record:
    """Append `draft` to the configured ledger; returns only once the record is durable."""
    ledger = open_configured(ctx)
    try:
        return ledger.append(draft, precondition)
    finally:
        ledger.close()


def rfc_digest(ctx: Context, rfc_id: str) -> str:
    """The content digest of an existing, valid RFC (what approvals, notices and PIRs bind to)."""
    from gatekeeper.adapters.rfcstore import open_store

    entry = open_store(ctx.repo_root, ctx.config, ctx.runtime.env).get(rfc_id)
    if entry is None:
        raise InputError(
            f"there is no RFC {rfc_id}",
            hint="create it with `gatekeeper rfc new`, or check the ID",
        )
    if entry.rfc is None:
        raise ConfigError(f"RFC {rfc_id} is not valid: {entry.error}", hint=f"fix {entry.where}")
    return entry.digest


def draft(ctx: Context, kind: str, data: dict[str, Any], rfcs: tuple[str, ...] = ()) -> Draft:
    """A record of this system by the current actor (CI identity in a pipeline, git identity locally)."""
    from gatekeeper.adapters.identity import current_actor

    actor = current_actor(ctx.runtime.env, ctx.runtime.cwd)
    return Draft(
        kind=kind,
        system=ctx.config.system.id,
        actor=actor.name,
        actor_source=str(actor.source),
        at=ctx.runtime.now(),
        data=data,
        rfcs=rfcs,
    )


def report_stored(ctx: Context, record: Record, summary: str) -> int:
    """What every write command prints once its record is stored: the record (JSON) or one line."""
    if ctx.output_format == "json":
        ctx.out(json.dumps({"ok": True, "record": record.as_dict()}, ensure_ascii=False, indent=2))
    else:
        ctx.out(
            f"recorded {record.kind} #{record.seq} ({summary}) by {for_log(record.actor)} "
            f"[{record.actor_source}], hash {record.hash[:16]}"
        )
    return int(ExitCode.OK)


def run(args: argparse.Namespace, ctx: Context) -> int:
    ledger = open_configured(ctx)
    try:
        if args.ledger_command == "verify":
            return _verify(ledger, ctx)
        if args.ledger_command == "log":
            return _log(ledger, ctx, args)
        return _export(ledger, ctx, args)
    finally:
        ledger.close()


def _verify(ledger: Ledger, ctx: Context) -> int:
    result = ledger.verify()
    if ctx.output_format == "json":
        body = {
            "ok": result.ok,
            "count": result.count,
            "first_bad_seq": result.first_bad_seq,
            "reason": result.reason,
            "head": result.head,
        }
        ctx.out(json.dumps(body, indent=2))
    elif result.ok:
        ctx.out(f"ledger verified: {result.count} records, chain intact, head {result.head}")
    else:
        ctx.out(
            f"ledger BROKEN at seq {result.first_bad_seq}: {result.reason} "
            f"({result.count} records before it are intact)\n"
            "  fix: restore the ledger from a trusted copy; records from that seq on cannot be trusted"
        )
    return int(ExitCode.OK if result.ok else ExitCode.BLOCKED)


def _log(ledger: Ledger, ctx: Context, args: argparse.Namespace) -> int:
    if args.limit < 0:
        raise InputError("--limit must be zero (all) or positive")
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
            f"{r.seq:>6}  {r.at}  {r.kind:<19} {for_log(r.system)}  {for_log(rfcs)}  "
            f"{for_log(r.actor)} [{r.actor_source}]  {data}"
        )
    if not records:
        ctx.out("no records")
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
            raise InputError(f"cannot write {path}: {exc.strerror}") from None
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
        raise LedgerError(f"cannot write the export: {exc}") from None
    finally:
        if handle is not None:
            handle.close()
    return int(ExitCode.OK)
