"""The CI platform's signatures re-checked over the whole ledger (`ledger verify --attestations`): every
approval's attestation, and the signature of every other record a CI job wrote."""

from __future__ import annotations

from typing import Any

from gatekeeper.commands import Context
from gatekeeper.errors import ExitCode

# What a record's check may find besides a reason it does not verify.
FINE = frozenset({"attested", "unattested", "signed", "unsigned"})
# Those, as the Korean text output says them (JSON keeps the English words).
STATUS_KO = {"attested": "증명됨", "unattested": "증명 없음", "signed": "서명됨", "unsigned": "서명 없음"}


def recheck_attestations(ledger: Any, ctx: Context, *, emit: bool = True) -> tuple[int, dict[str, Any]]:
    """`ledger verify --attestations`: one line per approval and per record a CI job wrote (JSON: the lists
    `approvals` and `records`); exit 1 when a record carries an attestation or signature that does not
    verify — it was rewritten after the platform signed it, or never signed by it. With `emit=False` the
    exit code and the JSON body are returned for `ledger verify` to print as one document."""
    import json

    from gatekeeper.adapters.oidc import recheck
    from gatekeeper.reporters.sanitize import for_log

    rows, said_ko = [], {}
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
        said_ko[r.seq] = STATUS_KO.get(verdict, verdict_ko)
    approvals = [row for row in rows if row["kind"] == "approval"]
    others = [row for row in rows if row["kind"] != "approval"]
    bad = [row for row in rows if row["result"] not in FINE]
    ko = ctx.lang == "ko"
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
            result = said_ko[row["seq"]] if ko else row["result"]
            ctx.out(f"{row['seq']:>6}  {row['kind']:<20} {who}  {for_log(str(result))}")
        attested = sum(1 for row in approvals if row["result"] == "attested")
        signed = sum(1 for row in others if row["result"] == "signed")
        if ko:
            summary = (
                f"증명: 승인 {len(approvals)}건 중 {attested}건 증명됨, CI 기록 {len(others)}건 중 "
                f"{signed}건 서명됨, 검증되지 않는 기록 {len(bad)}건"
            )
            fix = "\n  조치: 그 기록을 누가 썼는지 확인하세요. 그 기록은 신뢰할 수 없습니다"
        else:
            summary = (
                f"attestations: {attested} of {len(approvals)} approvals attested, {signed} of "
                f"{len(others)} records from CI jobs signed, {len(bad)} that do not verify"
            )
            fix = "\n  fix: find out who wrote those records; they cannot be trusted"
        ctx.out(summary + (fix if bad else ""))
    return code, body
