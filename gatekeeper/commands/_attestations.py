"""The CI platform's signatures re-checked over the whole ledger (`ledger verify --attestations`): every
approval's attestation, and the signature of every other record a CI job wrote."""

from __future__ import annotations

from typing import Any

from gatekeeper.commands import Context
from gatekeeper.errors import ExitCode
from gatekeeper.messages import in_language, msg, tr

# What a record's check may find besides a reason it does not verify.
FINE = frozenset({"attested", "unattested", "signed", "unsigned"})
# Those, as the text output says them (JSON keeps the English words).
STATUS = {
    "attested": msg("attested"),
    "unattested": msg("unattested"),
    "signed": msg("signed"),
    "unsigned": msg("unsigned"),
}


def recheck_attestations(ledger: Any, ctx: Context, *, emit: bool = True) -> tuple[int, dict[str, Any]]:
    """`ledger verify --attestations`: one line per approval and per record a CI job wrote (JSON: the lists
    `approvals` and `records`); exit 1 when a record carries an attestation or signature that does not
    verify — it was rewritten after the platform signed it, or never signed by it. With `emit=False` the
    exit code and the JSON body are returned for `ledger verify` to print as one document."""
    import json

    from gatekeeper.adapters.oidc import recheck
    from gatekeeper.reporters.sanitize import for_log

    rows, said = [], {}
    for r, verdict, verdict_ko in recheck(
        ledger.records(), ctx.config, ctx.repo_root, ctx.runtime.env, ctx.runtime.now()
    ):
        rows.append(
            {
                "seq": r.seq,
                "kind": r.kind,
                "actor": r.actor,
                "actor_source": r.actor_source,
                "result": verdict,
            }
        )
        status = STATUS.get(verdict)
        said[r.seq] = (
            status.said(ctx.lang) if status is not None else in_language(ctx.lang, verdict, verdict_ko)
        )
    approvals = [row for row in rows if row["kind"] == "approval"]
    others = [row for row in rows if row["kind"] != "approval"]
    bad = [row for row in rows if row["result"] not in FINE]
    code = int(ExitCode.BLOCKED if bad else ExitCode.OK)
    body = {
        "ok": not bad,
        "approvals": [{k: v for k, v in row.items() if k != "kind"} for row in approvals],
        "records": others,
    }
    if not emit:
        return code, body
    if ctx.output_format == "json":
        ctx.out(json.dumps(body, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            who = f"{for_log(str(row['actor']))} [{row['actor_source']}]"
            ctx.out(f"{row['seq']:>6}  {row['kind']:<20} {who}  {for_log(str(said[row['seq']]))}")
        attested = sum(1 for row in approvals if row["result"] == "attested")
        signed = sum(1 for row in others if row["result"] == "signed")
        summary = tr(
            ctx.lang,
            "attestations: {attested} of {approvals} approvals attested, {signed} of {others} records from "
            "CI jobs signed, {bad} that do not verify",
            attested=attested,
            approvals=len(approvals),
            signed=signed,
            others=len(others),
            bad=len(bad),
        )
        fix = "\n  " + tr(ctx.lang, "fix: find out who wrote those records; they cannot be trusted")
        ctx.out(summary + (fix if bad else ""))
    return code, body
