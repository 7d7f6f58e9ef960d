"""Typed ledger payloads: one frozen model per record kind, the only code that reads or writes `data` keys.

The record shape (DESIGN §5) is the envelope — seq, id, kind, system, rfcs, actor, actor_source, at — and a
free-form `data` object whose members depend on the kind. Every reader of the ledger goes through `read`
(or a payload's `parse`), every writer through a payload's `dump`, so a member is named in exactly one
place and a record written by an older version is read the way it was meant.

Payload fields only grow: `parse` ignores members it does not know (a newer version may have added them),
accepts the older spellings it knows (`rfc_digest`, `deployment_id`, counts under `counts` or at the top)
and raises `PayloadError` naming the record and the member when a member it needs is missing or of the
wrong type. A malformed payload is an integrity problem of the ledger — the gate reports `gate.error`, the
audit a nonconformity — never a KeyError.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from functools import cached_property
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from gatekeeper.domain import ChangeType, DeploymentResult, EvidenceKind, RecordKind, Severity
from gatekeeper.messages import Message, msg
from gatekeeper.untrusted import aware_time

APPROVE = "approve"
REJECT = "reject"
DECISIONS = (APPROVE, REJECT)
PIR_RESULTS = ("achieved", "not-achieved")
ACCEPTANCE_RESULTS = ("accepted", "rejected")


_COMMIT = re.compile(r"[0-9a-f]{40}|[0-9a-f]{64}")
ARTIFACT_DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def _artifacts(value: Any) -> dict[str, str]:
    """An approval's `artifacts`: absent (older records) is none; otherwise names to `sha256:` digests."""
    if value is None:
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(k, str) and k and isinstance(v, str) and ARTIFACT_DIGEST.fullmatch(v)
        for k, v in value.items()
    ):
        raise PayloadError(msg("`artifacts` is not a map of names to sha256:<hex> digests"))
    return dict(value)


class PayloadError(ValueError):
    """A record's `data` lacks a member its kind needs, or holds one of the wrong type: why (`message`), in
    English (its `str`) and in Korean (`ko`)."""

    def __init__(self, message: Message) -> None:
        super().__init__(message.en)
        self.message = message

    @property
    def ko(self) -> str:
        return self.message.ko


@dataclass(frozen=True, slots=True)
class Malformed:
    """A stored record whose payload does not read (why, and when it claims to be written): the ledger
    holds something no pipeline wrote."""

    seq: int
    kind: str
    reason: str
    moment: datetime | None = None
    reason_ko: str = ""


class Envelope(Protocol):
    """What `read` needs of a stored record (a `ledger.Record`)."""

    @property
    def seq(self) -> int: ...
    @property
    def id(self) -> str: ...
    @property
    def kind(self) -> str: ...
    @property
    def system(self) -> str: ...
    @property
    def rfcs(self) -> tuple[str, ...]: ...
    @property
    def actor(self) -> str: ...
    @property
    def actor_source(self) -> str: ...
    @property
    def at(self) -> str: ...
    @property
    def data(self) -> Mapping[str, Any]: ...


# ------------------------------------------------------------------------------------------ member readers


def _signature(data: Mapping[str, Any]) -> Mapping[str, Any] | None:
    """A record's `attestation` as stored; whether it proves anything is for the verifier."""
    found = data.get("attestation")
    return found if isinstance(found, Mapping) else None


def _text(data: Mapping[str, Any], name: str, default: str | None = None) -> str:
    value = data.get(name)
    if value is None:  # absent, or JSON null: the default where there is one
        if default is None:
            raise PayloadError(msg("lacks `{name}`", name=name))
        return default
    if not isinstance(value, str):
        raise PayloadError(msg("`{name}` is not text", name=name))
    return value


def _optional_text(data: Mapping[str, Any], name: str) -> str | None:
    value = data.get(name)
    if value is None:
        return None
    if not isinstance(value, str):
        raise PayloadError(msg("`{name}` is not text", name=name))
    return value


def _count(value: Any, name: str) -> int:
    if value is None:
        return 0
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise PayloadError(msg("`{name}` is not a count (a whole number of at least 0)", name=name))
    return value


def _number(data: Mapping[str, Any], name: str) -> float | None:
    value = data.get(name)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value):
        raise PayloadError(msg("`{name}` is not a number", name=name))
    return float(value)


def _texts(data: Mapping[str, Any], name: str) -> tuple[str, ...]:
    value = data.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PayloadError(msg("`{name}` is not a list of text", name=name))
    return tuple(value)


def _moment(value: Any, name: str) -> datetime | None:
    """An RFC 3339 time with an offset, or None when absent."""
    if value is None or value == "":
        return None
    if not isinstance(value, str):
        raise PayloadError(msg("`{name}` is not a time", name=name))
    try:  # the shared reading of untrusted times: ISO 8601, an offset, and a year gatekeeper computes with
        return aware_time(value)
    except ValueError as exc:
        raise PayloadError(msg("`{name}`: {exc}", name=name, exc=exc)) from None


def _enum(data: Mapping[str, Any], name: str, allowed: Sequence[str], default: str | None = None) -> str:
    value = data.get(name)
    if value is None:  # absent, or JSON null: the default where there is one
        value = default
    if value not in allowed:
        shown = msg("missing") if name not in data else repr(value)[:40]
        raise PayloadError(
            msg(
                "`{name}` is {shown}, not one of {allowed}",
                name=name,
                shown=shown,
                allowed=", ".join(allowed),
            )
        )
    return str(value)


E = TypeVar("E")
_EVIDENCE_KINDS = {k.value: k for k in EvidenceKind}
_CHANGE_TYPES = {t.value: t for t in ChangeType}
_RESULTS = {r.value: r for r in DeploymentResult}
_SEVERITIES = {s.value: s for s in Severity}


def _member(data: Mapping[str, Any], name: str, members: Mapping[str, E], default: E | None = None) -> E:
    """An enumerated member by its value (absent or JSON null: `default`, where there is one)."""
    value = data.get(name)
    if value is None and default is not None:
        return default
    found = members.get(value) if isinstance(value, str) else None
    if found is None:
        shown = msg("missing") if name not in data else repr(value)[:40]
        raise PayloadError(
            msg(
                "`{name}` is {shown}, not one of {members}",
                name=name,
                shown=shown,
                members=", ".join(members),
            )
        )
    return found


