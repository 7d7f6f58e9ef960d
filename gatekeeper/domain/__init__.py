"""Value types shared by rules, adapters and reporters.

Everything here is frozen: rules receive facts and return findings, and nothing downstream may change them.
The string values are part of the contract (DESIGN §2–§5): never rename them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum, StrEnum


class Grade(IntEnum):
    """정보시스템 등급: 1 is the most critical."""

    ONE = 1
    TWO = 2
    THREE = 3
    FOUR = 4


class ChangeType(StrEnum):
    NORMAL = "normal"  # 일반
    STANDARD = "standard"  # 단순
    EMERGENCY = "emergency"  # 긴급


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"
    OFF = "off"


class Role(StrEnum):
    AGENCY_MANAGER = "agency-manager"  # 운영기관 관리자
    AGENCY_OFFICER = "agency-officer"  # 운영기관 담당자
    OPERATOR_MANAGER = "operator-manager"  # 운영관리자
    MAINTAINER = "maintainer"  # 유지보수
    TESTER = "tester"  # 테스트
    CAB = "cab"  # 변경관리위원회


class Step(StrEnum):
    """Approval steps of the kr-ap-sop pack, in the SOP's order (seed 002, 변경관리 2.1 검토 → 2.3 승인;
    배포관리 2단계 승인): the officer reviews, the CAB deliberates, the manager approves after the review,
    then the release plan's first (operator manager) and second (officer/requester) approvals."""

    CHANGE_REVIEW = "change-review"
    CAB = "cab"
    CHANGE_APPROVAL = "change-approval"
    RELEASE_FIRST = "release-first"
    RELEASE_SECOND = "release-second"


class EvidenceKind(StrEnum):
    UNIT = "unit"
    INTEGRATION = "integration"
    PERFORMANCE = "performance"
    ACCEPTANCE = "acceptance"


class RfcStatus(StrEnum):
    ACTIVE = "active"
    CANCELLED = "cancelled"
    CLOSED = "closed"
    DRAFT = "draft"  # being written: commits may name it, the gate does not deploy it (rfc.inactive)


class ActorSource(StrEnum):
    GITHUB_ACTIONS = "github-actions"
    GITLAB_CI = "gitlab-ci"
    LOCAL = "local"


class RecordKind(StrEnum):
    APPROVAL = "approval"
    PIR = "pir"
    TEST_EVIDENCE = "test.evidence"
    DEPLOYMENT_STARTED = "deployment.started"
    DEPLOYMENT_FINISHED = "deployment.finished"
    INCIDENT_OPENED = "incident.opened"
    NOTICE = "notice"
    BASELINE_CREATED = "baseline.created"
    AUDIT_RUN = "audit.run"
    # Incident and problem management (SOP INC, PRB): additive kinds.
    INCIDENT_UPDATED = "incident.updated"
    INCIDENT_CLOSED = "incident.closed"
    PROBLEM_OPENED = "problem.opened"
    # Closing the release and the change (seed 002 배포관리 4.1–4.3, 변경관리 4.2): additive kinds.
    RELEASE_ACCEPTED = "release.accepted"
    RELEASE_REVIEWED = "release.reviewed"
    CHANGE_CLOSED = "change.closed"
    # Deputies (issue 19): a holder of an approval step's role hands it to a deputy for a period.
    DELEGATION = "delegation"


class DeploymentResult(StrEnum):
    SUCCESS = "success"
    FAILURE = "failure"
    ROLLED_BACK = "rolled-back"
    ABORTED = "aborted"


class Decision(StrEnum):
    ALLOW = "allow"
    BLOCK = "block"


@dataclass(frozen=True, slots=True)
class Finding:
    """One rule's verdict on one subject. The JSON shape is contract (DESIGN §3)."""

    rule: str
    severity: Severity
    sop: str
    message: str
    remediation: str
    subject: str = ""

    def as_dict(self) -> dict[str, str]:
        return {
            "rule": self.rule,
            "severity": str(self.severity),
            "sop": self.sop,
            "message": self.message,
            "remediation": self.remediation,
            "subject": self.subject,
        }


@dataclass(frozen=True, slots=True)
class SystemRelease:
    """One system of an RFC that names several, and how its latest production deployment of the RFC
    stands: "none" (not deployed), "open", or the result ("success", "failure", ...). CHG-PLAN: a release
    for many systems reaches them one after another."""

    system: str
    state: str  # also "unverified": its records cannot be checked (no `repository` for it)
    deployment: str = ""
    # Why a record of it was ignored (its signature does not verify), in English; "": none was.
    ignored: str = ""
    ignored_ko: str = ""  # the same, in Korean


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of a checking command: what reporters print and what decides the exit code."""

    system: str
    grade: int
    change_type: str
    rfcs: tuple[str, ...] = ()
    findings: tuple[Finding, ...] = ()
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def errors(self) -> tuple[Finding, ...]:
        return tuple(f for f in self.findings if f.severity is Severity.ERROR)

    @property
    def ok(self) -> bool:
        return not self.errors

    @property
    def decision(self) -> Decision:
        return Decision.ALLOW if self.ok else Decision.BLOCK

    def as_dict(self) -> dict[str, object]:
        body: dict[str, object] = {
            "ok": self.ok,
            "decision": str(self.decision),
            "system": self.system,
            "grade": self.grade,
            "change_type": self.change_type,
            "rfcs": list(self.rfcs),
            "findings": [f.as_dict() for f in self.findings],
        }
        body.update(self.extra)
        return body
