"""Deputies and quorum (issue 19 item 5; CHG-P3, seed 002 변경관리 2.1 CAB 심의).

A delegation GRANTS approval power, so the adversary — a developer with write access who can append ledger
records — would like to write one. A delegation counts only as the CI platform signed it (where the pack
requires attestation: grades 1–2), from a holder of the delegated step's role, to someone else, for the
steps and the period it names, not revoked, and not overlapping an earlier delegation of the same steps by
the same delegator; the deputy is held to separation of duties like any approver. A CAB decision may need
N of M members (the pack's `approvals.steps.cab.quorum`): each member counts once, and an author counts
not at all. The gate and the audit judge the records alike (`rules.approval`, `rules.delegation`); the
`delegate` command refuses, writing nothing, what would count for nothing.
"""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from gatekeeper.config import load_config
from gatekeeper.ledger.backends import open_ledger
from tests import acceptance as cases
from tests.adversarial.conftest import Recorder
from tests.helpers import GitRepo, run_cli
from tests.platform.oidc import gitlab_job

ROOT = Path(__file__).resolve().parents[2]
# park (agency-manager) is on leave: jung, who holds no role, gives change-approval in park's stead.
AS_DEPUTY = [
    {"step": "change-review", "actor": "kim"},
    {"step": "cab", "actor": "choi"},
    {"step": "change-approval", "actor": "jung"},
    {"step": "release-first", "actor": "han"},
    {"step": "release-second", "actor": "lee"},
]
TO_JUNG = {"by": "park", "to": "jung", "steps": ["change-approval"]}


def _rules(body: dict[str, Any]) -> set[str]:
    return {f["rule"] for f in body["findings"] if f["severity"] == "error"}


def _delegations(repo: GitRepo) -> list[Any]:
    ledger = open_ledger(load_config(repo.path / ".gatekeeper.yml"), repo.path, {})
    try:
        return list(ledger.find(kind="delegation"))
    finally:
        ledger.close()


def _delegate(repo: GitRepo, at: datetime, login: str, *args: str, lang: str = "en") -> Any:
    env = gitlab_job(repo.head(), login, at)  # the delegator's pipeline job, whose token signs the record
    return run_cli(["--lang", lang, "delegate", *args], cwd=repo.path, env=env, now=at)


def _period(at: datetime, start: float = 0, days: float = 7) -> list[str]:
    return [
        "--from",
        (at + timedelta(hours=start)).isoformat(),
        "--until",
        (at + timedelta(hours=start, days=days)).isoformat(),
    ]


def _quorum_pack(quorum: int) -> str:
    """kr-ap-sop as an agency adapts it: its CAB decides by `quorum` members."""
    text = (ROOT / "policies" / "kr-ap-sop.yaml").read_text(encoding="utf-8")
    assert "{roles: [cab], quorum: 1}" in text
    return text.replace("{roles: [cab], quorum: 1}", f"{{roles: [cab], quorum: {quorum}}}")


def _quorum_case(cab: list[str], *, cab_role: list[str] | None = None, **extra: Any) -> dict[str, Any]:
    chain = [{"step": "change-review", "actor": "kim"}]
    chain += [{"step": "cab", "actor": who} for who in cab]
    chain += [
        {"step": "change-approval", "actor": "park"},
        {"step": "release-first", "actor": "han"},
        {"step": "release-second", "actor": "lee"},
    ]
    return {
        "approvals": chain,
        "files": {".gatekeeper/pack.yaml": _quorum_pack(2)},
        "config": {
            "policy": ".gatekeeper/pack.yaml",
            "roles": {**cases.CONFIG["roles"], "cab": cab_role or ["kim", "park", "choi", "yoon", "seo"]},
        },
        **extra,
    }


def test_a_deputy_approves_within_the_period_and_is_marked(repo: GitRepo, reliability: Recorder) -> None:
    at, _ = cases.build(repo, {"approvals": AS_DEPUTY, "delegations": [TO_JUNG]})
    code, body = cases.gate(repo, at)
    assert code == 0, body["findings"]
    form = run_cli(["--lang", "ko", "report", "form", "change-request", cases.RFC_ID], cwd=repo.path, now=at)
    assert form.code == 0, form.stderr
    assert "jung (대리: park)" in form.stdout.replace("\\", "")  # markdown escapes the parentheses
    english = run_cli(["report", "form", "change-request", cases.RFC_ID], cwd=repo.path, now=at)
    assert "jung (deputy of park)" in english.stdout.replace("\\", "")
    reliability.row(
        "park (agency-manager) delegates change-approval to jung, who approves within the period",
        "delegation",
        "allow; the form shows `jung (대리: park)`",
    )


