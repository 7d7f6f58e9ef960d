"""What deputies and quorum cost the approval rules: `check_approvals` on one RFC's five approvals with no
delegation in the ledger (the reference), with 1,000 delegation records of other people (an agency's years
of leave), with one of the approvals given by a deputy among them, and with a CAB quorum of 3 over five
votes. Pure rules, in-process; the median of several runs, as ratios measured in the same run.
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from gatekeeper.config import load_policy
from gatekeeper.domain import ChangeType, Grade, Role
from gatekeeper.rules import RuleContext
from gatekeeper.rules.approval import ApprovalDecision, ApprovalFacts, check_approvals
from gatekeeper.rules.delegation import Grant

NOW = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
REPEATS = 9
LOOPS = 200
DELEGATIONS = 1000
CHAIN = [("change-review", "kim"), ("cab", "choi"), ("change-approval", "park")]
CHAIN += [("release-first", "han"), ("release-second", "lee")]
MEMBERS = {
    Role("agency-manager"): frozenset({"park"}),
    Role("agency-officer"): frozenset({"kim", "lee"}),
    Role("operator-manager"): frozenset({"han"}),
    Role("cab"): frozenset({"kim", "park", "choi", "yoon", "seo", "jang"}),
}


def _decision(seq: int, step: str, actor: str) -> ApprovalDecision:
    at = (NOW - timedelta(hours=10) + timedelta(minutes=seq)).isoformat()
    return ApprovalDecision(
        seq, f"r{seq}", "RFC-1", step, "approve", actor, "github-actions", "d", at, attested=True
    )


def _grants(count: int, first_seq: int) -> tuple[Grant, ...]:
    return tuple(
        Grant(
            first_seq + i,
            f"g{i}",
            "park",
            f"deputy{i}",
            ("change-approval",),
            NOW - timedelta(days=7 * (count - i) + 7),
            NOW - timedelta(days=7 * (count - i) + 1),
            "github-actions",
            True,
        )
        for i in range(count)
    )


def _facts(chain: list[tuple[str, str]], grants: tuple[Grant, ...]) -> Callable[[], ApprovalFacts]:
    decisions = tuple(_decision(len(grants) + 10 + i, s, a) for i, (s, a) in enumerate(chain))
    return lambda: ApprovalFacts("RFC-1", "lee", "d", decisions, members=MEMBERS, delegations=grants)


def _time(make: Callable[[], ApprovalFacts], ctx: RuleContext) -> float:
    runs = []
    for _ in range(REPEATS):
        start = time.perf_counter()
        for _ in range(LOOPS):
            check_approvals(make(), ctx)
        runs.append((time.perf_counter() - start) / LOOPS)
    return statistics.median(runs)


def main() -> None:
    policy = load_policy("kr-ap-sop")
    ctx = RuleContext(policy, Grade(1), ChangeType.NORMAL, NOW)
    many = _grants(DELEGATIONS, 1)
    current = Grant(
        DELEGATIONS + 1,
        "now",
        "park",
        "jung",
        ("change-approval",),
        NOW - timedelta(days=1),
        NOW + timedelta(days=1),
        "github-actions",
        True,
    )
    deputy_chain = [(s, "jung" if s == "change-approval" else a) for s, a in CHAIN]
    steps = dict(policy.approvals.steps)
    cab = steps[next(s for s in steps if str(s) == "cab")]
    quorum_policy = policy.model_copy(
        update={
            "approvals": policy.approvals.model_copy(
                update={
                    "steps": {
                        **steps,
                        next(s for s in steps if str(s) == "cab"): cab.model_copy(update={"quorum": 3}),
                    }
                }
            )
        }
    )
    quorum_ctx = RuleContext(quorum_policy, Grade(1), ChangeType.NORMAL, NOW)
    votes = [CHAIN[0], *[("cab", who) for who in ("choi", "yoon", "seo", "jang", "choi")], *CHAIN[2:]]
    reference = _time(_facts(CHAIN, ()), ctx)
    cases = {
        f"{DELEGATIONS} delegation records of others": _time(_facts(CHAIN, many), ctx),
        f"a deputy's approval among {DELEGATIONS} delegation records": _time(
            _facts(deputy_chain, (*many, current)), ctx
        ),
        "a CAB quorum of 3 over 5 votes": _time(_facts(votes, ()), quorum_ctx),
    }
    print(f"check_approvals, 5 approvals, no delegation: {reference * 1e6:.0f} µs (reference 1.00×)")
    for name, seconds in cases.items():
        print(f"  {name}: {seconds * 1e6:.0f} µs, {seconds / reference:.2f}× the reference")


if __name__ == "__main__":
    main()
