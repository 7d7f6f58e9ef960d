"""Platform decisions merged into the gate's approval facts (the `Sources.platform_approvals` hook)."""

from __future__ import annotations

from datetime import UTC, datetime

from gatekeeper.adapters.platforms.base import (
    PlatformApproval,
    PlatformFacts,
    approval_lines,
    bound_digest,
    environment_step,
    with_platform,
)
from gatekeeper.rules.approval import ApprovalDecision, ApprovalFacts
from tests.platform.helpers import HEAD, PATTERN

DIGEST = "sha256:" + "d" * 64


def _approval(**changes: object) -> PlatformApproval:
    values: dict[str, object] = {
        "step": "change-review",
        "decision": "approve",
        "actor": "kim",
        "actor_source": "github-actions",
        "at": "2026-11-21T01:00:00+00:00",
        "source": "github review 1",
    }
    values.update(changes)
    return PlatformApproval(**values)  # type: ignore[arg-type]


def test_platform_decisions_follow_the_ledger_and_the_author_is_an_identity() -> None:
    ledger = ApprovalDecision(
        4,
        "rec-4",
        "RFC-2026-0001",
        "cab",
        "approve",
        "choi",
        "github-actions",
        DIGEST,
        "2026-11-20T00:00:00+00:00",
    )
    facts = ApprovalFacts("RFC-2026-0001", "lee", DIGEST, (ledger,), frozenset({"dev eloper"}))
    other_rfc = _approval(actor="park", rfcs=("RFC-2026-0009",), at="2026-11-21T00:00:00+00:00")
    merged = with_platform(
        [facts],
        PlatformFacts((_approval(at="2026-11-22T00:00:00+00:00"), _approval(actor="oh"), other_rfc), "Dev"),
        HEAD,
    )
    (result,) = merged
    assert [(d.seq, d.actor) for d in result.decisions] == [(4, "choi"), (5, "oh"), (6, "kim")]
    assert all(d.digest == DIGEST for d in result.decisions)
    assert result.identities == frozenset({"dev eloper", "dev"})


def test_digest_binding() -> None:
    assert bound_digest(_approval(digest=DIGEST[:19]), DIGEST) == DIGEST
    assert bound_digest(_approval(digest="sha256:" + "e" * 12), DIGEST) == "sha256:" + "e" * 12
    assert bound_digest(_approval(commit="b" * 40), DIGEST, head=HEAD) == ""
    assert bound_digest(_approval(commit=HEAD), DIGEST, head=HEAD) == DIGEST
    edited = datetime(2026, 11, 22, tzinfo=UTC)
    assert bound_digest(_approval(), DIGEST, changed_at=edited) == ""
    assert bound_digest(_approval(at="2026-11-23T00:00:00+00:00"), DIGEST, changed_at=edited) == DIGEST


def test_approval_lines_and_environment_names() -> None:
    text = (
        "LGTM\n> gatekeeper: approve release-first RFC-2026-0001 sha256:abcdef012345\n"
        "gatekeeper: approve deploy-all\n"
    )
    (line,) = approval_lines(text, PATTERN)
    assert (line.decision, line.step, line.rfcs, line.digest) == (
        "approve",
        "release-first",
        ("RFC-2026-0001",),
        "sha256:abcdef012345",
    )
    assert approval_lines("Gatekeeper: REJECT cab", PATTERN)[0].decision == "reject"
    assert environment_step("gatekeeper-CAB") == "cab" and environment_step("production") is None
    assert environment_step("gatekeeper-unknown") is None