def _object(data: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    value = data.get(name, {})
    if not isinstance(value, dict):
        raise PayloadError(msg("`{name}` is not an object", name=name))
    return value


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment is not None else None


# ------------------------------------------------------------------------------------------ payloads


class Payload(Protocol):
    KIND: ClassVar[RecordKind]

    def dump(self) -> dict[str, Any]: ...


@dataclass(frozen=True, slots=True)
class Approval:
    """`approval`: one decision on one approval step, bound to the RFC content it was given for."""

    KIND: ClassVar[RecordKind] = RecordKind.APPROVAL
    step: str
    decision: str  # APPROVE | REJECT
    digest: str  # the RFC's content digest when the decision was given
    comment: str = ""
    # The CI platform's OIDC token and the key that verified it (`gatekeeper.domain.attestation`); None: none.
    # Read as stored: whether it proves anything is for the verifier, never for the parser.
    attestation: Mapping[str, Any] | None = None
    # The commit a release step's approval certifies (REL-P1: the release that was tested); "": none named.
    commit: str = ""
    # A CAB decision's conditions and the reference of its minutes (seed 002 변경관리 2.1 CAB 심의).
    conditions: str = ""
    minutes: str = ""
    # The artefacts of the release a release step approves, {name: "sha256:<hex>"} (`--artifact`); {}: none.
    artifacts: Mapping[str, str] = field(default_factory=dict)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Approval:
        step = data.get("step")
        if not isinstance(step, str) or not step:
            raise PayloadError(msg("`step` is not an approval step"))
        # `approve` writes `rfc_digest`; records of earlier versions say `digest`.
        digest = data.get("rfc_digest", data.get("digest", ""))
        if not isinstance(digest, str):
            raise PayloadError(msg("`rfc_digest` is not text"))
        comment = data.get("comment", "")
        attestation = data.get("attestation")
        commit = data.get("commit") or ""
        if not isinstance(commit, str) or (commit and not _COMMIT.fullmatch(commit)):
            raise PayloadError(msg("`commit` is not a full commit id (40 or 64 lowercase hex digits)"))
        return cls(
            step,
            _enum(data, "decision", DECISIONS),
            digest,
            comment if isinstance(comment, str) else "",
            attestation if isinstance(attestation, Mapping) else None,
            commit,
            _text(data, "conditions", ""),
            _text(data, "minutes", ""),
            _artifacts(data.get("artifacts")),
        )

    @classmethod
    def from_members(
        cls, step: Any, decision: Any, rfc_digest: Any = None, digest: Any = None, commit: Any = None
    ) -> Approval:
        """From the members a SQL backend extracts (`gatekeeper.ledger.sql_read`; None: absent), checked
        as `parse` checks them."""
        members = {
            "step": step,
            "decision": decision,
            "rfc_digest": rfc_digest,
            "digest": digest,
            "commit": commit,
        }
        return cls.parse({name: value for name, value in members.items() if value is not None})

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "step": self.step,
            "decision": self.decision,
            "rfc_digest": self.digest,
            "comment": self.comment,
        }
        if self.commit:
            body["commit"] = self.commit
        if self.conditions:
            body["conditions"] = self.conditions
        if self.minutes:
            body["minutes"] = self.minutes
        if self.attestation is not None:
            body["attestation"] = dict(self.attestation)
        return body


@dataclass(frozen=True, slots=True)
class Counts:
    """A test report's counts: `tests` run in all, of which passed, failed, errored and skipped."""

    tests: int
    passed: int
    failed: int = 0
    errors: int = 0
    skipped: int = 0

    @property
    def executed(self) -> int:
        """The tests that ran to a verdict — passed, failed or errored: what a success rate divides by
        (TST-KPI), for the gate, the audit and the KPIs alike."""
        return self.passed + self.failed + self.errors

    @property
    def success_rate(self) -> float | None:
        return round(100.0 * self.passed / self.executed, 2) if self.executed else None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Counts:
        """Counts under `totals` (as `evidence add` writes them), `counts`, or at the top; `error` and
        `total` are older spellings. A report that gives only a total counts its executed tests as passed."""
        found = data.get("totals")
        if not isinstance(found, dict):
            found = data.get("counts")
            if not isinstance(found, dict):
                found = data
        passed = _count(found.get("passed"), "passed")
        failed = _count(found.get("failed"), "failed")
        errors = _count(found.get("errors", found.get("error")), "errors")
        skipped = _count(found.get("skipped"), "skipped")
        total_value = found.get("tests", found.get("total"))
        verdicts = "passed" in found or "failed" in found or "errors" in found or "error" in found
        if total_value is None:
            if not verdicts:
                raise PayloadError(msg("gives no test counts"))
            return cls(passed + failed + errors + skipped, passed, failed, errors, skipped)
        total = _count(total_value, "tests")
        if not verdicts:  # only a total: the tests that were not skipped passed
            passed = max(total - skipped, 0)
        return cls(total, passed, failed, errors, skipped)

    def dump(self) -> dict[str, int]:
        return {
            "tests": self.tests,
            "passed": self.passed,
            "failed": self.failed,
            "errors": self.errors,
            "skipped": self.skipped,
        }


