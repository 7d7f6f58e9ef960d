"""Approvals' attestations re-checked over the whole ledger (`ledger verify --attestations`)."""

from __future__ import annotations

from typing import Any

from gatekeeper.commands import Context
from gatekeeper.errors import ExitCode


def recheck_attestations(ledger: Any, ctx: Context) -> int:
    """`ledger verify --attestations`: every approval record's attestation re-verified, one line each (JSON:
    a list); exit 1 when a record carries an attestation that does not verify."""
    import json

    from gatekeeper.adapters.oidc import recheck
    from gatekeeper.reporters.sanitize import for_log

    rows = [
        {"seq": r.seq, "actor": r.actor, "actor_source": r.actor_source, "result": verdict}
        for r, verdict in recheck(
            ledger.records(), ctx.config, ctx.repo_root, ctx.runtime.env, ctx.runtime.now()
        )
    ]
    bad = [row for row in rows if row["result"] not in ("attested", "unattested")]
    if ctx.output_format == "json":
        ctx.out(json.dumps({"ok": not bad, "approvals": rows}, ensure_ascii=False, indent=2))
    else:
        for row in rows:
            who = f"{for_log(str(row['actor']))} [{row['actor_source']}]"
            ctx.out(f"{row['seq']:>6}  {who}  {for_log(str(row['result']))}")
        attested = sum(1 for row in rows if row["result"] == "attested")
        ctx.out(
            f"attestations: {attested} of {len(rows)} approvals attested, {len(bad)} that do not verify"
            + ("\n  fix: find out who wrote those records; they do not count" if bad else "")
        )
    return int(ExitCode.BLOCKED if bad else ExitCode.OK)
