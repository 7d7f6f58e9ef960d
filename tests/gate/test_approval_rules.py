"""The approval rules on decisions built in memory: order, roles, separation of duties, digests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from gatekeeper.config import load_policy
from gatekeeper.domain import ChangeType, Grade, Role, Severity
from gatekeeper.domain.records import PayloadError, read
from gatekeeper.errors import InputError
from gatekeeper.facts.gather import role_members
from gatekeeper.ledger import Draft
from gatekeeper.rules import RuleContext
from gatekeeper.rules.approval import APPROVAL_RULES, ApprovalDecision, ApprovalFacts, check_approvals

NOW = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
DIGEST = "sha256:" + "a" * 64
MEMBERS = role_members(
    {
        Role.AGENCY_MANAGER: ("park",),
        Role.AGENCY_OFFICER: ("kim", "lee"),
        Role.OPERATOR_MANAGER: ("choi",),
        Role.CAB: ("kim", "park", "choi"),
    }
)
FULL_CHAIN = [
    ("change-review", "kim"),
    ("cab", "choi"),
    ("change-approval", "park"),
    ("release-first", "choi2"),
    ("release-second", "lee"),
]


def ctx(grade: int = 1, change_type: str = "normal") -> RuleContext:
    return RuleContext(load_policy("kr-ap-sop"), Grade(grade), ChangeType(change_type), NOW)


def decision(
    seq: int,
    step: str,
    actor: str,
    verdict: str = "approve",
    *,
    digest: str = DIGEST,
    source: str = "github-actions",
) -> ApprovalDecision:
    record = Draft(
        kind="approval",
        system="minwon-portal",
        actor=actor,
        actor_source=source,
        at=NOW,
        data={"step": step, "decision": verdict, "digest": digest},
        rfcs=("RFC-2026-0042",),
    ).place(seq, "0" * 64)
    entry = read(record)
    return ApprovalDecision(
        seq, record.id, "RFC-2026-0042", step, verdict, actor, source, entry.payload.digest, record.at
    )


def facts(
    *decisions: ApprovalDecision, identities: frozenset[str] = frozenset(), requester: str = "lee"
) -> ApprovalFacts:
    members = dict(MEMBERS)
    members[Role.OPERATOR_MANAGER] = frozenset({"choi2"})
    return ApprovalFacts("RFC-2026-0042", requester, DIGEST, tuple(decisions), identities, members)


def full(**overrides: str) -> list[ApprovalDecision]:
    return [decision(i + 1, step, overrides.get(step, actor)) for i, (step, actor) in enumerate(FULL_CHAIN)]


def rules(findings: list) -> list[tuple[str, str, str]]:  # type: ignore[type-arg]
    return sorted((f.rule, f.subject, str(f.severity)) for f in findings)


def test_a_complete_chain_passes() -> None:
    assert check_approvals(facts(*full()), ctx()) == []


def test_registry_holds_every_approval_rule_and_cab() -> None:
    assert set(APPROVAL_RULES) == {
        "approval.missing",
        "approval.rejected",
        "approval.self",
        "approval.same-person",
        "approval.unauthorized",
        "approval.out-of-order",
        "approval.stale",
        "approval.other-commit",
        "approval.before-evidence",
        "approval.unattested",
        "cab.missing",
        "approval.other-artifact",
        "approval.quorum",
    }


def test_no_decisions_grade1_normal_needs_five_steps_and_cab_is_its_own_rule() -> None:
    found = rules(check_approvals(facts(), ctx()))
    assert ("cab.missing", "RFC-2026-0042 cab", "error") in found
    assert [r for r in found if r[0] == "approval.missing"] == [
        ("approval.missing", f"RFC-2026-0042 {s}", "error")
        for s in sorted(["change-review", "change-approval", "release-first", "release-second"])
    ]


def test_grade2_normal_manager_and_cab_are_warnings() -> None:
    found = rules(check_approvals(facts(), ctx(2)))
    assert ("approval.missing", "RFC-2026-0042 change-approval", "warning") in found
    assert ("cab.missing", "RFC-2026-0042 cab", "warning") in found
    assert ("approval.missing", "RFC-2026-0042 change-review", "error") in found


def test_emergency_needs_no_prior_approval_and_standard_skips_manager_and_cab() -> None:
    assert check_approvals(facts(), ctx(1, "emergency")) == []
    found = {r[1] for r in rules(check_approvals(facts(), ctx(1, "standard")))}
    assert found == {f"RFC-2026-0042 {s}" for s in ("change-review", "release-first", "release-second")}


def test_latest_decision_per_step_wins() -> None:
    chain = full()
    rejected = [*chain, decision(9, "cab", "kim", "reject")]
    assert rules(check_approvals(facts(*rejected), ctx())) == [
        ("approval.rejected", "RFC-2026-0042 cab", "error")
    ]
    again = [*rejected, decision(10, "cab", "park")]
    # Re-approved after release steps: the CAB step now comes after the release steps in the ledger.
    found = rules(check_approvals(facts(*again), ctx()))
    assert ("approval.rejected", "RFC-2026-0042 cab", "error") not in found
    assert ("approval.out-of-order", "RFC-2026-0042 release-first", "error") in found


def test_a_co_author_approving_is_self_approval() -> None:
    identities = frozenset({"kim minsu", "kim@agency.go.kr", "kim"})
    found = rules(check_approvals(facts(*full(), identities=identities), ctx()))
    assert found == [("approval.self", "RFC-2026-0042 change-review", "error")]


def test_requester_may_give_only_the_step_that_allows_it() -> None:
    # lee requested and gives release-second (allowed); lee giving change-review is not.
    assert check_approvals(facts(*full()), ctx()) == []
    found = rules(check_approvals(facts(*full(**{"change-review": "lee", "release-second": "kim"})), ctx()))
    assert found == [("approval.self", "RFC-2026-0042 change-review", "error")]


def test_one_person_giving_two_steps() -> None:
    found = rules(check_approvals(facts(*full(**{"cab": "kim"})), ctx()))
    assert found == [("approval.same-person", "RFC-2026-0042 cab", "error")]


def test_approver_without_the_role_is_unauthorized() -> None:
    found = rules(check_approvals(facts(*full(**{"change-approval": "mallory"})), ctx()))
    assert found == [("approval.unauthorized", "RFC-2026-0042 change-approval", "error")]


def test_logins_compare_case_insensitively_and_without_at() -> None:
    assert check_approvals(facts(*full(**{"change-approval": "@Park"})), ctx()) == []


def test_later_step_before_earlier_is_out_of_order() -> None:
    chain = full()
    swapped = [chain[1], chain[0], *chain[2:]]
    swapped = [decision(i + 1, d.step, d.actor) for i, d in enumerate(swapped)]
    found = rules(check_approvals(facts(*swapped), ctx()))
    assert found == [("approval.out-of-order", "RFC-2026-0042 cab", "error")]  # cab given before the review


def test_rfc_edited_after_approval_is_stale() -> None:
    chain = full()
    chain[0] = decision(1, "change-review", "kim", digest="sha256:" + "b" * 64)
    found = rules(check_approvals(facts(*chain), ctx()))
    assert found == [("approval.stale", "RFC-2026-0042 change-review", "error")]


def test_local_approvals_do_not_count_for_grade_1_but_do_for_grade_3() -> None:
    local = [decision(i + 1, d.step, d.actor, source="local") for i, d in enumerate(full())]
    found = check_approvals(facts(*local), ctx(1))
    assert {f.rule for f in found} == {"approval.missing", "cab.missing"}
    assert all("workstation" in f.message for f in found)
    assert check_approvals(facts(*local), ctx(3)) == []


def test_grade3_missing_steps_are_warnings() -> None:
    found = check_approvals(facts(), ctx(3))
    assert found and all(f.severity is Severity.WARNING for f in found)


def test_teams_need_a_resolver_and_are_expanded_by_it() -> None:
    with pytest.raises(InputError, match="no platform adapter"):
        role_members({Role.CAB: ("org/cab-board",)})
    members = role_members({Role.CAB: ("org/cab-board", "Park")}, lambda team: ["Han", "yoon"])
    assert members[Role.CAB] == frozenset({"han", "yoon", "park"})


def test_malformed_approval_record_is_refused() -> None:
    record = Draft("approval", "s", "kim", "local", NOW, {"step": "cab"}).place(1, "0" * 64)
    with pytest.raises(PayloadError, match=r"approval record 1: .*decision"):
        read(record)
