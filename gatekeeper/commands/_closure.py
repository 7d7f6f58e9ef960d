"""What `release accept|review|close` and `evidence add --deployment` share: the deployment a record is
about, read from the ledger, and the judgement of the record before it is written (`rules.closure`).

A record the gate would not count is not written: one about a deployment that was never started (a made-up
id), is still open, or did not succeed; one by someone without the role, from a workstation where the pack
refuses those, or a closure before the acceptance, the review and the production tests.
"""

from __future__ import annotations

from typing import Any

from gatekeeper.commands import Context
from gatekeeper.domain import RecordKind
from gatekeeper.domain.closure import Release
from gatekeeper.errors import InputError, UsageError
from gatekeeper.ledger import Draft, Ledger, LedgerReader
from gatekeeper.messages import msg


def release_of(ctx: Context, ledger: Ledger, deployment_id: str) -> tuple[Any, Release]:
    """The history of one deployment (its start, finish and the records about it) and its release;
    exit 2 when it is no deployment of this system that finished successfully."""
    from gatekeeper.domain.records import entry_of
    from gatekeeper.facts.history import CLOSURE_KINDS, History

    system = ctx.config.system.id
    wanted = deployment_id.strip()
    started = next(
        (r for r in ledger.find(kind=str(RecordKind.DEPLOYMENT_STARTED), system=system) if r.id == wanted),
        None,
    )
    if started is None:
        raise InputError(
            msg(
                "no deployment.started record of {system} has the id {deployment_id!r}",
                system=system,
                deployment_id=deployment_id,
            ),
            hint=msg(
                "use the id `gatekeeper deploy start` printed; `gatekeeper ledger log` lists the records"
            ),
        )
    finished = [
        r
        for r in ledger.find(kind=str(RecordKind.DEPLOYMENT_FINISHED), system=system, since=started.moment)
        if getattr(entry_of(r).payload, "started", None) == wanted
    ]
    history = History(ctx.policy, ctx.config.system.grade, system, members=_members(ctx))
    history.attest = _attestor(ctx, ledger)
    history.environment_name = ctx.config.declared_environments().canonical
    history.requesters = _requesters(ctx)
    history.environment_kind = ctx.config.declared_environments().kind
    records = {started.seq: started, **{r.seq: r for r in finished}}
    if finished:
        for kind in (*CLOSURE_KINDS, RecordKind.TEST_EVIDENCE):
            for record in ledger.find(kind=str(kind), system=system, since=finished[0].moment):
                records[record.seq] = record
    for seq in sorted(records):
        history.add(entry_of(records[seq]))
    release = history.closures.releases.get(wanted) or history.closures.settled.get(wanted)
    if release is None:
        if not finished:
            raise UsageError(
                msg(
                    "deployment {wanted} has not finished: it is accepted, tested and closed after "
                    "it finished",
                    wanted=wanted,
                ),
                hint=msg(
                    "finish it first: `gatekeeper deploy finish {wanted} --result success|failure|..`",
                    wanted=wanted,
                ),
            )
        result = entry_of(finished[0]).payload.result
        if str(result) == "success":
            raise UsageError(
                msg(
                    "deployment {wanted} was not to production: only a production release is "
                    "accepted and closed",
                    wanted=wanted,
                ),
                hint=msg("name the deployment to production of the same release"),
            )
        raise UsageError(
            msg(
                "deployment {wanted} ended {result}: only a successful deployment is accepted and closed",
                wanted=wanted,
                result=result,
            ),
            hint=msg(
                "a failed or rolled-back deployment goes to incident management (`gatekeeper "
                "incident`); the fix is deployed again and closed then"
            ),
        )
    return history, release


def refuse_uncounted(ctx: Context, history: Any, release: Release, draft: Draft, what: str) -> None:
    """Exit 2, writing nothing, when the gate would not count the record `draft` (rules.closure)."""
    from gatekeeper.domain.records import Entry, parse_payload
    from gatekeeper.rules.closure import judge, refusal

    at = draft.at
    entry = Entry(
        1 << 62,
        "",
        draft.kind,
        draft.system,
        draft.rfcs,
        draft.actor,
        draft.actor_source,
        at,
        parse_payload(draft.kind, draft.data),
    )
    state = judge(ctx.policy, ctx.config.system.grade, release, at, history.members, history.requesters)
    reason = refusal(
        ctx.policy, ctx.config.system.grade, history.members, history.requesters, release, entry, state
    )
    if reason is None:
        return
    en, ko = reason
    raise UsageError(
        msg("this {what} would not count: {en}; nothing was recorded", what=what, en=en, ko=ko),
        hint=msg(
            "the requester (or an agency officer) accepts, the operator manager reviews, the "
            "agency officer closes, from the pipeline, in that order (the pack's `closure` "
            "section)"
        ),
    )


def _attestor(ctx: Context, ledger: LedgerReader) -> Any:
    from gatekeeper.commands._gate import sources_for
    from gatekeeper.facts.gather import attestor

    return attestor(ctx.config, sources_for(ctx), ctx.runtime.now(), ledger)


def require_signature(ctx: Context, record_draft: Draft, what: str, level: str) -> None:
    """Exit 2, writing nothing, when the pack counts `what` only signed by the CI platform and this job
    cannot sign it (no OIDC ID token)."""
    if level != "required" or "attestation" in record_draft.data:
        return
    raise UsageError(
        msg(
            "this {what} would not count: the CI platform cannot sign it here (no OIDC ID "
            "token), so nothing would show who recorded it; nothing was recorded",
            what=what,
        ),
        hint=msg(
            "record it in a pipeline job that may request a token (GitHub: `permissions: "
            "id-token: write`; GitLab: `id_tokens: {GATEKEEPER_ID_TOKEN: {aud: gatekeeper}}`)"
        ),
    )


def _members(ctx: Context) -> Any:
    from gatekeeper.commands._gate import sources_for
    from gatekeeper.facts.gather import role_members

    return role_members(ctx.config.roles, sources_for(ctx).role_resolver)


def _requesters(ctx: Context) -> Any:
    from gatekeeper.adapters.rfcstore import open_store

    store = open_store(ctx.repo_root, ctx.config, ctx.runtime.env)

    def requester(rfc_id: str) -> str | None:
        entry = store.get(rfc_id)
        return str(entry.rfc.requester) if entry is not None and entry.rfc is not None else None

    return requester