@dataclass(frozen=True, slots=True)
class TestEvidence:
    """`test.evidence`: counts of one kind of test, the commit they ran on and the reports' digests."""

    KIND: ClassVar[RecordKind] = RecordKind.TEST_EVIDENCE
    kind: EvidenceKind
    commit: str
    counts: Counts
    files: tuple[Mapping[str, Any], ...] = ()  # one entry per report: path, format, sha256, counts
    digest: str = ""  # the report's digest when one report was recorded by `deploy start`
    coverage: float | None = None
    source: str = ""  # "workspace" when `deploy start` recorded a report it found; else `evidence add`
    # The signature of the CI job that wrote it (`adapters.oidc.sign_record`), as stored; whether it proves
    # anything is for the verifier (`adapters.oidc.Attestor`), never for the parser.
    attestation: Mapping[str, Any] | None = None
    # The production deployment the tests verified (seed 002 배포관리 3.1–3.2, TST-P5: unit and integration
    # tests in the production environment after the deployment); "": tests before a deployment.
    deployment: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> TestEvidence:
        kind, commit = _tested(data)
        files = data.get("files", [])
        if not isinstance(files, list) or (files and not all(isinstance(f, dict) for f in files)):
            raise PayloadError(msg("`files` is not a list of objects"))
        return cls(
            kind,
            commit,
            Counts.parse(data),
            tuple(files),
            _text(data, "digest", ""),
            _number(data, "coverage"),
            _text(data, "source", ""),
            _signature(data),
            _text(data, "deployment", ""),
        )

    @property
    def digests(self) -> frozenset[str]:
        """The digests of the reports this record counts: its own and each file's."""
        found = {self.digest} if self.digest else set()
        for entry in self.files:
            value = entry.get("digest", entry.get("sha256"))
            if isinstance(value, str) and value:
                found.add(value)
        return frozenset(found)

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "kind": str(self.kind),
            "commit": self.commit,
            "files": [dict(f) for f in self.files],
            "totals": self.counts.dump(),
            "success_rate": self.counts.success_rate,
        }
        if self.digest:
            body["digest"] = self.digest
        if self.coverage is not None:
            body["coverage"] = self.coverage
        if self.source:
            body["source"] = self.source
        if self.attestation is not None:
            body["attestation"] = dict(self.attestation)
        if self.deployment:
            body["deployment"] = self.deployment
        return body


@dataclass(frozen=True, slots=True)
class CountedApproval:
    """A decision the gate counted: a ledger record (`seq`) or a platform review (`source`, the
    platform's id for it) with who gave it, when, and the RFC digest it is bound to."""

    rfc: str
    step: str
    decision: str
    actor: str
    actor_source: str
    at: str
    digest: str
    seq: int = 0  # 0: given on the platform
    source: str = ""
    commit: str = ""  # the commit a release step's decision certifies ("": none named)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> CountedApproval:
        seq = data.get("seq", 0)
        if isinstance(seq, bool) or not isinstance(seq, int) or seq < 0:
            raise PayloadError(msg("an approval's `seq` is not a record number"))
        return cls(
            _text(data, "rfc"),
            _text(data, "step"),
            _enum(data, "decision", DECISIONS),
            _text(data, "actor"),
            _text(data, "actor_source"),
            _text(data, "at", ""),
            _text(data, "digest", ""),
            seq,
            _text(data, "source", ""),
            _text(data, "commit", ""),
        )

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "rfc": self.rfc,
            "step": self.step,
            "decision": self.decision,
            "actor": self.actor,
            "actor_source": self.actor_source,
            "at": self.at,
            "digest": self.digest,
        }
        if self.seq:
            body["seq"] = self.seq
        if self.source:
            body["source"] = self.source
        if self.commit:
            body["commit"] = self.commit
        return body


@dataclass(frozen=True, slots=True)
class RecordedFinding:
    rule: str
    severity: Severity
    subject: str = ""

    def dump(self) -> dict[str, str]:
        return {"rule": self.rule, "severity": str(self.severity), "subject": self.subject}


@dataclass(frozen=True, slots=True)
class DecisionFacts:
    """What `deploy start` decided on, beyond the ledger records before it: the platform's approvals,
    who wrote the change, who held each role, the RFC contents, the configuration and pack in force, the
    evidence and approvals counted, and every finding. With these the audit re-runs the gate's rules
    over exactly what the gate saw (`gatekeeper.checks.audit`)."""

    at: datetime
    rfc_digests: Mapping[str, str]  # RFC id -> content digest deployed
    approvals: tuple[CountedApproval, ...] = ()  # the latest counted decision per RFC and step
    evidence: tuple[int, ...] = ()  # seqs of the test.evidence records counted
    identities: frozenset[str] = frozenset()  # the change's authors, committers, co-authors (person keys)
    members: Mapping[str, frozenset[str]] = field(default_factory=dict)  # role -> login keys
    config_digest: str = ""
    policy: str = ""  # the pack's name
    policy_digest: str = ""
    findings: tuple[RecordedFinding, ...] = ()

    @property
    def platform_approvals(self) -> tuple[CountedApproval, ...]:
        return tuple(a for a in self.approvals if not a.seq)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DecisionFacts:
        at = _moment(data.get("at"), "facts.at")
        if at is None:
            raise PayloadError(msg("`facts.at` is missing"))
        digests = _object(data, "rfcs")
        if not all(isinstance(v, str) for v in digests.values()):
            raise PayloadError(msg("`facts.rfcs` is not a map of RFC digests"))
        approvals = data.get("approvals", [])
        if not isinstance(approvals, list) or not all(isinstance(a, dict) for a in approvals):
            raise PayloadError(msg("`facts.approvals` is not a list of objects"))
        evidence = data.get("evidence", [])
        if not isinstance(evidence, list) or not all(
            isinstance(e, int) and not isinstance(e, bool) and e > 0 for e in evidence
        ):
            raise PayloadError(msg("`facts.evidence` is not a list of record numbers"))
        members = _object(data, "members")
        if not all(isinstance(v, list) and all(isinstance(x, str) for x in v) for v in members.values()):
            raise PayloadError(msg("`facts.members` is not a map of logins"))
        raw_findings = data.get("findings", [])
        if not isinstance(raw_findings, list) or not all(isinstance(f, dict) for f in raw_findings):
            raise PayloadError(msg("`facts.findings` is not a list of objects"))
        findings = tuple(
            RecordedFinding(
                _text(f, "rule"),
                _member(f, "severity", _SEVERITIES),
                _text(f, "subject", ""),
            )
            for f in raw_findings
        )
        policy = _object(data, "policy")
        return cls(
            at=at,
            rfc_digests=dict(digests),
            approvals=tuple(CountedApproval.parse(a) for a in approvals),
            evidence=tuple(evidence),
            identities=frozenset(_texts(data, "identities")),
            members={str(k): frozenset(v) for k, v in members.items()},
            config_digest=_text(data, "config", ""),
            policy=_text(policy, "name", ""),
            policy_digest=_text(policy, "digest", ""),
            findings=findings,
        )

    def dump(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "rfcs": dict(sorted(self.rfc_digests.items())),
            "approvals": [a.dump() for a in self.approvals],
            "evidence": list(self.evidence),
            "identities": sorted(self.identities),
            "members": {role: sorted(logins) for role, logins in sorted(self.members.items())},
            "config": self.config_digest,
            "policy": {"name": self.policy, "digest": self.policy_digest},
            "findings": [f.dump() for f in self.findings],
        }


