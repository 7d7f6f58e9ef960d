"""Approvals' attestations re-checked over the whole ledger (`ledger verify --attestations`)."""

from __future__ import annotations

from typing import Any

from gatekeeper.commands import Context
from gatekeeper.errors import ExitCode


def attestation_rows(ledger: Any, ctx: Context) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Every approval record's attestation re-verified: (all rows, the rows that do not verify)."""
    from gatekeeper.adapters.oidc import recheck

    rows = [
        {"seq": r.seq, "actor": r.actor, "actor_source": r.actor_source, "result": verdict}
        for r, verdict in recheck(
            ledger.records(), ctx.config, ctx.repo_root, ctx.runtime.env, ctx.runtime.now()
        )
    ]
    return rows, [row for row in rows if row["result"] not in ("attested", "unattested")]


def recheck_attestations(ledger: Any, ctx: Context) -> int:
    """`ledger verify --attestations` in text: one line per approval record; exit 1 when a record carries an
    attestation that does not verify. (JSON: `approvals` in the one document `ledger verify` prints.)"""
    from gatekeeper.reporters.sanitize import for_log

    rows, bad = attestation_rows(ledger, ctx)
    for row in rows:
        who = f"{for_log(str(row['actor']))} [{row['actor_source']}]"
        ctx.out(f"{row['seq']:>6}  {who}  {for_log(str(row['result']))}")
    attested = sum(1 for row in rows if row["result"] == "attested")
    ctx.out(
        f"attestations: {attested} of {len(rows)} approvals attested, {len(bad)} that do not verify"
        + ("\n  fix: find out who wrote those records; they do not count" if bad else "")
    )
    return int(ExitCode.BLOCKED if bad else ExitCode.OK)
