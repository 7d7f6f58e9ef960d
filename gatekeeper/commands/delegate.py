"""`gatekeeper delegate --to LOGIN --steps STEP.. --from T --until T [--note]` and `delegate --revoke ID`:
a holder of an approval step's role hands the step to a deputy for a period (a manager on leave), or
withdraws such a delegation (issue 19 item 5).

The delegator is the CI identity, never a flag, and a pipeline job signs the record (`adapters.oidc`). Before
anything is written the delegation is judged as the approval rules will judge it (`rules.delegation`): one
that would count for nothing — to oneself, by someone without the step's role, unsigned where the pack
requires attestation, overlapping a delegation of the same step the delegator already gave — is refused
with exit 2, saying why in Korean and English, and nothing is recorded.
"""

from __future__ import annotations

import argparse
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from gatekeeper.commands import Context
from gatekeeper.commands._records import draft, report_stored, signed, store
from gatekeeper.domain import RecordKind
from gatekeeper.errors import InputError, UsageError
from gatekeeper.messages import msg, tr


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--to", metavar="LOGIN", help="the deputy (a login of the CI platform)")
    parser.add_argument(
        "--steps", nargs="+", metavar="STEP", help="the approval steps handed over, e.g. change-approval"
    )
    parser.add_argument(
        "--from",
        dest="start",
        metavar="T",
        help="when the delegation begins: a time with an offset, or a date (its start, in the system's zone)",
    )
    parser.add_argument(
        "--until",
        dest="end",
        metavar="T",
        help="when it ends: a time with an offset, or a date (through its end, in the system's zone)",
    )
    parser.add_argument("--note", default="", help="why (stored in the record), e.g. 연가 12.7–12.11")
    parser.add_argument("--revoke", metavar="ID", help="withdraw the delegation record with this id instead")


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.revoke:
        return _revoke(args, ctx)
    given = (("--to", args.to), ("--steps", args.steps), ("--from", args.start), ("--until", args.end))
    missing = [flag for flag, value in given if not value]
    if missing:
        raise UsageError(msg("delegate needs {missing} (or --revoke ID)", missing=", ".join(missing)))
    zone = ZoneInfo(ctx.config.timezone)
    start = _moment(args.start, "--from", zone, end=False)
    end = _moment(args.end, "--until", zone, end=True)
    deputy = args.to.strip()
    steps = tuple(dict.fromkeys(s.strip() for s in args.steps if s.strip()))
    known = [str(s) for s in ctx.policy.approvals.steps]
    unknown = [s for s in steps if s not in known]
    if unknown:
        raise InputError(
            msg(
                "--to names nobody, or --steps names no approval step of the pack: {unknown}",
                unknown=", ".join(unknown),
            ),
            hint=msg("use steps of {name}: {known}", name=ctx.policy.name, known=", ".join(known)),
        )
    if not deputy or not steps:
        raise InputError(
            msg("--to names nobody, or --steps names no approval step of the pack: -"),
            hint=msg("use steps of {name}: {known}", name=ctx.policy.name, known=", ".join(known)),
        )
    if end <= start or end <= ctx.runtime.now():
        raise InputError(
            msg(
                "--from {start} --until {end} is not a period still to come (it must end after "
                "it begins, and after now)",
                start=args.start,
                end=args.end,
            ),
            hint=msg("give the period of the absence, e.g. --from 2026-12-07 --until 2026-12-11"),
        )
    data: dict[str, Any] = {
        "to": deputy,
        "steps": list(steps),
        "from": start.isoformat(),
        "until": end.isoformat(),
        "note": args.note,
    }
    record = signed(ctx, draft(ctx, str(RecordKind.DELEGATION), data))
    _refuse_if_void(ctx, record)
    stored = store(ctx, record)
    return report_stored(
        ctx,
        stored,
        tr(
            ctx.lang,
            "{steps} to {deputy} until {end}",
            steps=", ".join(steps),
            deputy=deputy,
            end=end.isoformat(),
        ),
    )


def _moment(text: str, flag: str, zone: ZoneInfo, *, end: bool) -> datetime:
    """A time with an offset, or a date in the system's zone (`--from`: its start; `--until`: its end)."""
    from gatekeeper.untrusted import aware_time

    try:
        day = date.fromisoformat(text.strip())
    except ValueError:
        day = None
    if day is not None:
        moment = datetime.combine(day, time(0), zone)
        return moment + timedelta(days=1) if end else moment
    try:
        return aware_time(text)
    except ValueError as exc:
        raise InputError(
            msg("{flag} {text!r}: {exc}", flag=flag, text=text[:60], exc=exc),
            hint=msg(
                "give {flag} as a date (2026-12-07) or a time with an offset (2026-12-07T09:00:00+09:00)",
                flag=flag,
            ),
        ) from None