def test_a_forged_unsigned_delegation_grants_nothing(repo: GitRepo, reliability: Recorder) -> None:
    for forged in ({**TO_JUNG, "signed": False}, {**TO_JUNG, "source": "local"}):
        at, _ = cases.build(repo, {"approvals": AS_DEPUTY, "delegations": [forged]})
        code, body = cases.gate(repo, at)
        assert code == 1 and "approval.unauthorized" in _rules(body), body["findings"]
        [finding] = [f for f in body["findings"] if f["rule"] == "approval.unauthorized"]
        assert "delegation" in finding["message"] and "does not count" in finding["message"]
    reliability.row(
        "a `delegation` record park→jung appended without the CI platform's signature, or from a workstation",
        "forgery",
        "block: approval.unauthorized, saying why the delegation does not count",
    )


def test_a_delegation_to_oneself_is_refused(repo: GitRepo, reliability: Recorder) -> None:
    at, _ = cases.build(repo, {})
    refused = _delegate(repo, at, "park", "--to", "@Park", "--steps", "change-approval", *_period(at))
    assert refused.code == 2 and "yourself" in refused.stderr and "Traceback" not in refused.stderr
    korean = _delegate(
        repo, at, "park", "--to", "park", "--steps", "change-approval", *_period(at), lang="ko"
    )
    assert korean.code == 2 and "자신" in korean.stderr
    assert _delegations(repo) == []
    reliability.row(
        "`delegate --to` the delegator themself (also as `@Park`)",
        "bad input",
        "exit 2 in Korean and English, nothing written",
    )


def test_a_delegation_by_a_non_holder_is_refused_and_counts_for_nothing(
    repo: GitRepo, reliability: Recorder
) -> None:
    at, _ = cases.build(repo, {})
    refused = _delegate(repo, at, "dev", "--to", "jung", "--steps", "change-approval", *_period(at))
    assert refused.code == 2 and "agency-manager" in refused.stderr and _delegations(repo) == []
    # Written into the ledger anyway, signed by the developer's own job: it grants nothing.
    by_dev = {**TO_JUNG, "by": "dev"}
    at, _ = cases.build(repo, {"approvals": AS_DEPUTY, "delegations": [by_dev]})
    code, body = cases.gate(repo, at)
    assert code == 1 and "approval.unauthorized" in _rules(body)
    reliability.row(
        "the developer (no role) delegates change-approval to a colleague: by `delegate`, and as a "
        "signed record",
        "forgery",
        "exit 2, nothing written; the record grants nothing (block: approval.unauthorized)",
    )


def test_the_developer_as_deputy_is_still_the_author(repo: GitRepo, reliability: Recorder) -> None:
    chain = [{**a, "actor": "dev"} if a["step"] == "change-approval" else a for a in AS_DEPUTY]
    at, _ = cases.build(repo, {"approvals": chain, "delegations": [{**TO_JUNG, "to": "dev"}]})
    code, body = cases.gate(repo, at)
    assert code == 1 and "approval.self" in _rules(body), body["findings"]
    reliability.row(
        "park delegates change-approval to the change's developer, who approves their own change",
        "forgery",
        "block: approval.self (separation of duties applies to the deputy)",
    )


def test_a_deputy_may_not_give_two_steps(repo: GitRepo, reliability: Recorder) -> None:
    chain = [{**a, "actor": "han"} if a["step"] == "change-approval" else a for a in AS_DEPUTY]
    at, _ = cases.build(repo, {"approvals": chain, "delegations": [{**TO_JUNG, "to": "han"}]})
    code, body = cases.gate(repo, at)
    assert code == 1 and "approval.same-person" in _rules(body), body["findings"]
    reliability.row(
        "park's deputy han gives change-approval and, as operator-manager, release-first",
        "forgery",
        "block: approval.same-person",
    )