@dataclass(frozen=True)
class DeploymentStarted:
    """`deployment.started`: a deployment the gate allowed; open until a `deployment.finished` names it
    (it holds the system's deployment lock for its environment meanwhile)."""

    KIND: ClassVar[RecordKind] = RecordKind.DEPLOYMENT_STARTED
    environment: str
    change_type: ChangeType = ChangeType.NORMAL
    commit: str = ""
    warnings: tuple[str, ...] = ()
    # What the gate decided on (`facts`), as recorded: read when first asked for, since most readers (the
    # lock, the KPIs) never ask. None: recorded by a version that did not keep it.
    decided: DecisionFacts | Mapping[str, Any] | None = None
    incident: str = ""  # the incident an emergency deployment answers for (its RFC's `incident`)
    # The artefacts deployed, NAME -> `sha256:<hex>` (`deploy start --artifact`); {}: none named.
    artifacts: Mapping[str, str] = field(default_factory=dict)
    # The signature of the CI job that wrote it (`adapters.oidc.sign_record`), as stored; whether it proves
    # anything is for the verifier (`adapters.oidc.Attestor`). None: recorded unsigned.
    attestation: Mapping[str, Any] | None = None

    @cached_property
    def facts(self) -> DecisionFacts | None:
        """The facts the gate decided on; raises PayloadError when the recorded ones do not read."""
        if self.decided is None or isinstance(self.decided, DecisionFacts):
            return self.decided
        return DecisionFacts.parse(self.decided)

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DeploymentStarted:
        raw_facts = data.get("facts")
        if raw_facts is not None and not isinstance(raw_facts, dict):
            raise PayloadError(msg("`facts` is not an object"))
        return cls(
            _text(data, "environment", ""),
            _member(data, "change_type", _CHANGE_TYPES, ChangeType.NORMAL),
            _text(data, "commit", ""),
            _texts(data, "warnings"),
            raw_facts,
            _text(data, "incident", ""),
            _artifacts(data.get("artifacts")),
            _signature(data),
        )

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "change_type": str(self.change_type),
            "commit": self.commit,
            "environment": self.environment,
            "warnings": list(self.warnings),
        }
        if isinstance(self.decided, DecisionFacts):
            body["facts"] = self.decided.dump()
        elif self.decided is not None:
            body["facts"] = dict(self.decided)
        if self.incident:
            body["incident"] = self.incident
        if self.artifacts:
            body["artifacts"] = dict(self.artifacts)
        return _signed_body(body, self.attestation)


@dataclass(frozen=True, slots=True)
class DeploymentFinished:
    """`deployment.finished`: the result of the deployment whose start record's id is `started`."""

    KIND: ClassVar[RecordKind] = RecordKind.DEPLOYMENT_FINISHED
    started: str
    result: DeploymentResult
    environment: str = ""
    change_type: ChangeType = ChangeType.NORMAL
    note: str = ""
    worker: str = ""
    verifier: str = ""
    test_result: str = ""
    errors: str = ""
    monitoring: str = ""
    started_at: str = ""
    improvements: str = ""
    artifacts: Mapping[str, str] = field(default_factory=dict)  # name -> sha256 digest
    commit: str = ""
    commit_at: datetime | None = None
    attestation: Mapping[str, Any] | None = None  # the CI platform's signature, as stored

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> DeploymentFinished:
        # `deploy finish` names the start as `started`; `deployment_id` is an older spelling.
        started = data.get("started") or data.get("deployment_id")
        if not isinstance(started, str) or not started:
            raise PayloadError(msg("does not name the deployment it closes (`started`)"))
        artifacts = _object(data, "artifacts")
        if isinstance(data.get("artifact_digest"), str) and not artifacts:
            artifacts = {"artifact": data["artifact_digest"]}  # the single-artefact spelling
        if not all(isinstance(v, str) for v in artifacts.values()):
            raise PayloadError(msg("`artifacts` is not a map of digests"))
        return cls(
            started,
            _member(data, "result", _RESULTS),
            _text(data, "environment", ""),
            _member(data, "change_type", _CHANGE_TYPES, ChangeType.NORMAL),
            _text(data, "note", ""),
            _text(data, "worker", ""),
            _text(data, "verifier", ""),
            _text(data, "test_result", ""),
            _text(data, "errors", ""),
            _text(data, "monitoring", ""),
            _text(data, "started_at", ""),
            _text(data, "improvements", ""),
            {str(k): v for k, v in artifacts.items()},
            _text(data, "commit", ""),
            _moment(data.get("commit_at"), "commit_at"),
            _signature(data),
        )

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "started": self.started,
            "result": str(self.result),
            "environment": self.environment,
            "change_type": str(self.change_type),
            "note": self.note,
            "worker": self.worker,
            "verifier": self.verifier,
            "test_result": self.test_result,
            "errors": self.errors,
            "monitoring": self.monitoring,
            "started_at": self.started_at,
        }
        if self.improvements:
            body["improvements"] = self.improvements
        if self.artifacts:
            body["artifacts"] = dict(self.artifacts)
        if self.commit:
            body["commit"] = self.commit
        if self.commit_at is not None:
            body["commit_at"] = self.commit_at.isoformat()
        return _signed_body(body, self.attestation)


# ------------------------------------------------------------------ incidents and problems (SOP INC, PRB)

# 원인 유형 of the 장애보고서 (seed 002 장애관리 자-3): 인적, H/W, S/W, O/S, N/W, 기술 — and
# unknown (원인 불명), which sends the incident to problem management (seed 002 문제관리 자-1).
CAUSE_TYPES = ("human", "hardware", "software", "os", "network", "technical", "unknown")
# 지역 보정 (seed 002 불임1): a nationwide service failing in a whole region (one grade) or part of one (two).
REGIONS = ("national", "regional-all", "regional-part")


def _grade(data: Mapping[str, Any], name: str) -> int | None:
    value = data.get(name)
    if value is not None and (isinstance(value, bool) or value not in (1, 2, 3, 4)):
        raise PayloadError(msg("`{name}` is not a grade 1-4", name=name))
    return value