def _history(ctx: Context) -> Any:
    """The system's delegation records, folded with their signatures verified (`facts.history`)."""
    from gatekeeper.adapters.oidc import Attestor
    from gatekeeper.commands._records import open_configured
    from gatekeeper.domain.records import PayloadError, read
    from gatekeeper.facts.history import History

    ledger = open_configured(ctx)
    attest = Attestor(ctx.config, ctx.repo_root, ctx.runtime.env, ctx.runtime.now(), ledger=ledger)
    history = History(ctx.policy, ctx.config.system.grade, ctx.config.system.id, attest=attest)
    try:
        for found in ledger.find(kind=str(RecordKind.DELEGATION), system=ctx.config.system.id):
            try:
                history.add(read(found))
            except PayloadError:
                continue  # never counted: `ledger verify` reports it
    finally:
        ledger.close()
    return history


def _refuse_if_void(ctx: Context, record: Any) -> None:
    """Exit 2, nothing written, when the approval rules would count the delegation for nothing."""
    from gatekeeper.adapters.oidc import provider_of
    from gatekeeper.commands._gate import sources_for
    from gatekeeper.domain import ChangeType, Step
    from gatekeeper.facts.gather import role_members
    from gatekeeper.rules import RuleContext
    from gatekeeper.rules.approval import login_key
    from gatekeeper.rules.delegation import Grant, refusal

    data = record.data
    if login_key(data["to"]) == login_key(record.actor):
        raise InputError(
            msg("{actor} cannot delegate to yourself: a deputy is someone else", actor=record.actor),
            hint=msg("name the colleague who approves in your stead with --to"),
        )
    level = ctx.policy.approvals.attestation_level(ctx.config.system.grade)
    attested = None if level == "off" or provider_of(record.actor_source) is None else "attestation" in data
    grant = Grant(
        seq=2**62,  # after every record of the ledger
        record_id="",
        delegator=record.actor,
        deputy=data["to"],
        steps=tuple(data["steps"]),
        start=datetime.fromisoformat(data["from"]),
        end=datetime.fromisoformat(data["until"]),
        actor_source=record.actor_source,
        attested=attested,
    )
    history = _history(ctx)
    members = role_members(ctx.config.roles, sources_for(ctx).role_resolver)
    rule_ctx = RuleContext(
        ctx.policy, ctx.config.system.grade, ChangeType.NORMAL, ctx.runtime.now(), ctx.lang
    )
    existing = tuple(history.delegations)
    for step in grant.steps:
        reason = refusal(grant, step, (*existing, grant), members, rule_ctx)
        if reason is None:
            continue
        en, ko = reason
        roles = ", ".join(str(r) for r in ctx.policy.approvals.steps[Step(step)].roles)
        raise InputError(
            msg(
                "this delegation of {step} would not count: {en}; nothing was recorded",
                step=step,
                en=en,
                ko=ko,
            ),
            hint=msg(
                "a holder of role {roles} delegates {step} from the pipeline's approval job "
                "(GitHub: `permissions: id-token: write`; GitLab: `id_tokens:`), for a period no "
                "earlier delegation of theirs covers (revoke it first: `gatekeeper delegate "
                "--revoke ID`)",
                roles=roles,
                step=step,
            ),
        )


def _revoke(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.rules.approval import login_key
    from gatekeeper.rules.delegation import Grant, Revocation

    record = signed(ctx, draft(ctx, str(RecordKind.DELEGATION), {"revokes": args.revoke, "note": args.note}))
    history = _history(ctx)
    grants = [g for g in history.delegations if isinstance(g, Grant) and g.record_id == args.revoke]
    mine = [g for g in grants if login_key(g.delegator) == login_key(record.actor)]
    revoked = any(
        isinstance(r, Revocation)
        and r.revokes == args.revoke
        and login_key(r.actor) == login_key(record.actor)
        for r in history.delegations
    )
    if not mine or revoked:
        why = (
            msg("it is already revoked")
            if revoked
            else msg("it is not a delegation you recorded")
            if grants
            else msg("there is no delegation record with this id")
        )
        raise InputError(
            msg("--revoke {revoke!r}: {why}; nothing was recorded", revoke=args.revoke[:80], why=why),
            hint=msg("`gatekeeper ledger log --kind delegation` lists the delegation records and their ids"),
        )
    stored = store(ctx, record)
    return report_stored(ctx, stored, tr(ctx.lang, "revokes {revoke}", revoke=args.revoke))