def test_outside_the_period_revoked_or_other_steps_counts_for_nothing(
    repo: GitRepo, reliability: Recorder
) -> None:
    for delegations in (
        [{**TO_JUNG, "until_hours": -30}],  # ended before jung approved (a day before `at`)
        [{**TO_JUNG, "from_hours": 2}],  # begins after jung approved
        [TO_JUNG, {"by": "park", "revokes": 0, "hours_ago": 30}],  # withdrawn before
        [{**TO_JUNG, "steps": ["change-review"]}],  # another step
    ):
        at, _ = cases.build(repo, {"approvals": AS_DEPUTY, "delegations": delegations})
        code, body = cases.gate(repo, at)
        assert code == 1 and "approval.unauthorized" in _rules(body), (delegations, body["findings"])
    reliability.row(
        "a deputy's approval after the delegation ended, before it began, after it was revoked, for "
        "another step",
        "forgery",
        "block: approval.unauthorized",
    )


def test_overlapping_delegations_are_refused_and_the_later_counts_for_nothing(
    repo: GitRepo, reliability: Recorder
) -> None:
    at, _ = cases.build(repo, {})
    first = _delegate(repo, at, "park", "--to", "jung", "--steps", "change-approval", *_period(at))
    assert first.code == 0, first.stderr
    again = _delegate(repo, at, "park", "--to", "yoon", "--steps", "change-approval", *_period(at, 24))
    assert again.code == 2 and "overlap" in again.stderr and "Traceback" not in again.stderr
    assert len(_delegations(repo)) == 1
    # Revoked, the steps are free again.
    [record] = _delegations(repo)
    revoked = _delegate(repo, at, "park", "--revoke", record.id)
    assert revoked.code == 0, revoked.stderr
    twice = _delegate(repo, at, "park", "--revoke", record.id)
    assert twice.code == 2 and len(_delegations(repo)) == 2
    # A second one appended anyway: the first recorded holds, the overlapping later one grants nothing.
    to_yoon = {**TO_JUNG, "to": "yoon", "hours_ago": 47}
    chain = [{**a, "actor": "yoon"} if a["step"] == "change-approval" else a for a in AS_DEPUTY]
    at, _ = cases.build(repo, {"approvals": chain, "delegations": [TO_JUNG, to_yoon]})
    code, body = cases.gate(repo, at)
    assert code == 1 and "approval.unauthorized" in _rules(body), body["findings"]
    [finding] = [f for f in body["findings"] if f["rule"] == "approval.unauthorized"]
    assert "overlap" in finding["message"]
    reliability.row(
        "a second delegation of the same step by the same delegator for an overlapping period",
        "bad input",
        "exit 2, nothing written; appended anyway, the later one grants nothing",
    )


def test_a_quorum_counts_each_member_once(repo: GitRepo, tmp_path: Path, reliability: Recorder) -> None:
    at, _ = cases.build(repo, _quorum_case(["choi", "choi"]))
    code, body = cases.gate(repo, at)
    assert code == 1 and "approval.quorum" in _rules(body), body["findings"]
    [finding] = [f for f in body["findings"] if f["rule"] == "approval.quorum"]
    assert "1 of 2" in finding["message"]
    fresh = GitRepo.create(tmp_path / "fresh")
    at, _ = cases.build(fresh, _quorum_case(["choi", "yoon"]))
    code, body = cases.gate(fresh, at)
    assert code == 0, body["findings"]
    reliability.row(
        "a CAB needing 2 members (pack `quorum: 2`): the same member approves twice",
        "forgery",
        "block: approval.quorum (1 of 2); two members allow",
    )


def test_a_quorum_member_who_is_the_author_counts_not(repo: GitRepo, reliability: Recorder) -> None:
    case = _quorum_case(["dev", "choi"], cab_role=["kim", "park", "choi", "dev"])
    at, _ = cases.build(repo, case)
    code, body = cases.gate(repo, at)
    assert code == 1, body["findings"]
    assert {"approval.quorum", "approval.self"} <= _rules(body), body["findings"]
    reliability.row(
        "a CAB needing 2 members: the change's developer is one of the two who approve",
        "forgery",
        "block: approval.self and approval.quorum (the author counts not)",
    )


