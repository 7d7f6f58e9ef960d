"""`gatekeeper rfc new | validate | show`."""

from __future__ import annotations

import argparse
import json

from gatekeeper.commands import Context
from gatekeeper.domain.rfcid import next_id
from gatekeeper.errors import ConfigError, ExitCode, UsageError
from gatekeeper.messages import msg, ptr, tr


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="rfc_command", metavar="SUBCOMMAND", required=True)
    new = sub.add_parser("new", help="write a new RFC file from the template")
    new.add_argument("--title", required=True)
    new.add_argument(
        "--type", choices=["normal", "standard", "emergency"], default="normal", dest="change_type"
    )
    new.add_argument("--id", dest="rfc_id", help="the ID to use (default: the next free one)")
    new.add_argument("--requester", help="platform login of the requester (default: the CI or local user)")
    new.add_argument(
        "--lang",
        dest="template_lang",
        choices=["ko", "en"],
        help="template labels (default: ko for kr-ap-sop)",
    )
    validate = sub.add_parser("validate", help="validate RFC files and their plans")
    validate.add_argument("ids", nargs="*", metavar="ID", help="RFC IDs (default: every RFC file)")
    show = sub.add_parser("show", help="show an RFC, its digest and its state")
    show.add_argument("rfc_id", metavar="ID")


def _actor(ctx: Context) -> str:
    env = ctx.runtime.env
    for name in ("GITHUB_ACTOR", "GITLAB_USER_LOGIN", "GATEKEEPER_USER", "USER"):
        if env.get(name):
            return env[name]
    return "requester"


def _new(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.adapters.rfcstore import FileRfcStore
    from gatekeeper.reporters.render import render_template

    config = ctx.config
    if config.rfc.store != "files":
        raise UsageError(
            msg("this repository keeps RFCs in {store} issues", store=config.rfc.store),
            hint=msg("open an issue with the 변경요청서 issue template instead"),
        )
    store = FileRfcStore(ctx.repo_root, config)
    existing = [e.id for e in store.entries()]
    now = ctx.runtime.now()
    rfc_id = args.rfc_id or next_id(config.rfc.id_pattern, existing, now.year)
    path = store.path_for(rfc_id)
    if path.exists():
        raise UsageError(
            msg("{path} already exists", path=path), hint=msg("choose another --id or edit the existing RFC")
        )
    lang = args.template_lang or ("ko" if config.policy == "kr-ap-sop" else "en")
    from zoneinfo import ZoneInfo

    text = render_template(
        f"rfc.{lang}.yml.j2",
        id=rfc_id,
        title=args.title,
        type=args.change_type,
        requester=args.requester or _actor(ctx),
        system=config.system.id,
        requested_at=now.astimezone(ZoneInfo(config.timezone)).replace(microsecond=0).isoformat(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    written = str(path.relative_to(ctx.repo_root))
    return ctx.done(tr(ctx.lang, "wrote {path}", path=written), id=rfc_id, path=written)


def _validate(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.adapters.rfcstore import open_store
    from gatekeeper.domain import ChangeType, Grade, Outcome
    from gatekeeper.domain.rfc import RfcEntry
    from gatekeeper.rules import RuleContext
    from gatekeeper.rules.rfc import check_rfc

    config = ctx.config
    policy = ctx.policy  # a broken pack is reported even when there is no RFC yet
    store = open_store(ctx.repo_root, config, ctx.runtime.env)
    entries: list[RfcEntry] = []
    if args.ids:
        for rfc_id in args.ids:
            entry = store.get(rfc_id)
            if entry is None:
                raise ConfigError(
                    msg("no RFC {rfc_id} in the {store} store", rfc_id=rfc_id, store=config.rfc.store)
                )
            entries.append(entry)
    else:
        entries = list(store.entries())
    findings = []
    for entry in entries:
        change_type = entry.rfc.type if entry.rfc else ChangeType.NORMAL
        rule_ctx = RuleContext(policy, Grade(config.system.grade), change_type, ctx.runtime.now(), ctx.lang)
        findings.extend(check_rfc(entry, rule_ctx))
    outcome = Outcome(
        system=config.system.id,
        grade=int(config.system.grade),
        change_type=entries[0].rfc.type if len(entries) == 1 and entries[0].rfc else "",
        rfcs=tuple(e.id for e in entries),
        findings=tuple(findings),
    )
    return ctx.emit(outcome)


def _show(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.adapters.rfcstore import open_store

    store = open_store(ctx.repo_root, ctx.config, ctx.runtime.env)
    entry = store.get(args.rfc_id)
    if entry is None:
        raise ConfigError(
            msg("no RFC {rfc_id} in the {store} store", rfc_id=args.rfc_id, store=ctx.config.rfc.store)
        )
    if entry.rfc is None:
        raise ConfigError(entry.error, ko=entry.error_ko or entry.error)
    body = {"where": entry.where, "digest": entry.digest, "rfc": entry.rfc.model_dump(mode="json")}
    if ctx.output_format == "json":
        ctx.out(json.dumps(body, ensure_ascii=False, indent=2))
        return int(ExitCode.OK)
    from gatekeeper.reporters.sanitize import for_log
    from gatekeeper.reporters.words import word

    rfc, lang = entry.rfc, ctx.lang
    lines = [
        f"{rfc.id}  {for_log(rfc.title)}",
        "  "
        + ptr(
            lang,
            "rfc show",
            "type: {type}   status: {status}   requester: {requester}",
            type=word(rfc.type, lang),
            status=word(rfc.status, lang),
            requester=for_log(rfc.requester),
        ),
        "  " + ptr(lang, "rfc show", "systems: {systems}", systems=", ".join(rfc.systems)),
        "  " + ptr(lang, "rfc show", "reason: {reason}", reason=for_log(rfc.reason)),
        "  " + ptr(lang, "rfc show", "digest: {digest}", digest=entry.digest),
        "  " + ptr(lang, "rfc show", "file: {file}", file=entry.where),
    ]
    ctx.out("\n".join(lines))
    return int(ExitCode.OK)


def run(args: argparse.Namespace, ctx: Context) -> int:
    handlers = {"new": _new, "validate": _validate, "show": _show}
    return handlers[args.rfc_command](args, ctx)