def _flag(data: Mapping[str, Any], name: str) -> bool:
    value = data.get(name, False)
    if not isinstance(value, bool):
        raise PayloadError(msg("`{name}` is not true or false", name=name))
    return value


def _choice(data: Mapping[str, Any], name: str, allowed: Sequence[str]) -> str:
    value = _text(data, name, "")
    if value and value not in allowed:
        raise PayloadError(
            msg(
                "`{name}` is {value!r}, not one of {allowed}",
                name=name,
                value=value[:40],
                allowed=", ".join(allowed),
            )
        )
    return value


def _priority(data: Mapping[str, Any]) -> int | None:
    value = data.get("service_priority")
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 9):
        raise PayloadError(msg("`service_priority` is not a priority 1-9"))
    return value


@dataclass(frozen=True, slots=True)
class IncidentOpened:
    """`incident.opened`: an incident (장애) — opened by a failed deployment (`deployment_id`) or by hand
    (`gatekeeper incident open`), with the 장애보고서's fields (seed 002 장애관리 자-3)."""

    KIND: ClassVar[RecordKind] = RecordKind.INCIDENT_OPENED
    type: str
    grade: int | None = None
    deployment_id: str | None = None
    title: str = ""
    system_grade: int | None = None
    occurred_at: datetime | None = None
    detected_at: datetime | None = None
    resolved_at: datetime | None = None
    status: str = "open"
    errors: str = ""
    owner: str = ""  # 담당자
    handler: str = ""  # 처리자
    cause: str = ""  # 원인
    action: str = ""  # 조치 내용 (처리 내역)
    follow_up: str = ""  # 후속 조치 (시정·예방 조치, 향후대책)
    incident_id: str = ""  # the incident's own ID (`INC-…`), which an emergency RFC names; else the record id
    symptom: str = ""  # 장애 증상
    scope: str = ""  # 영향 범위
    service_impact: str = ""  # 서비스 영향도
    cause_type: str = ""  # 원인 유형 (CAUSE_TYPES)
    region: str = ""  # 지역 보정 (REGIONS)
    service_priority: int | None = None  # 서비스 중요도 순위 of the only services affected
    # The signature of the CI job that wrote it, as stored (`adapters.oidc.Attestor.vouches` verifies it).
    attestation: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> IncidentOpened:
        return cls(
            _text(data, "type", ""),
            _grade(data, "grade"),
            _optional_text(data, "deployment_id") or None,
            _text(data, "title", ""),
            _grade(data, "system_grade"),
            _moment(data.get("occurred_at"), "occurred_at"),
            _moment(data.get("detected_at"), "detected_at"),
            _moment(data.get("resolved_at"), "resolved_at"),
            _text(data, "status", "open"),
            _text(data, "errors", ""),
            owner=_text(data, "owner", ""),
            handler=_text(data, "handler", ""),
            cause=_text(data, "cause", ""),
            action=_text(data, "action", ""),
            follow_up=_text(data, "follow_up", ""),
            incident_id=_text(data, "incident_id", ""),
            symptom=_text(data, "symptom", ""),
            scope=_text(data, "scope", ""),
            service_impact=_text(data, "service_impact", ""),
            cause_type=_choice(data, "cause_type", CAUSE_TYPES),
            region=_choice(data, "region", REGIONS),
            service_priority=_priority(data),
            attestation=_signature(data),
        )

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "deployment_id": self.deployment_id,
            "type": self.type,
            "title": self.title,
            "grade": self.grade,
            "system_grade": self.system_grade,
            "occurred_at": _iso(self.occurred_at),
            "detected_at": _iso(self.detected_at),
            "resolved_at": _iso(self.resolved_at),
            "status": self.status,
            "errors": self.errors,
        }
        optional = (
            ("owner", self.owner),
            ("handler", self.handler),
            ("cause", self.cause),
            ("action", self.action),
            ("follow_up", self.follow_up),
            ("incident_id", self.incident_id),
            ("symptom", self.symptom),
            ("scope", self.scope),
            ("service_impact", self.service_impact),
            ("cause_type", self.cause_type),
            ("region", self.region),
            ("service_priority", self.service_priority),
        )
        body.update({name: value for name, value in optional if value})
        if self.attestation is not None:
            body["attestation"] = dict(self.attestation)
        return body


@dataclass(frozen=True, slots=True)
class IncidentUpdated:
    """`incident.updated`: a step of the incident's timeline (시간대별 경과: 피해상황 및 대응조치), an
    intermediate report (중간보고, `report`), or corrected facts — a new grade after 지역/서비스 중요도
    보정."""

    KIND: ClassVar[RecordKind] = RecordKind.INCIDENT_UPDATED
    incident: str  # the incident's ID
    note: str = ""
    report: bool = False  # an intermediate report (중간보고) was given to the report line
    grade: int | None = None
    region: str = ""
    service_priority: int | None = None
    symptom: str = ""
    scope: str = ""
    service_impact: str = ""
    handler: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> IncidentUpdated:
        return cls(
            _text(data, "incident"),
            _text(data, "note", ""),
            _flag(data, "report"),
            _grade(data, "grade"),
            _choice(data, "region", REGIONS),
            _priority(data),
            *(_text(data, name, "") for name in ("symptom", "scope", "service_impact", "handler")),
        )

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any] = {"incident": self.incident, "note": self.note, "report": self.report}
        optional = (
            ("grade", self.grade),
            ("region", self.region),
            ("service_priority", self.service_priority),
            ("symptom", self.symptom),
            ("scope", self.scope),
            ("service_impact", self.service_impact),
            ("handler", self.handler),
        )
        body.update({name: value for name, value in optional if value})
        return body


