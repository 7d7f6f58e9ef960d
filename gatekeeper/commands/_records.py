"""Writing records: the one way every write command drafts, stores and reports a ledger record."""

from __future__ import annotations

import json
from typing import Any

from gatekeeper.commands import Context
from gatekeeper.domain import ActorSource
from gatekeeper.errors import ConfigError, ExitCode, InputError
from gatekeeper.ledger import Draft, Ledger, LedgerReader, Precondition, Record
from gatekeeper.messages import msg, tr
from gatekeeper.reporters.sanitize import for_log


def open_configured(ctx: Context) -> Ledger:
    from gatekeeper.ledger.backends import open_ledger

    return open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)


def store(ctx: Context, draft: Draft, precondition: Precondition | None = None) -> Record:
    """Append `draft` to the configured ledger (`append`); returns only once the record is durable."""
    ledger = open_configured(ctx)
    try:
        return append(ctx, ledger, draft, precondition)
    finally:
        ledger.close()


def append(ctx: Context, ledger: Ledger, draft: Draft, precondition: Precondition | None = None) -> Record:
    """The one way a command appends a record to an open ledger: signed by the CI platform where the job
    can be (`signed`), and noted for the anchor the command posts when it ends (`Context.wrote`)."""
    return ctx.wrote(ledger.append(signed(ctx, draft, ledger), precondition))


def signed(ctx: Context, draft: Draft, ledger: LedgerReader | None = None) -> Draft:
    """`draft` with the CI platform's signature in `data.attestation` when a CI job writes it and can get
    an OIDC ID token (`adapters.oidc.sign_record`): rewriting the stored record later breaks it, which
    `ledger verify --attestations` reports. Approvals carry `approve`'s own attestation instead. A GitLab
    job's signature is chained to its earlier records in the ledger it goes to (`ledger`, else the
    configured one)."""
    import dataclasses

    from gatekeeper.adapters.ci import in_ci

    if draft.kind == "approval" or "attestation" in draft.data or not in_ci(ctx.runtime.env):
        return draft
    from gatekeeper.adapters.oidc import sign_record

    runtime = ctx.runtime
    if ledger is None and draft.actor_source == ActorSource.GITLAB_CI:
        reader = open_configured(ctx)
        try:
            return signed(ctx, draft, reader)
        finally:
            reader.close()
    signature = sign_record(ctx.config, ctx.repo_root, runtime.env, runtime.now(), draft, ledger)
    if signature is None:
        return draft
    return dataclasses.replace(draft, data={**draft.data, "attestation": signature})


def rfc_digest(ctx: Context, rfc_id: str) -> str:
    """The content digest of an existing, valid RFC (what approvals, notices and PIRs bind to)."""
    from gatekeeper.adapters.rfcstore import open_store

    entry = open_store(ctx.repo_root, ctx.config, ctx.runtime.env).get(rfc_id)
    if entry is None:
        raise InputError(
            msg("there is no RFC {rfc_id}", rfc_id=rfc_id),
            hint=msg("create it with `gatekeeper rfc new`, or check the ID"),
        )
    if entry.rfc is None:
        raise ConfigError(
            msg(
                "RFC {rfc_id} is not valid: {error}",
                rfc_id=rfc_id,
                error=entry.error,
                entry_error_ko=entry.error_ko or entry.error,
            ),
            hint=msg("fix {where}", where=entry.where),
        )
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
    """What every write command prints once its record is stored: the record (JSON) or one line, with
    `summary` (already said in the language of the run)."""
    if ctx.output_format == "json":
        ctx.out(json.dumps({"ok": True, "record": record.as_dict()}, ensure_ascii=False, indent=2))
    else:
        ctx.out(
            tr(
                ctx.lang,
                "recorded {kind} #{seq} ({summary}) by {actor} [{source}], hash {hash}",
                kind=record.kind,
                seq=record.seq,
                summary=summary,
                actor=for_log(record.actor),
                source=record.actor_source,
                hash=record.hash[:16],
            )
        )
    return int(ExitCode.OK)
