"""The shipped packs load, and kr-ap-sop gives the severities SOP.md prescribes per grade and change type."""

from __future__ import annotations

import pytest

from gatekeeper.config import load_policy
from gatekeeper.config.models import Policy
from gatekeeper.domain import ChangeType, EvidenceKind, Grade, Severity, Step
from gatekeeper.domain.catalogue import RULES
from gatekeeper.resources import policies_dir

E, W, OFF = Severity.ERROR, Severity.WARNING, Severity.OFF
N, S, X = ChangeType.NORMAL, ChangeType.STANDARD, ChangeType.EMERGENCY


@pytest.fixture(scope="module")
def pack() -> Policy:
    return load_policy("kr-ap-sop")


def test_every_shipped_pack_loads() -> None:
    names = sorted(p.stem for p in policies_dir().glob("*.yaml"))
    assert names == ["kr-ap-sop", "minimal"]
    for name in names:
        assert load_policy(name).name == name


def test_kr_ap_sop_names_every_rule_of_the_catalogue(pack: Policy) -> None:
    assert set(pack.rules) == set(RULES)


# (rule, grade, type, severity, clause) — each row is a sentence of SOP.md.
SEVERITIES = [
    # CFG-P3: check-ins name the RFC (configuration SOP: mandatory 1–2, recommended 3–4)
    *[("commit.rfc-missing", g, t, E, "CFG-P3") for g in (1, 2) for t in (N, S, X)],
    *[("commit.rfc-missing", g, t, W, "CFG-P3") for g in (3, 4) for t in (N, S, X)],
    ("commit.reason-missing", 1, N, E, "CFG-P3"),
    ("commit.reason-missing", 4, N, W, "CFG-P3"),
    ("commit.rfc-unknown", 2, X, E, "CHG-P1"),
    ("commit.rfc-inactive", 3, N, W, "CHG-P1"),
    # CHG-P3: no deployment 09–18 for normal changes: 1–2 mandatory, 3–4 recommended; others unrestricted
    ("window.business-hours", 1, N, E, "CHG-P3"),
    ("window.business-hours", 2, N, E, "CHG-P3"),
    ("window.business-hours", 3, N, W, "CHG-P3"),
    ("window.business-hours", 4, N, W, "CHG-P3"),
    *[("window.business-hours", g, t, OFF, "CHG-P3") for g in (1, 2, 3, 4) for t in (S, X)],
    # CHG-P3: CAB for normal changes: grade 1 mandatory, grade 2 recommended
    ("cab.missing", 1, N, E, "CHG-P3"),
    ("cab.missing", 2, N, W, "CHG-P3"),
    *[("cab.missing", g, N, OFF, "CHG-P3") for g in (3, 4)],
    *[("cab.missing", g, t, OFF, "CHG-P3") for g in (1, 2) for t in (S, X)],
    # CHG-P4 / REL-P4: every change and release plan has a rollback plan
    *[("rfc.rollback-plan-missing", g, t, E, "CHG-P4") for g in (1, 2) for t in (N, S, X)],
    *[("rfc.rollback-plan-missing", g, N, W, "CHG-P4") for g in (3, 4)],
    # CHG-PLAN: software changes include a test plan; an emergency plan may be confirmed verbally
    ("rfc.test-plan-missing", 1, N, E, "CHG-PLAN"),
    ("rfc.test-plan-missing", 2, S, E, "CHG-PLAN"),
    ("rfc.test-plan-missing", 1, X, W, "CHG-PLAN"),
    ("rfc.test-plan-missing", 3, N, W, "CHG-PLAN"),
    # REL-P1/REL-P3: tested in the test environment before production
    ("tests.missing", 1, N, E, "REL-P1"),
    ("tests.missing", 2, S, E, "REL-P1"),
    ("tests.missing", 1, X, W, "REL-P1"),
    ("tests.missing", 3, N, W, "REL-P1"),
    ("tests.failed", 1, N, E, "REL-P1"),
    ("tests.failed", 4, N, W, "REL-P1"),
    ("tests.below-threshold", 2, N, E, "TST-KPI"),
    ("tests.performance-missing", 1, N, E, "TST-PERF"),
    ("tests.performance-missing", 3, N, W, "TST-PERF"),
    # TST-P3: the verifier is not the author
    ("approval.self", 1, N, E, "TST-P3"),
    ("approval.self", 3, N, W, "TST-P3"),
    ("approval.missing", 1, N, E, "CHG-P3"),
    ("approval.rejected", 4, S, E, "CHG-P3"),
    # CHG-P3: PIR after CAB-reviewed normal changes, grade 1 mandatory
    ("deploy.pir-overdue", 1, N, E, "CHG-P3"),
    ("deploy.pir-overdue", 2, N, W, "CHG-P3"),
    ("deploy.retro-review-overdue", 1, X, E, "CHG-P1"),
    ("integration.notice-missing", 2, N, E, "REL-NOTICE"),
    ("integration.notice-missing", 3, N, W, "REL-NOTICE"),
    ("baseline.drift", 1, N, E, "CFG-P1"),
    ("baseline.drift", 4, N, W, "CFG-P1"),
    ("deploy.concurrent", 4, X, E, "seed 003"),
    *[("gate.error", g, t, E, "fail closed") for g in (1, 2, 3, 4) for t in (N, S, X)],
]


@pytest.mark.parametrize(
    ("rule", "grade", "change_type", "expected", "clause"),
    SEVERITIES,
    ids=[f"{r}-g{g}-{t}" for r, g, t, _, _ in SEVERITIES],
)
def test_kr_ap_sop_severity(
    pack: Policy, rule: str, grade: int, change_type: ChangeType, expected: Severity, clause: str
) -> None:
    assert pack.severity(rule, grade, change_type) is expected, clause