@dataclass(frozen=True, slots=True)
class IncidentClosed:
    """`incident.closed`: service restored and confirmed (장애 종료일시, seed 002 불임1), with the report's
    cause type, cause, handling (처리 내역) and corrective and preventive actions (시정·예방 조치)."""

    KIND: ClassVar[RecordKind] = RecordKind.INCIDENT_CLOSED
    incident: str
    resolved_at: datetime
    grade: int | None = None  # the final grade, lowered by time where the SOP allows
    cause_type: str = ""
    cause: str = ""
    action: str = ""
    follow_up: str = ""
    note: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> IncidentClosed:
        resolved = _moment(data.get("resolved_at"), "resolved_at")
        if resolved is None:
            raise PayloadError(msg("lacks `resolved_at`"))
        return cls(
            _text(data, "incident"),
            resolved,
            _grade(data, "grade"),
            _choice(data, "cause_type", CAUSE_TYPES),
            *(_text(data, name, "") for name in ("cause", "action", "follow_up", "note")),
        )

    def dump(self) -> dict[str, Any]:
        return {
            "incident": self.incident,
            "resolved_at": self.resolved_at.isoformat(),
            "grade": self.grade,
            "cause_type": self.cause_type,
            "cause": self.cause,
            "action": self.action,
            "follow_up": self.follow_up,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class ProblemOpened:
    """`problem.opened`: a problem (문제) registered for root-cause analysis — an incident whose cause is
    unknown, or a failed change rolled back without a known cause (seed 002 문제관리 자-1)."""

    KIND: ClassVar[RecordKind] = RecordKind.PROBLEM_OPENED
    title: str
    incident: str = ""  # the incident it comes from ("": a problem found otherwise)
    reason: str = ""
    note: str = ""

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ProblemOpened:
        return cls(
            _text(data, "title", ""),
            _text(data, "incident", ""),
            _text(data, "reason", ""),
            _text(data, "note", ""),
        )

    def dump(self) -> dict[str, Any]:
        return {"title": self.title, "incident": self.incident, "reason": self.reason, "note": self.note}


@dataclass(frozen=True, slots=True)
class Pir:
    """`pir`: the post-implementation review (이행 후 검토) of the record's RFCs."""

    KIND: ClassVar[RecordKind] = RecordKind.PIR
    result: str  # achieved | not-achieved
    note: str = ""
    digest: str = ""
    follow_up: str = ""  # the improvement a purpose not achieved leads to (seed 002 변경관리 4.3)
    # The signature of the CI job that wrote it, as stored (`adapters.oidc.Attestor.vouches` verifies it).
    attestation: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Pir:
        return cls(
            _enum(data, "result", PIR_RESULTS, "achieved"),
            _text(data, "note", ""),
            _text(data, "rfc_digest", ""),
            _text(data, "follow_up", ""),
            _signature(data),
        )

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any] = {"result": self.result, "note": self.note, "rfc_digest": self.digest}
        if self.follow_up:
            body["follow_up"] = self.follow_up
        if self.attestation is not None:
            body["attestation"] = dict(self.attestation)
        return body


def _signed_body(body: dict[str, Any], attestation: Mapping[str, Any] | None) -> dict[str, Any]:
    return {**body, "attestation": dict(attestation)} if attestation is not None else body


def _deployment_id(data: Mapping[str, Any]) -> str:
    value = _text(data, "deployment", "")
    if not value.strip():
        raise PayloadError(msg("lacks `deployment`: the deployment it is about"))
    return value.strip()


@dataclass(frozen=True, slots=True)
class ReleaseAccepted:
    """`release.accepted`: the requester's acceptance test of a deployment in production (seed 002 배포관리
    4.2 배포결과 검토, 테스트관리 4.4 인수테스트): the result accepted, or rejected (back to the change
    procedure)."""

    KIND: ClassVar[RecordKind] = RecordKind.RELEASE_ACCEPTED
    deployment: str
    result: str = "accepted"  # accepted | rejected
    note: str = ""
    attestation: Mapping[str, Any] | None = None  # the CI platform's signature, as stored

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ReleaseAccepted:
        return cls(
            _deployment_id(data),
            _enum(data, "result", ACCEPTANCE_RESULTS, "accepted"),
            _text(data, "note", ""),
            _signature(data),
        )

    def dump(self) -> dict[str, Any]:
        body = {"deployment": self.deployment, "result": self.result, "note": self.note}
        return _signed_body(body, self.attestation)


@dataclass(frozen=True, slots=True)
class ReleaseReviewed:
    """`release.reviewed`: the check that the change plan, the release plan and the deployment result agree
    (seed 002 배포관리 4.1 배포 결과 등록, REL-CONSISTENCY)."""

    KIND: ClassVar[RecordKind] = RecordKind.RELEASE_REVIEWED
    deployment: str
    consistent: bool = True
    note: str = ""
    attestation: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ReleaseReviewed:
        consistent = data.get("consistent", True)
        if not isinstance(consistent, bool):
            raise PayloadError(msg("`consistent` is not true or false"))
        return cls(_deployment_id(data), consistent, _text(data, "note", ""), _signature(data))

    def dump(self) -> dict[str, Any]:
        body = {"deployment": self.deployment, "consistent": self.consistent, "note": self.note}
        return _signed_body(body, self.attestation)


@dataclass(frozen=True, slots=True)
class ChangeClosed:
    """`change.closed`: the release and its change are closed (seed 002 배포관리 4.3 배포 종료, 변경관리 4.2
    변경 결과 검토: the agency officer checks the records and closes the change)."""

    KIND: ClassVar[RecordKind] = RecordKind.CHANGE_CLOSED
    deployment: str
    note: str = ""
    improvements: str = ""  # what the release taught for later ones (배포관리 4.3: 개선 사항)
    attestation: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> ChangeClosed:
        return cls(
            _deployment_id(data), _text(data, "note", ""), _text(data, "improvements", ""), _signature(data)
        )

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any] = {"deployment": self.deployment, "note": self.note}
        if self.improvements:
            body["improvements"] = self.improvements
        return _signed_body(body, self.attestation)


@dataclass(frozen=True, slots=True)
class Notice:
    """`notice`: the release was announced to linked agencies before deployment (REL-NOTICE)."""

    KIND: ClassVar[RecordKind] = RecordKind.NOTICE
    to: tuple[str, ...] = ()
    note: str = ""
    digest: str = ""
    # The signature of the CI job that wrote it, as stored (`adapters.oidc.Attestor.vouches` verifies it).
    attestation: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Notice:
        return cls(
            _texts(data, "to"), _text(data, "note", ""), _text(data, "rfc_digest", ""), _signature(data)
        )

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any] = {"to": list(self.to), "note": self.note, "rfc_digest": self.digest}
        if self.attestation is not None:
            body["attestation"] = dict(self.attestation)
        return body


