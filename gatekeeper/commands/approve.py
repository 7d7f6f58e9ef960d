"""`gatekeeper approve RFC --step S --decision approve|reject [--comment]`: one approval record.

The record binds the RFC's content digest, so an approval never carries over to an RFC edited after it.
The approver is the CI identity (or the git identity, marked `local`), never a flag; in CI the platform's
OIDC ID token, requested for this one record, proves it (`domain.attestation`) and is stored with it.

Before anything is written the decision is checked as the gate will judge it (`rules.admission`): a
decision the gate would never count is refused with exit 1, naming the rule and the fix, and nothing is
recorded. An issuer that cannot be reached is exit 3, also with nothing recorded.
"""

from __future__ import annotations

import argparse
from typing import Any

from gatekeeper.commands import Context
from gatekeeper.commands._records import report_stored, store
from gatekeeper.domain import Finding, Outcome, RecordKind, Severity
from gatekeeper.errors import ConfigError, ExitCode
from gatekeeper.ledger import Draft
from gatekeeper.messages import in_language, msg
from gatekeeper.reporters.words import word
from gatekeeper.rules import RuleContext


def configure(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("rfc_id", metavar="RFC", help="the RFC being approved")
    parser.add_argument("--step", required=True, help="the approval step of the policy pack, e.g. cab")
    parser.add_argument("--decision", required=True, choices=["approve", "reject"])
    parser.add_argument("--comment", default="", help="why (stored in the record)")
    parser.add_argument(
        "--conditions",
        default="",
        metavar="TEXT",
        help="the conditions a decision (a CAB's) is given under (stored in the record and the forms)",
    )
    parser.add_argument(
        "--minutes", default="", metavar="REF", help="where the minutes of the CAB meeting are (a reference)"
    )
    parser.add_argument(
        "--commit",
        metavar="REV",
        help="the commit a release step approves (the pack's approvals.commit_steps; default: the job's "
        "commit, HEAD): the approval holds only for a deployment of that commit",
    )
    parser.add_argument(
        "--artifact",
        action="append",
        default=[],
        metavar="NAME=sha256:HEX",
        help="an artefact of the release a release step approves, by its digest (repeatable; optional): "
        "recorded inside the approval, and so inside what its attestation signs",
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.adapters.identity import current_actor
    from gatekeeper.adapters.rfcstore import open_store
    from gatekeeper.rules.admission import Request, check

    actor = current_actor(ctx.runtime.env, ctx.runtime.cwd)
    entry = open_store(ctx.repo_root, ctx.config, ctx.runtime.env).get(args.rfc_id)
    if entry is not None and entry.rfc is None:
        raise ConfigError(
            msg(
                "RFC {rfc_id} is not valid: {error}",
                rfc_id=args.rfc_id,
                error=entry.error,
                entry_error_ko=entry.error_ko or entry.error,
            ),
            hint=msg("fix {where}", where=entry.where),
        )
    rule_ctx = RuleContext(
        ctx.policy,
        ctx.config.system.grade,
        entry.rfc.type if entry is not None and entry.rfc is not None else _normal(),
        ctx.runtime.now(),
        ctx.lang,
    )
    request = Request(args.rfc_id, args.step, args.decision, actor.name, str(actor.source), entry is not None)
    if entry is not None and entry.rfc is not None and args.step in ctx.policy.approvals.steps:
        request = _with_facts(ctx, request, entry.rfc.requester)
    findings = check(request, rule_ctx)
    data: dict[str, Any] = {
        "step": args.step,
        "decision": args.decision,
        "rfc_digest": entry.digest if entry is not None else "",
        "comment": args.comment,
    }
    for name in ("conditions", "minutes"):
        if getattr(args, name).strip():
            data[name] = getattr(args, name).strip()
    if args.step in ctx.policy.approvals.commit_steps:
        # Inside the record (and so inside what an attestation signs): the release that was tested.
        data["commit"] = _approved_commit(ctx, args.commit)
        if args.artifact:
            data["artifacts"] = _artifacts(args.artifact)
    draft = Draft(
        kind=str(RecordKind.APPROVAL),
        system=ctx.config.system.id,
        actor=actor.name,
        actor_source=str(actor.source),
        at=ctx.runtime.now(),
        data=data,
        rfcs=(args.rfc_id,),
    )
    if not _errors(findings):
        attestation, problem = _attest(ctx, draft, rule_ctx)
        findings.extend(problem)
        if attestation is not None:
            data["attestation"] = attestation
    if _errors(findings):
        return _refuse(ctx, args.rfc_id, rule_ctx, findings)
    for finding in findings:  # warnings: recorded all the same
        ctx.runtime.stderr.write(
            f"warning: {finding.rule}: {finding.message}\n  fix: {finding.remediation}\n"
        )
    record = store(ctx, draft)
    code = report_stored(
        ctx, record, f"{args.rfc_id} {word(args.step, ctx.lang)}: {word(args.decision, ctx.lang)}"
    )
    if args.decision == "approve":
        from gatekeeper.commands._notify import notify
        from gatekeeper.domain.notification import approval_given

        title = entry.rfc.title if entry is not None and entry.rfc is not None else ""
        notify(
            ctx,
            lambda: [
                approval_given(
                    system=record.system,
                    rfc=args.rfc_id,
                    step=args.step,
                    actor=record.actor,
                    comment=args.comment,
                    record_hash=record.hash,
                    at=draft.at,
                    titles={args.rfc_id: title} if title else {},
                )
            ],
        )
    return code


def _artifacts(given: list[str]) -> dict[str, str]:
    """`--artifact NAME=sha256:HEX` as {NAME: digest}; anything else is exit 2 saying how to write it."""
    from gatekeeper.domain.records import ARTIFACT_DIGEST
    from gatekeeper.errors import InputError

    found: dict[str, str] = {}
    for item in given:
        name, _, digest = item.partition("=")
        if not name.strip() or not ARTIFACT_DIGEST.fullmatch(digest) or name.strip() in found:
            raise InputError(
                msg(
                    "--artifact {item!r} is not NAME=sha256:<64 hex digits> (each name once)",
                    item=item[:80],
                ),
                hint=msg("give each artefact as NAME=sha256:<digest>, e.g. app.war=sha256:<sha256sum of it>"),
            )
        found[name.strip()] = digest
    return found


def _approved_commit(ctx: Context, revision: str | None) -> str:
    """The full id of the commit a release step approves: `--commit`, else the job's commit (HEAD)."""
    from gatekeeper.adapters.ci.context import detect_ci
    from gatekeeper.adapters.git import rev_parse
    from gatekeeper.errors import GitError, InputError

    if revision is None:
        head = detect_ci(ctx.runtime.env, ctx.runtime.cwd).head
        if head:
            return head
        revision = "HEAD"
    try:
        return rev_parse(ctx.repo_root, revision)
    except GitError:
        raise InputError(
            msg("--commit {revision!r} names no commit of this repository", revision=revision[:80]),
            hint=msg("give the id (or a tag or branch) of the commit whose release is approved"),
        ) from None


def _normal() -> Any:
    from gatekeeper.domain import ChangeType

    return ChangeType.NORMAL


def _errors(findings: list[Finding]) -> bool:
    return any(f.severity is Severity.ERROR for f in findings)


def _with_facts(ctx: Context, request: Any, requester: str) -> Any:
    """The request with what the checks need from git, the roles and the ledger: the whole change's
    people (every branch of the clone), the role members, and the RFC's decisions the gate would count
    (attestations verified, so a forged record cannot make a real approver "give a second step")."""
    from dataclasses import replace

    from gatekeeper.adapters.git import change_commits, head_sha, identities
    from gatekeeper.adapters.identity import joined
    from gatekeeper.adapters.oidc import Attestor
    from gatekeeper.commands._gate import sources_for
    from gatekeeper.domain.records import PayloadError, read
    from gatekeeper.facts.gather import role_members
    from gatekeeper.facts.history import History

    sources = sources_for(ctx)
    members = role_members(ctx.config.roles, sources.role_resolver)
    root = ctx.repo_root
    commits = change_commits(root, head_sha(root), [request.rfc_id], everywhere=True)
    reader = sources.ledger()
    attest = Attestor(ctx.config, root, ctx.runtime.env, ctx.runtime.now(), ledger=reader)
    history = History(ctx.policy, ctx.config.system.grade, ctx.config.system.id, attest=attest)
    try:
        found = [
            *reader.find(rfc=request.rfc_id, kind=str(RecordKind.APPROVAL)),
            *reader.find(kind=str(RecordKind.DELEGATION), system=ctx.config.system.id),
        ]
        for record in sorted(found, key=lambda r: r.seq):
            if record.system == ctx.config.system.id:
                try:
                    history.add(read(record))
                except PayloadError:
                    continue  # never counted: the gate and `ledger verify` report it
    finally:
        close = getattr(reader, "close", None)
        if callable(close):
            close()
    people = identities(commits)
    if commits and sources.commit_logins is not None:
        # The platform's account behind each commit email; a platform that cannot answer stops the approval.
        people |= sources.commit_logins(commits)
    return replace(
        request,
        requester=requester,
        identities=joined(people, ctx.config.people),
        members=members,
        decisions=history.latest(request.rfc_id),
        delegations=tuple(history.delegations),
    )


def _attest(ctx: Context, draft: Draft, rule_ctx: RuleContext) -> tuple[dict[str, Any] | None, list[Finding]]:
    """The platform's token for this record, verified, with the key that verified it; or why there is none
    (a finding at the pack's attestation level). Raises IssuerUnavailable (exit 3) when the issuer is down."""
    from gatekeeper.adapters import oidc
    from gatekeeper.domain.attestation import audience, digest_of, hint, verify

    level = ctx.policy.approvals.attestation_level(rule_ctx.grade, rule_ctx.change_type)
    provider = oidc.provider_of(draft.actor_source)
    digest = digest_of(draft)
    env = ctx.runtime.env
    token: str | None = None
    if provider == "github":
        token = oidc.github_token(env, audience(digest))
    elif provider == "gitlab":
        token = oidc.gitlab_token(env, ctx.config.platform.gitlab.oidc)
    subject = f"{draft.rfcs[0]} {draft.data['step']}"
    severity = {"required": Severity.ERROR, "recommended": Severity.WARNING}.get(level)

    def finding(en: str, ko: str, fix: tuple[str, str], *, always: bool = False) -> list[Finding]:
        chosen = Severity.ERROR if always else severity
        if chosen is None:
            return []
        made = rule_ctx.finding(
            "approval.unattested",
            message=in_language(rule_ctx.lang, en, ko),
            remediation=in_language(rule_ctx.lang, *fix),
            subject=subject,
            severity=chosen,
        )
        return [] if made is None else [made]

    fix = hint(provider or "github")
    if token is None or provider is None:
        where = "a workstation" if provider is None else f"this {provider} job"
        return None, finding(
            *msg(
                "{where} has no OIDC ID token of the CI platform to prove who gives this decision",
                where=where,
            ).pair,
            fix,
        )
    expect = oidc.expectation(ctx.config, env, provider)
    if expect is None:
        return None, finding(
            *msg(
                "the repository is unknown: set platform.{provider}.oidc.repository", provider=provider
            ).pair,
            fix,
            always=True,
        )
    ring = oidc.key_ring(ctx.config, ctx.repo_root, env, provider, ctx.runtime.now())
    import jwt

    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError:
        kid = None
    jwk = ring.key_for(kid) if isinstance(kid, str) else None
    attestation: dict[str, Any] = {"provider": provider, "token": token, "jwk": jwk or {}, "digest": digest}
    if provider == "gitlab":
        claims = _unverified(token)
        attestation.update(jti=claims.get("jti"), job_id=claims.get("job_id"))
    verdict = verify(
        attestation, expect=expect, actor=draft.actor, moment=draft.at, digest=digest, trust=ring
    )
    if not verdict.ok:
        en, ko = (
            verdict.reasons
            if jwk
            else msg(
                "the token's key {kid!r} is not one {issuer} publishes",
                kid=str(kid)[:40],
                issuer=expect.issuer,
            ).pair
        )
        # Where attestation is only recommended the decision is recorded without it (a GitHub re-run by
        # someone else is one such case: the token keeps the first run's actor).
        return None, finding(
            *msg("the CI platform's token does not attest this decision: {en}", en=en, ko=ko).pair, fix
        )
    return attestation, []


def _unverified(token: str) -> dict[str, Any]:
    import jwt

    try:
        claims: dict[str, Any] = jwt.decode(token, options={"verify_signature": False})
    except jwt.InvalidTokenError:
        return {}
    return claims


def _refuse(ctx: Context, rfc_id: str, rule_ctx: RuleContext, findings: list[Finding]) -> int:
    """Nothing was written: the findings say which rule refused the decision and how to give it."""
    outcome = Outcome(
        system=ctx.config.system.id,
        grade=int(rule_ctx.grade),
        change_type=str(rule_ctx.change_type),
        rfcs=(rfc_id,),
        findings=tuple(findings),
    )
    code = ctx.emit(outcome)
    return code if code else int(ExitCode.BLOCKED)
