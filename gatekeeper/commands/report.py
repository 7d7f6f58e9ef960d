"""`gatekeeper report form KIND ID [--html|--pdf|--hwpx]`: an SOP form from RFC and ledger data.

The forms themselves are built and rendered by `gatekeeper.reporters.forms`; this command finds the RFC
and the ledger records a form is about.
"""

from __future__ import annotations

import argparse
from typing import Any
from zoneinfo import ZoneInfo

from gatekeeper.commands import Context
from gatekeeper.commands._options import add_period, period
from gatekeeper.domain import RecordKind
from gatekeeper.domain.records import entry_of
from gatekeeper.errors import InputError, UsageError
from gatekeeper.ledger import LedgerReader
from gatekeeper.messages import msg, tr
from gatekeeper.reporters.forms import (
    FORM_KINDS,
    Form,
    Letterhead,
    change_request_form,
    deployment_result_form,
    incident_report_form,
    release_plan_form,
    render_form,
    system_letterhead,
    when,
)
from gatekeeper.reporters.sanitize import for_log


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="report_command", metavar="SUBCOMMAND", required=True)
    form = sub.add_parser("form", help="render an SOP form from RFC and ledger data")
    form.add_argument("kind", choices=FORM_KINDS, metavar="KIND", help=", ".join(FORM_KINDS))
    form.add_argument("id", metavar="ID", help="an RFC ID, a deployment id or an incident record id")
    form.add_argument("--html", action="store_true", help="HTML instead of Markdown")
    form.add_argument(
        "--pdf", action="store_true", help="PDF on A4, printed by headless Chromium (needs --output)"
    )
    form.add_argument(
        "--hwpx",
        action="store_true",
        help="HWPX (한글) document with tables and the 결재란 (needs --output and sop-gatekeeper[hwpx])",
    )
    form.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of standard output")
    register = sub.add_parser(
        "register",
        help="the SOP's registers (변경이력·배포·장애 관리대장) as one .xlsx workbook",
    )
    add_period(register)
    register.add_argument("--output", "-o", metavar="FILE.xlsx", required=True, help="the workbook to write")


def _standing(ctx: Context, ledger: LedgerReader, approvals: list[Any], rfc_id: str) -> dict[int, str]:
    """How each approval record of the RFC stands for the approval rules, read by the gate's own history
    (`facts.history`, attestations verified): the decision that counts, superseded, or not counted."""
    from gatekeeper.adapters.oidc import Attestor
    from gatekeeper.facts.history import History
    from gatekeeper.reporters.forms import COUNTED, NOT_COUNTED, SUPERSEDED

    attest = Attestor(ctx.config, ctx.repo_root, ctx.runtime.env, ctx.runtime.now(), ledger=ledger)
    history = History(ctx.policy, ctx.config.system.grade, ctx.config.system.id, attest=attest)
    history.feed(approvals)
    counted = {d.seq for d in history.latest(rfc_id)}
    ignored = {d.seq for d in history.ignored(rfc_id)}
    standing = {}
    for entry in approvals:
        if entry.seq in ignored:
            standing[entry.seq] = NOT_COUNTED
        else:
            standing[entry.seq] = COUNTED if entry.seq in counted else SUPERSEDED
    return standing


def _deputies(ctx: Context, ledger: LedgerReader, approvals: list[Any], rfc_id: str) -> dict[int, str]:
    """Approval seq -> the delegator a deputy gave it for, as the approval rules read the ledger's
    delegations (`rules.delegation`: signed, by a holder, in the period, unrevoked)."""
    from gatekeeper.adapters.oidc import Attestor
    from gatekeeper.commands._gate import sources_for
    from gatekeeper.facts.gather import role_members
    from gatekeeper.facts.history import History
    from gatekeeper.rules import RuleContext
    from gatekeeper.rules.approval import with_deputies

    system = ctx.config.system.id
    delegations = [entry_of(r) for r in ledger.find(kind=RecordKind.DELEGATION.value, system=system)]
    if not delegations:
        return {}
    attest = Attestor(ctx.config, ctx.repo_root, ctx.runtime.env, ctx.runtime.now(), ledger=ledger)
    history = History(ctx.policy, ctx.config.system.grade, system, attest=attest)
    history.feed(sorted([*delegations, *approvals], key=lambda e: e.seq))
    members = role_members(ctx.config.roles, sources_for(ctx).role_resolver)
    rule_ctx = RuleContext(ctx.policy, ctx.config.system.grade, _normal(), ctx.runtime.now(), ctx.lang)
    decisions = with_deputies(history.latest(rfc_id), tuple(history.delegations), members, rule_ctx)
    return {d.seq: d.deputy_for for d in decisions if d.deputy_for}