def test_a_deputy_and_their_delegator_are_one_member(
    repo: GitRepo, tmp_path: Path, reliability: Recorder
) -> None:
    delegation = {"by": "yoon", "to": "jung", "steps": ["cab"]}
    at, _ = cases.build(repo, _quorum_case(["yoon", "jung"], delegations=[delegation]))
    code, body = cases.gate(repo, at)
    assert code == 1 and "approval.quorum" in _rules(body), body["findings"]
    fresh = GitRepo.create(tmp_path / "fresh")
    at, _ = cases.build(fresh, _quorum_case(["choi", "jung"], delegations=[delegation]))
    code, body = cases.gate(fresh, at)
    assert code == 0, body["findings"]
    started = run_cli(["deploy", "start", "--rfc", cases.RFC_ID], cwd=fresh.path, now=at)
    assert started.code == 0, started.stderr
    audit = run_cli(["--format", "json", "audit"], cwd=fresh.path, now=at + timedelta(minutes=5))
    [item] = [i for i in json.loads(audit.stdout)["items"] if i["id"] == "change.approvals"]
    assert item["result"] != "nonconformity" and "jung (deputy of yoon)" in json.dumps(item), item
    reliability.row(
        "a CAB needing 2 members: one member and their deputy approve",
        "forgery",
        "block: approval.quorum; a member and another's deputy allow",
    )


def test_approve_records_a_deputys_decision_only_under_a_delegation_that_counts(
    repo: GitRepo, reliability: Recorder
) -> None:
    chain = [a for a in AS_DEPUTY if a["step"] != "change-approval"]
    at, _ = cases.build(repo, {"approvals": chain})
    args = ["approve", cases.RFC_ID, "--step", "change-approval", "--decision", "approve"]
    before = run_cli(args, cwd=repo.path, env=gitlab_job(repo.head(), "jung", at), now=at)
    assert before.code == 1 and "approval.unauthorized" in before.stdout + before.stderr
    given = _delegate(repo, at, "park", "--to", "jung", "--steps", "change-approval", *_period(at, -1))
    assert given.code == 0, given.stderr
    after = run_cli(args, cwd=repo.path, env=gitlab_job(repo.head(), "jung", at), now=at)
    assert after.code == 0, after.stdout + after.stderr
    to_dev = _delegate(repo, at, "kim", "--to", "dev", "--steps", "change-review", *_period(at, -1))
    assert to_dev.code == 0, to_dev.stderr
    review = ["approve", cases.RFC_ID, "--step", "change-review", "--decision", "approve"]
    refused = run_cli(review, cwd=repo.path, env=gitlab_job(repo.head(), "dev", at), now=at)
    assert refused.code == 1 and "approval.self" in refused.stdout + refused.stderr
    reliability.row(
        "`approve` by a deputy: before the delegation, under it, and the developer as a deputy",
        "delegation",
        "exit 1 (approval.unauthorized), recorded, exit 1 (approval.self): nothing written when refused",
    )


def test_ledger_verify_checks_a_delegations_signature(repo: GitRepo, reliability: Recorder) -> None:
    at, _ = cases.build(repo, {"delegations": [TO_JUNG, {**TO_JUNG, "to": "yoon", "signed": False}]})
    result = run_cli(["--format", "json", "ledger", "verify", "--attestations"], cwd=repo.path, now=at)
    body = json.loads(result.stdout)
    rows = [r for r in body["records"] if r["kind"] == "delegation"]
    assert [r["result"] for r in rows] == ["signed", "unsigned"], body
    reliability.row(
        "`ledger verify --attestations` over a signed and an unsigned delegation record",
        "forgery",
        "the signed one verifies; the unsigned one is reported as such",
    )


def test_the_audit_reads_a_deputys_unattested_approval_at_its_time(
    repo: GitRepo, reliability: Recorder
) -> None:
    """Grades 3–4 need no attestation: the SQL readers hand such an approval over as its members, without
    its time. The delegation's period is read against the approval's time that `deploy start` recorded
    with the approvals it counted, so the audit on SQLite counts the deputy's approval as the gate did."""
    unattested = [{**step, "attested": False} for step in AS_DEPUTY]
    case = {"system": {"grade": 3}, "approvals": unattested, "delegations": [TO_JUNG]}
    at, _ = cases.build(repo, case)
    code, body = cases.gate(repo, at)
    assert code == 0, body["findings"]
    started = run_cli(["deploy", "start", "--rfc", cases.RFC_ID], cwd=repo.path, now=at)
    assert started.code == 0, started.stderr
    audit = run_cli(["--format", "json", "audit"], cwd=repo.path, now=at + timedelta(minutes=5))
    [item] = [i for i in json.loads(audit.stdout)["items"] if i["id"] == "change.approvals"]
    assert item["result"] == "conform", item
    reliability.row(
        "grade 3: a deputy's approval without attestation, within the delegation's period, audited on SQLite",
        "delegation",
        "the audit counts it as the gate did (conform)",
    )