def _required_steps(pack: Policy, grade: int, change_type: ChangeType) -> dict[Step, Severity]:
    found: dict[Step, Severity] = {}
    for requirement in pack.approvals.required:
        if requirement.matches(Grade(grade), change_type):
            found.setdefault(requirement.step, requirement.severity)
    return found


RC, CA, CAB, R1, R2 = (
    Step.CHANGE_REVIEW,
    Step.CHANGE_APPROVAL,
    Step.CAB,
    Step.RELEASE_FIRST,
    Step.RELEASE_SECOND,
)
APPROVALS = [
    # CHG-P3 two-step approval (grade 1 mandatory, grade 2 recommended), CAB likewise; REL-P1 release plan.
    (1, N, {RC: E, CA: E, CAB: E, R1: E, R2: E}),
    (2, N, {RC: E, CA: W, CAB: W, R1: E, R2: E}),
    (3, N, {RC: W, R1: W, R2: W}),
    (4, N, {RC: W, R1: W, R2: W}),
    # simple changes skip the manager step and the CAB
    (1, S, {RC: E, R1: E, R2: E}),
    (3, S, {RC: W, R1: W, R2: W}),
    # emergency changes skip review, manager approval and the release two-step (reviewed after the fact)
    (1, X, {}),
    (4, X, {}),
]


@pytest.mark.parametrize(("grade", "change_type", "expected"), APPROVALS)
def test_kr_ap_sop_required_approvals(
    pack: Policy, grade: int, change_type: ChangeType, expected: dict[Step, Severity]
) -> None:
    assert _required_steps(pack, grade, change_type) == expected


def test_kr_ap_sop_step_roles_and_order(pack: Policy) -> None:
    steps = pack.approvals.steps
    assert pack.approvals.order == (RC, CAB, CA, R1, R2)  # the SOP's: review, CAB, manager, release
    assert steps[RC].roles == ("agency-officer",)
    assert steps[CA].roles == ("agency-manager",)
    assert steps[CAB].roles == ("cab",)
    assert steps[R1].roles == ("operator-manager",)
    assert steps[R2].roles == ("agency-officer",)
    assert steps[R2].requester_may_approve  # REL-P1: the change requester gives the second approval
    assert not any(steps[s].requester_may_approve for s in (RC, CA, CAB, R1))
    assert set(pack.approvals.local_actor_grades) == {Grade.THREE, Grade.FOUR}


def test_kr_ap_sop_emergency_changes_are_reviewed_after_the_fact(pack: Policy) -> None:
    for grade in (1, 2, 3, 4):
        matching = [r for r in pack.approvals.retro_review if r.matches(Grade(grade), X)]
        assert matching and RC in matching[0].steps
    assert not any(r.matches(Grade(1), N) for r in pack.approvals.retro_review)


def test_kr_ap_sop_test_evidence(pack: Policy) -> None:
    def kinds(grade: int, change_type: ChangeType) -> tuple[set[EvidenceKind], Severity] | None:
        for requirement in pack.tests.required:
            if requirement.matches(Grade(grade), change_type):
                return set(requirement.kinds), requirement.severity
        return None

    unit_it = {EvidenceKind.UNIT, EvidenceKind.INTEGRATION}
    assert kinds(1, N) == (unit_it, E)
    assert kinds(2, S) == (unit_it, E)
    assert kinds(3, N) == (unit_it, W)
    assert kinds(1, X) == ({EvidenceKind.UNIT}, W)
    assert pack.tests.min_success_rate == 95.0  # TST-KPI


def test_kr_ap_sop_pir_and_window(pack: Policy) -> None:
    grade1 = [p for p in pack.deploy.pir if p.matches(Grade(1), N)]
    assert grade1 and grade1[0].only_after_cab
    assert not any(p.matches(Grade(1), X) for p in pack.deploy.pir)
    assert (pack.window.business_start, pack.window.business_end) == ("09:00", "18:00")
    assert pack.incidents.internal_hours == ("09:00", "18:00")
    assert pack.incidents.public_hours == ("09:00", "21:00")


def test_kr_ap_sop_kpi_targets(pack: Policy) -> None:
    targets = {k.id: (k.op, k.value, k.sop) for k in pack.kpis}
    assert targets["deployment-success-rate"] == (">=", 98, "REL-KPI")
    assert targets["deployment-failure-rate"] == ("<=", 2, "REL-KPI")
    assert targets["rollback-rate"] == ("<=", 1, "REL-KPI")
    assert targets["post-deployment-defect-rate"] == ("<=", 3, "REL-KPI")
    assert targets["mttr-minutes"] == ("<=", 60, "REL-KPI")
    assert targets["test-success-rate"] == (">=", 95, "TST-KPI")
    assert targets["test-coverage"] == (">=", 90, "TST-KPI")
    assert targets["configuration-integrity"] == (">=", 99, "CFG-KPI")
    assert targets["configuration-error-detection-rate"] == (">=", 90, "CFG-KPI")
    assert targets["change-on-time-rate"] == (None, None, "CHG-KPI")


def test_minimal_pack_only_checks_rfc_ids() -> None:
    minimal = load_policy("minimal")
    for grade in (1, 4):
        assert minimal.severity("commit.rfc-missing", grade, N) is E
        assert minimal.severity("window.business-hours", grade, N) is OFF
        assert minimal.severity("approval.missing", grade, N) is OFF
        assert minimal.severity("tests.missing", grade, N) is OFF
        assert minimal.severity("gate.error", grade, N) is E
    assert minimal.approvals.required == ()
    assert minimal.commit.reason_min_chars == 0