def _normal() -> Any:
    from gatekeeper.domain import ChangeType

    return ChangeType.NORMAL


def build_form(ctx: Context, ledger: LedgerReader, kind: str, ident: str) -> Form:
    system = ctx.config.system.id
    lang = ctx.lang
    zone = ZoneInfo(ctx.config.timezone)
    if kind in ("change-request", "release-plan"):
        from gatekeeper.adapters.rfcstore import open_store

        entry = open_store(ctx.repo_root, ctx.config, ctx.runtime.env).get(ident)
        if entry is None:
            raise InputError(
                msg("no RFC {ident!r} in the RFC store", ident=ident),
                hint=msg("`gatekeeper rfc show ID` lists what exists"),
            )
        if entry.rfc is None:
            raise InputError(
                msg(
                    "RFC {ident} does not validate: {error}",
                    ident=ident,
                    error=entry.error,
                    entry_error_ko=entry.error_ko or entry.error,
                ),
                hint=msg("`gatekeeper rfc validate {ident}`", ident=ident),
            )
        approvals = [
            entry_of(r) for r in ledger.find(kind=RecordKind.APPROVAL.value, system=system, rfc=ident)
        ]
        standing = _standing(ctx, ledger, approvals, ident)
        deputies = _deputies(ctx, ledger, approvals, ident)
        if kind == "change-request":
            return change_request_form(
                entry.rfc, approvals, lang, zone=zone, standing=standing, deputies=deputies
            )
        evidence = [
            entry_of(r) for r in ledger.find(kind=RecordKind.TEST_EVIDENCE.value, system=system, rfc=ident)
        ]
        from gatekeeper.facts.gather import sequence_verifier, system_states

        systems, now = entry.rfc.systems, ctx.runtime.now()
        verify = sequence_verifier(ctx.config, ctx.policy, ctx.repo_root, ctx.runtime.env, now, ledger)
        order = system_states(ledger, ctx.config, ident, systems, now, verify) if len(systems) > 1 else ()
        return release_plan_form(
            entry.rfc, approvals, evidence, lang, zone=zone, standing=standing, order=order, deputies=deputies
        )
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
                msg("no deployment {ident!r} of {system} in the ledger", ident=ident, system=system),
                hint=msg("use the id `gatekeeper deploy start` printed; `gatekeeper ledger log` lists them"),
            )
        finishes = (
            entry_of(r) for r in ledger.find(kind=RecordKind.DEPLOYMENT_FINISHED.value, system=system)
        )
        finished = next((f for f in finishes if f.payload.started == ident), None)
        from gatekeeper.facts.history import CLOSURE_KINDS

        about = [
            entry_of(r)
            for kind in (*CLOSURE_KINDS, RecordKind.TEST_EVIDENCE)
            for r in ledger.find(kind=str(kind), system=system, since=started.moment)
        ]
        closure = sorted(
            (e for e in about if getattr(e.payload, "deployment", "") == ident), key=lambda e: e.seq
        )
        return deployment_result_form(started, finished, lang, zone=zone, closure=closure)
    from gatekeeper.commands._incidents import fold_incidents

    incident = fold_incidents(ledger, system).get(ident)  # by incident ID, record id or deployment id
    if incident is None:
        raise InputError(
            msg("no incident {ident!r} of {system} in the ledger", ident=ident, system=system),
            hint=msg("give the incident's ID, its record id or the id of the deployment that opened it"),
        )
    return incident_report_form(incident, ctx.config.system.name, lang)