@dataclass(frozen=True, slots=True)
class Delegation:
    """`delegation`: the record's actor (the delegator, a holder of the steps' roles) hands the approval
    `steps` to the deputy `to` from `start` until `end` — or, with `revokes`, withdraws the delegation
    record of that id. Whether it counts is for `rules.delegation`, never for the parser."""

    KIND: ClassVar[RecordKind] = RecordKind.DELEGATION
    to: str = ""
    steps: tuple[str, ...] = ()
    start: datetime | None = None
    end: datetime | None = None
    note: str = ""
    revokes: str = ""  # the id of the delegation record this one withdraws ("": a grant)
    # The signature of the CI job that wrote it, as stored (`adapters.oidc.Attestor.vouches` verifies it).
    attestation: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> Delegation:
        revokes = _text(data, "revokes", "")
        if revokes:
            return cls(note=_text(data, "note", ""), revokes=revokes, attestation=_signature(data))
        to = _text(data, "to", "").strip()
        if not to:
            raise PayloadError(msg("`to` names no deputy"))
        steps = _texts(data, "steps")
        if not steps or not all(s.strip() for s in steps):
            raise PayloadError(msg("`steps` names no approval step"))
        start, end = _moment(data.get("from"), "from"), _moment(data.get("until"), "until")
        if start is None or end is None or end <= start:
            raise PayloadError(
                msg("`from` and `until` are not a period (two times with an offset, in order)")
            )
        return cls(to, steps, start, end, _text(data, "note", ""), "", _signature(data))

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any]
        if self.revokes:
            body = {"revokes": self.revokes, "note": self.note}
        else:
            body = {
                "to": self.to,
                "steps": list(self.steps),
                "from": _iso(self.start),
                "until": _iso(self.end),
                "note": self.note,
            }
        if self.attestation is not None:
            body["attestation"] = dict(self.attestation)
        return body


@dataclass(frozen=True, slots=True)
class BaselineItem:
    id: str
    kind: str
    files: Mapping[str, str]  # path -> git blob id, or `sha256:<hex>` for a file read from disk
    digest: str = ""

    def dump(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "digest": self.digest,
            "files": dict(sorted(self.files.items())),
        }


@dataclass(frozen=True, slots=True)
class BaselineCreated:
    """`baseline.created`: the configuration items at one commit, and the deployed artefacts (CFG-P1)."""

    KIND: ClassVar[RecordKind] = RecordKind.BASELINE_CREATED
    label: str
    commit: str
    tree: str = ""
    items: tuple[BaselineItem, ...] = ()
    artifacts: Mapping[str, str] = field(default_factory=dict)
    # The signature of the CI job that wrote it, as stored (`adapters.oidc.Attestor.vouches` verifies it).
    attestation: Mapping[str, Any] | None = None

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> BaselineCreated:
        raw_items = data.get("items", [])
        if not isinstance(raw_items, list):
            raise PayloadError(msg("`items` is not a list"))
        items = []
        for raw in raw_items:
            if not isinstance(raw, dict) or not isinstance(raw.get("files"), dict):
                raise PayloadError(msg("an item of `items` has no `files` map"))
            files = raw["files"]
            if not all(isinstance(v, str) for v in files.values()):
                raise PayloadError(msg("an item's `files` is not a map of digests"))
            items.append(
                BaselineItem(
                    _text(raw, "id", ""), _text(raw, "kind", ""), dict(files), _text(raw, "digest", "")
                )
            )
        artifacts = _object(data, "artifacts")
        if not all(isinstance(v, str) for v in artifacts.values()):
            raise PayloadError(msg("`artifacts` is not a map of digests"))
        return cls(
            _text(data, "label", ""),
            _text(data, "commit", ""),
            _text(data, "tree", ""),
            tuple(items),
            {str(k): v for k, v in artifacts.items()},
            _signature(data),
        )

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "label": self.label,
            "commit": self.commit,
            "tree": self.tree,
            "items": [item.dump() for item in self.items],
            "artifacts": dict(sorted(self.artifacts.items())),
        }
        if self.attestation is not None:
            body["attestation"] = dict(self.attestation)
        return body


@dataclass(frozen=True, slots=True)
class AuditRun:
    """`audit.run`: an audit was run; enough to trend audits without re-running them (CFG-KPI)."""

    KIND: ClassVar[RecordKind] = RecordKind.AUDIT_RUN
    ok: bool
    since: str | None = None
    until: str | None = None
    summary: Mapping[str, int] = field(default_factory=dict)
    nonconform: tuple[str, ...] = ()
    items_checked: int = 0
    items_intact: int = 0
    head: Mapping[str, Any] = field(default_factory=dict)  # the ledger head the audit read up to
    items_changed: int = 0  # configuration items changed since the baseline (CFG-KPI, seed 002:1024)
    items_errors: int = 0  # of those, items with a change no RFC explains: errors the audit detected

    @classmethod
    def parse(cls, data: Mapping[str, Any]) -> AuditRun:
        ok = data.get("ok", False)
        configuration = _object(data, "configuration")
        checked = _count(configuration.get("items"), "configuration.items")
        intact = _count(configuration.get("intact"), "configuration.intact")
        changed = min(_count(configuration.get("changed"), "configuration.changed"), checked)
        errors = _count(configuration.get("errors"), "configuration.errors")
        summary = _object(data, "summary")
        return cls(
            ok is True,
            _optional_text(data, "since"),
            _optional_text(data, "until"),
            {str(k): _count(v, f"summary.{k}") for k, v in summary.items()},
            _texts(data, "nonconform"),
            checked,
            min(intact, checked),
            dict(_object(data, "head")),
            changed,
            min(errors, changed),
        )

    def dump(self) -> dict[str, Any]:
        body: dict[str, Any] = {
            "ok": self.ok,
            "since": self.since,
            "until": self.until,
            "summary": dict(self.summary),
            "nonconform": list(self.nonconform),
            "configuration": {"items": self.items_checked, "intact": self.items_intact},
        }
        if self.items_changed:
            body["configuration"].update(changed=self.items_changed, errors=self.items_errors)
        if self.head:
            body["head"] = dict(self.head)
        return body


