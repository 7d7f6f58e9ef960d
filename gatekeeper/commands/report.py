"""`gatekeeper report form KIND ID [--html]`: an SOP form from RFC and ledger data.

The forms themselves are built and rendered by `gatekeeper.reporters.forms`; this command finds the RFC
and the ledger records a form is about.
"""

from __future__ import annotations

import argparse
from zoneinfo import ZoneInfo

from gatekeeper.commands import Context
from gatekeeper.domain import RecordKind
from gatekeeper.domain.records import entry_of
from gatekeeper.errors import InputError
from gatekeeper.ledger import LedgerReader
from gatekeeper.reporters.forms import (
    FORM_KINDS,
    Form,
    change_request_form,
    deployment_result_form,
    incident_report_form,
    release_plan_form,
    render_form,
)
from gatekeeper.reporters.sanitize import for_log


def _t(lang: str, en: str, ko: str) -> str:
    return ko if lang == "ko" else en


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="report_command", metavar="SUBCOMMAND", required=True)
    form = sub.add_parser("form", help="render an SOP form from RFC and ledger data")
    form.add_argument("kind", choices=FORM_KINDS, metavar="KIND", help=", ".join(FORM_KINDS))
    form.add_argument("id", metavar="ID", help="an RFC ID, a deployment id or an incident record id")
    form.add_argument("--html", action="store_true", help="HTML instead of Markdown")
    form.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")


def build_form(ctx: Context, ledger: LedgerReader, kind: str, ident: str) -> Form:
    system = ctx.config.system.id
    lang = ctx.lang
    if kind in ("change-request", "release-plan"):
        from gatekeeper.adapters.rfcstore import open_store

        entry = open_store(ctx.repo_root, ctx.config, ctx.runtime.env).get(ident)
        if entry is None:
            raise InputError(
                f"no RFC {ident!r} in the RFC store", hint="`gatekeeper rfc show ID` lists what exists"
            )
        if entry.rfc is None:
            raise InputError(
                f"RFC {ident} does not validate: {entry.error}", hint=f"`gatekeeper rfc validate {ident}`"
            )
        approvals = [
            entry_of(r) for r in ledger.find(kind=RecordKind.APPROVAL.value, system=system, rfc=ident)
        ]
        if kind == "change-request":
            return change_request_form(entry.rfc, approvals, lang)
        evidence = [
            entry_of(r) for r in ledger.find(kind=RecordKind.TEST_EVIDENCE.value, system=system, rfc=ident)
        ]
        return release_plan_form(entry.rfc, approvals, evidence, lang)
    if kind == "deployment-result":
        started = next(
            (
                entry_of(r)
                for r in ledger.find(kind=RecordKind.DEPLOYMENT_STARTED.value, system=system)
                if r.id == ident
            ),
            None,
        )
        if started is None:
            raise InputError(
                f"no deployment {ident!r} of {system} in the ledger",
                hint="use the id `gatekeeper deploy start` printed; `gatekeeper ledger log` lists them",
            )
        finishes = (
            entry_of(r) for r in ledger.find(kind=RecordKind.DEPLOYMENT_FINISHED.value, system=system)
        )
        finished = next((f for f in finishes if f.payload.started == ident), None)
        return deployment_result_form(started, finished, lang)
    from gatekeeper.commands._incidents import fold_incidents

    incident = fold_incidents(ledger, system).get(ident)  # by incident ID, record id or deployment id
    if incident is None:
        raise InputError(
            f"no incident {ident!r} of {system} in the ledger",
            hint="give the incident's ID, its record id or the id of the deployment that opened it",
        )
    return incident_report_form(incident, ctx.config.system.name, lang)


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.ledger.backends import open_ledger

    ledger = open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)
    try:
        form = build_form(ctx, ledger, args.kind, args.id)
    finally:
        ledger.close()
    zone = ZoneInfo(ctx.config.timezone)
    text = render_form(
        form, html=args.html, lang=ctx.lang, generated=ctx.runtime.now().astimezone(zone).isoformat()
    )
    if args.output:
        target = ctx.runtime.cwd / args.output
        target.write_text(text, encoding="utf-8")
        ctx.out(_t(ctx.lang, f"wrote {for_log(str(target))}", f"{for_log(str(target))} 작성 완료"))
    else:
        ctx.runtime.stdout.write(text)
    return 0