def letterhead(ctx: Context, head: str) -> Letterhead:
    """What a submitted document says besides its content (`forms.system_letterhead`)."""
    system = ctx.config.system
    return system_letterhead(
        ctx.lang, name=system.name, ident=system.id, grade=system.grade, agency=system.agency, head=head
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.ledger.anchor import ledger_head
    from gatekeeper.ledger.backends import open_ledger

    if args.report_command == "register":
        return _register(args, ctx)
    if args.hwpx and (args.html or args.pdf):
        chosen = " ".join(f"--{name}" for name in ("html", "pdf", "hwpx") if getattr(args, name))
        raise UsageError(
            msg("{chosen}: choose one format", chosen=chosen),
            hint=msg("Markdown by default, or --html, --pdf or --hwpx"),
        )
    for name, suffix in (("pdf", "pdf"), ("hwpx", "hwpx")):
        if getattr(args, name) and not args.output:
            example = f"gatekeeper report form change-request RFC-2026-0001 --{name} -o rfc.{suffix}"
            raise UsageError(
                msg("--{name} writes a file: name it with --output", name=name),
                hint=msg("e.g. `{example}`", example=example),
            )
    if args.hwpx:
        from gatekeeper.reporters.hwpx import require

        require()
    ledger = open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)
    try:
        form = build_form(ctx, ledger, args.kind, args.id)
        head = ledger_head(ledger)
    finally:
        ledger.close()
    zone = ZoneInfo(ctx.config.timezone)
    heading = letterhead(ctx, str(head))
    generated = when(ctx.runtime.now(), zone)
    text = render_form(
        form, html=args.html or args.pdf, lang=ctx.lang, generated=generated, letterhead=heading
    )
    if args.output:
        target = ctx.runtime.cwd / args.output
        if args.pdf:
            from gatekeeper.adapters.chromium import print_pdf

            print_pdf(text, target, ctx.runtime.env)
        elif args.hwpx:
            from gatekeeper.reporters.hwpx import write_hwpx

            write_hwpx(form, target, lang=ctx.lang, generated=generated, letterhead=heading)
        else:
            target.write_text(text, encoding="utf-8")
        line = tr(ctx.lang, "wrote {target}", target=for_log(str(target)))
        return ctx.done(line, kind=args.kind, id=args.id, output=str(target))
    if ctx.output_format == "json":
        return ctx.done("", kind=args.kind, id=args.id, html=bool(args.html), form=text)
    ctx.runtime.stdout.write(text)
    return 0


def _register(args: argparse.Namespace, ctx: Context) -> int:
    """`report register`: RFCs, deployments and incidents of the period (all RFCs of the store)."""
    from gatekeeper.adapters.rfcstore import open_store
    from gatekeeper.ledger.anchor import ledger_head
    from gatekeeper.ledger.backends import open_ledger
    from gatekeeper.reporters.register import (
        change_register,
        deployment_register,
        incident_register,
        pair_deployments,
        write_workbook,
    )

    since, until = period(args, ctx.config)
    system, zone, lang = ctx.config.system, ZoneInfo(ctx.config.timezone), ctx.lang

    def inside(moment: Any) -> bool:
        return (since is None or moment >= since) and (until is None or moment < until)

    ledger = open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)
    try:

        def entries(kind: RecordKind) -> list[Any]:
            return [entry_of(r) for r in ledger.find(kind=kind.value, system=system.id, until=until)]

        approvals = entries(RecordKind.APPROVAL)
        started = [e for e in entries(RecordKind.DEPLOYMENT_STARTED) if inside(e.moment)]
        deployments = pair_deployments(started, entries(RecordKind.DEPLOYMENT_FINISHED))
        incidents = [e for e in entries(RecordKind.INCIDENT_OPENED) if inside(e.moment)]
        head = ledger_head(ledger)
    finally:
        ledger.close()
    rfcs = list(open_store(ctx.repo_root, ctx.config, ctx.runtime.env).entries())
    sheets = (
        change_register(rfcs, approvals, deployments, lang, zone),
        deployment_register(deployments, lang, zone),
        incident_register(incidents, system.name, lang, zone),
    )
    target = ctx.runtime.cwd / args.output
    try:
        write_workbook(sheets, target, title=f"{system.name} ({system.id})", head=str(head))
    except OSError as exc:
        raise InputError(
            msg(
                "{output}: cannot write the workbook: {reason}",
                output=args.output,
                reason=exc.strerror or exc,
            ),
            hint=msg("choose a writable path for --output"),
        ) from None
    counts = tuple(len(sheet.rows) for sheet in sheets)
    return ctx.done(
        tr(
            lang,
            "wrote {target}: {counts} changes, {counts_1} deployments, {counts_2} incidents",
            target=for_log(str(target)),
            counts=counts[0],
            counts_1=counts[1],
            counts_2=counts[2],
        ),
        output=str(target),
        changes=counts[0],
        deployments=counts[1],
        incidents=counts[2],
    )