@dataclass(frozen=True, slots=True)
class Other:
    """A kind this version does not know (written by a newer one): kept, never interpreted."""

    data: Mapping[str, Any]

    def dump(self) -> dict[str, Any]:
        return dict(self.data)


PAYLOADS: dict[str, Any] = {
    cls.KIND.value: cls
    for cls in (
        Approval,
        TestEvidence,
        DeploymentStarted,
        DeploymentFinished,
        IncidentOpened,
        IncidentUpdated,
        IncidentClosed,
        ProblemOpened,
        Pir,
        Notice,
        BaselineCreated,
        AuditRun,
        ReleaseAccepted,
        ReleaseReviewed,
        ChangeClosed,
        Delegation,
    )
}

P = TypeVar("P")


@dataclass(frozen=True, slots=True)
class Entry(Generic[P]):
    """A ledger record with its payload read: the envelope's members and the typed `data`."""

    seq: int
    id: str
    kind: str
    system: str
    rfcs: tuple[str, ...]
    actor: str
    actor_source: str
    moment: datetime
    payload: P

    @property
    def ref(self) -> str:
        return f"seq:{self.seq}"


def parse_payload(kind: str, data: Mapping[str, Any]) -> Any:
    """The typed payload of a record of `kind` (raises PayloadError)."""
    model = PAYLOADS.get(kind)
    if model is None:
        return Other(data)
    if not isinstance(data, Mapping):
        raise PayloadError(msg("`data` is not an object"))
    return model.parse(data)


def _started_summary(data: Mapping[str, Any]) -> DeploymentStarted:
    return DeploymentStarted(
        _text(data, "environment", ""),
        _member(data, "change_type", _CHANGE_TYPES, ChangeType.NORMAL),
        _text(data, "commit", ""),
    )


def _finished_summary(data: Mapping[str, Any]) -> DeploymentFinished:
    started = data.get("started") or data.get("deployment_id")
    if not isinstance(started, str) or not started:
        raise PayloadError(msg("does not name the deployment it closes (`started`)"))
    return DeploymentFinished(
        started,
        _member(data, "result", _RESULTS),
        commit=_text(data, "commit", ""),
        commit_at=_moment(data.get("commit_at"), "commit_at"),
    )


def _evidence_summary(data: Mapping[str, Any]) -> TestEvidence:
    kind, commit = _tested(data)
    return TestEvidence(kind, commit, Counts.parse(data))


def _tested(data: Mapping[str, Any]) -> tuple[EvidenceKind, str]:
    """A test record's kind and the commit it names (lowercase), as every reader of one takes them."""
    raw_kind = data.get("kind")
    kind = _EVIDENCE_KINDS.get(raw_kind) if isinstance(raw_kind, str) else None
    if kind is None:
        raise PayloadError(msg("`kind` is not a test kind (unit, integration, performance, acceptance)"))
    commit = data.get("commit")
    if not isinstance(commit, str) or len(commit.strip()) < 7:
        raise PayloadError(msg("`commit` does not name the commit tested"))
    return kind, commit.strip().lower()


# Summaries of the kinds most frequent in a ledger after approvals, for readers that count them (the KPIs):
# the payload read from the members named here alone, every other member left at its default — a record
# whose other members do not read still counts there (the audit reports it). Both readers of a ledger use
# these same functions: of a whole record (`read(record, summary=True)`) and of what a SQL backend hands
# over (`ledger.sql_read`, which extracts just these members: test evidence when it has `totals`).
SUMMARY_MEMBERS: dict[str, tuple[str, ...]] = {
    "deployment.started": ("environment", "change_type", "commit"),
    "deployment.finished": ("started", "deployment_id", "result", "commit", "commit_at"),
    "test.evidence": ("kind", "commit", "totals"),
}
# A SQL backend hands a record over by its members only when this member is an object (test evidence
# counted under `totals`, as `evidence add` and `deploy start` write it); else whole.
SUMMARY_OBJECT: dict[str, str] = {"test.evidence": "totals"}
_SUMMARIES: dict[str, Callable[[Mapping[str, Any]], Any]] = {
    "deployment.started": _started_summary,
    "deployment.finished": _finished_summary,
    "test.evidence": _evidence_summary,
}


def parse_summary(kind: str, data: Mapping[str, Any]) -> Any:
    """The payload as a summary reader reads it (`SUMMARY_MEMBERS`); other kinds whole (raises
    PayloadError)."""
    summary = _SUMMARIES.get(kind)
    if summary is None or not isinstance(data, Mapping):
        return parse_payload(kind, data)
    return summary(data)


def read(record: Envelope, *, summary: bool = False) -> Entry[Any]:
    """A stored record as an `Entry`; raises PayloadError naming the record when its payload is malformed.
    `summary`: the most frequent kinds as `parse_summary` reads them."""
    try:
        payload = (parse_summary if summary else parse_payload)(record.kind, record.data)
    except PayloadError as exc:
        raise PayloadError(
            msg("{kind} record {seq}: {exc}", kind=record.kind, seq=record.seq, exc=exc.message)
        ) from None
    try:
        moment = datetime.fromisoformat(record.at)
    except ValueError as exc:
        raise PayloadError(
            msg("{kind} record {seq}: {time_error}", kind=record.kind, seq=record.seq, time_error=exc)
        ) from None
    return Entry(
        record.seq,
        record.id,
        record.kind,
        record.system,
        tuple(record.rfcs),
        record.actor,
        record.actor_source,
        moment,
        payload,
    )


def entry_of(record: Envelope) -> Entry[Any]:
    """`read`, for a reader that cannot go on without the record: a malformed payload is an integrity
    error of the ledger (exit 1; `gate.error` in the gate), never a traceback."""
    from gatekeeper.errors import LedgerIntegrityError

    try:
        return read(record)
    except PayloadError as exc:
        raise LedgerIntegrityError(
            msg("the ledger holds a malformed record: {exc}", exc=exc.message),
            hint=msg(
                "a record the pipeline wrote is never malformed: find out who wrote this one "
                "(`gatekeeper ledger verify` checks the chain)"
            ),
        ) from None


def draft_data(payload: Payload) -> tuple[str, dict[str, Any]]:
    """(kind, data) of a record to write."""
    return payload.KIND.value, payload.dump()
