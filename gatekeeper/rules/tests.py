"""Test-evidence rules (REL-P1, REL-P3, TST-KPI, TST-PERF): the tests ran, passed, and ran on this commit.

Evidence comes from report files in the workspace (the configured `evidence` paths: produced by this job,
so they belong to the commit checked out) or from `test.evidence` ledger records, which name the commit
they were produced for. Only evidence for the commit being deployed counts.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from functools import cached_property

from gatekeeper.config.models import EvidenceRequirement
from gatekeeper.domain import EvidenceKind, Finding
from gatekeeper.domain.records import Counts
from gatekeeper.messages import tr
from gatekeeper.rules import RuleContext


@dataclass(frozen=True, slots=True)
class Evidence:
    """One test report's counts, where it came from and which commit it was produced for."""

    kind: EvidenceKind
    source: str  # a workspace path or `ledger record N`
    commit: str
    tests: int
    passed: int
    failed: int
    errors: int
    skipped: int
    digest: str = ""
    seq: int = 0  # the `test.evidence` record it was read from; 0 for a report in the workspace
    # Whether the record's signature shows a CI job of this repository ran on `commit` and wrote it
    # (`adapters.oidc.Attestor.vouches`); None for a report in the workspace, or where nothing checked.
    signed: bool | None = None

    @property
    def counts(self) -> Counts:
        return Counts(self.tests, self.passed, self.failed, self.errors, self.skipped)

    @property
    def executed(self) -> int:
        """The tests that ran to a verdict, as `Counts.executed` defines it for every reader."""
        return self.counts.executed


@dataclass(frozen=True, slots=True)
class RefusedReport:
    """A report found in the workspace that this job did not produce, so it is no evidence (REL-P1)."""

    kind: EvidenceKind
    source: str  # its path in the workspace, or `ledger record N`
    # "tracked" (git tracks it: committed, not produced), "older" (older than the checkout), or "unsigned"
    # (a ledger record no CI job on the commit signed, where the pack requires it: `tests.attestation`)
    why: str


@dataclass(frozen=True)
class EvidenceFacts:
    head: str  # the commit being deployed
    items: tuple[Evidence, ...]
    performance_rfcs: tuple[str, ...] = ()  # RFCs declaring a performance impact
    refused: tuple[RefusedReport, ...] = ()  # workspace reports that are no evidence of this job

    @cached_property
    def _own(self) -> tuple[list[Evidence], list[Evidence]]:
        """(for the head, for other commits), each in the order given."""
        own: list[Evidence] = []
        other: list[Evidence] = []
        for item in self.items:
            (own if same_commit(item.commit, self.head) else other).append(item)
        return own, other

    def for_head(self, kind: EvidenceKind | None = None) -> list[Evidence]:
        return [e for e in self._own[0] if kind is None or e.kind is kind]

    def elsewhere(self, kind: EvidenceKind) -> list[Evidence]:
        return [e for e in self._own[1] if e.kind is kind]

    def refused_of(self, kind: EvidenceKind) -> list[RefusedReport]:
        return [r for r in self.refused if r.kind is kind]


def same_commit(a: str, b: str) -> bool:
    """Full or abbreviated (at least 7 hex digits) object names of one commit."""
    a, b = a.strip().lower(), b.strip().lower()
    if len(a) < 7 or len(b) < 7:
        return False
    return a.startswith(b) or b.startswith(a)


def signature_counts(signed: bool | None, ctx: RuleContext) -> bool:
    """Whether ledger evidence whose signature check gave `signed` may count: not where the pack requires
    signed evidence (`tests.attestation`) and its signature did not show a CI job on its commit wrote it."""
    return signed is not False or ctx.policy.tests.attestation_level(ctx.grade, ctx.change_type) != "required"


def admitted(facts: EvidenceFacts, ctx: RuleContext) -> EvidenceFacts:
    """The evidence that counts (`signature_counts`): a ledger record no CI job on its commit is shown to
    have written is no evidence where the pack requires signed evidence — anyone who can append to the
    ledger could have written it — and is refused as such."""
    unsigned = [e for e in facts.items if not signature_counts(e.signed, ctx)]
    if not unsigned:
        return facts
    refused = tuple(
        RefusedReport(e.kind, e.source, "unsigned") for e in unsigned if same_commit(e.commit, facts.head)
    )
    return replace(
        facts,
        items=tuple(e for e in facts.items if signature_counts(e.signed, ctx)),
        refused=facts.refused + refused,
    )


def counted_seqs(facts: EvidenceFacts, ctx: RuleContext) -> list[int]:
    """The seqs of the ledger records that count as evidence for the head (what `deploy start` records as
    counted, and what a release step's approval certifies)."""
    return [e.seq for e in admitted(facts, ctx).for_head() if e.seq]


def required_kinds(ctx: RuleContext) -> dict[EvidenceKind, EvidenceRequirement]:
    def compute() -> dict[EvidenceKind, EvidenceRequirement]:
        chosen: dict[EvidenceKind, EvidenceRequirement] = {}
        for requirement in ctx.policy.tests.required:
            if requirement.matches(ctx.grade, ctx.change_type):
                for kind in requirement.kinds:
                    chosen.setdefault(kind, requirement)
        return chosen

    return ctx.policy.remembered(("required_kinds", ctx.grade, ctx.change_type), compute)


def _hint(ctx: RuleContext, kind: EvidenceKind) -> str:
    return tr(
        ctx.lang,
        "run the {kind} tests on this commit and keep their report under a configured "
        "`evidence` path, or record it with `gatekeeper evidence add --kind {kind} "
        "REPORT.xml`",
        kind=kind,
    )


def missing(facts: EvidenceFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    facts = admitted(facts, ctx)
    for kind, requirement in required_kinds(ctx).items():
        if (
            any(e.executed > 0 for e in facts.for_head(kind))
            or facts.elsewhere(kind)
            or facts.refused_of(kind)
        ):
            continue  # present, or present for another commit or not produced by this job (`tests.stale`)
        empty = facts.for_head(kind)
        detail = tr(ctx.lang, " ({source} ran no tests)", source=empty[0].source) if empty else ""
        yield ctx.finding(
            "tests.missing",
            subject=str(kind),
            severity=requirement.severity,
            message=tr(
                ctx.lang,
                "no {kind} test evidence for commit {head}{detail}",
                kind=kind,
                head=facts.head[:12],
                detail=detail,
            ),
            remediation=_hint(ctx, kind),
        )


def stale(facts: EvidenceFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    facts = admitted(facts, ctx)
    for kind in required_kinds(ctx):
        if any(e.executed > 0 for e in facts.for_head(kind)):
            continue
        other = facts.elsewhere(kind)
        refused = facts.refused_of(kind)
        if refused and not other:
            report = refused[0]
            why = {
                "tracked": tr(ctx.lang, "git tracks it: it was committed, not produced by this job"),
                "older": tr(ctx.lang, "it is older than this job's checkout"),
                "unsigned": tr(
                    ctx.lang,
                    "no CI job of this repository that ran on this commit signed it, so anyone who "
                    "can write to the ledger could have",
                ),
            }[report.why]
            yield ctx.finding(
                "tests.stale",
                subject=str(kind),
                message=tr(
                    ctx.lang,
                    "the {kind} report {source} is no evidence for commit {head}: {why}",
                    kind=kind,
                    source=report.source,
                    head=facts.head[:12],
                    why=why,
                ),
                remediation=_signing_hint(ctx, kind) if report.why == "unsigned" else _hint(ctx, kind),
            )
            continue
        if other:
            yield ctx.finding(
                "tests.stale",
                subject=str(kind),
                message=tr(
                    ctx.lang,
                    "the {kind} test evidence ({source}) is for commit {commit}, not for "
                    "{head} which is being deployed",
                    kind=kind,
                    source=other[-1].source,
                    commit=other[-1].commit[:12],
                    head=facts.head[:12],
                ),
                remediation=_hint(ctx, kind),
            )


def failed(facts: EvidenceFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    facts = admitted(facts, ctx)
    for item in facts.for_head():
        if item.failed or item.errors:
            yield ctx.finding(
                "tests.failed",
                subject=item.source,
                message=tr(
                    ctx.lang,
                    "{kind} tests in {source}: {failed} failed, {errors} errored of {tests}",
                    kind=item.kind,
                    source=item.source,
                    failed=item.failed,
                    errors=item.errors,
                    tests=item.tests,
                ),
                remediation=tr(
                    ctx.lang, "fix the failing tests (or the code) and run them again on this commit"
                ),
            )


def below_threshold(facts: EvidenceFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    facts = admitted(facts, ctx)
    threshold = ctx.policy.tests.min_success_rate
    kinds = sorted({e.kind for e in facts.for_head()}, key=str)
    for kind in kinds:
        items = facts.for_head(kind)
        executed = sum(e.executed for e in items)
        if executed == 0:
            continue
        rate = 100.0 * sum(e.passed for e in items) / executed
        if rate < threshold:
            yield ctx.finding(
                "tests.below-threshold",
                subject=str(kind),
                message=tr(
                    ctx.lang,
                    "{kind} test success rate {rate:.1f} % is below the required {threshold:g} %",
                    kind=kind,
                    rate=rate,
                    threshold=threshold,
                ),
                remediation=tr(
                    ctx.lang,
                    "fix or remove the failing and erroring tests until the success rate meets the "
                    "policy (TST-KPI)",
                ),
            )


def performance_missing(facts: EvidenceFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    facts = admitted(facts, ctx)
    if facts.performance_rfcs and not any(e.executed > 0 for e in facts.for_head(EvidenceKind.PERFORMANCE)):
        rfcs = ", ".join(facts.performance_rfcs)
        yield ctx.finding(
            "tests.performance-missing",
            subject=rfcs,
            message=tr(
                ctx.lang,
                "{rfcs} declares a performance impact but there is no performance test evidence "
                "for commit {head}",
                rfcs=rfcs,
                head=facts.head[:12],
            ),
            remediation=tr(
                ctx.lang,
                "run a stress test against the peak load of the busiest business period and "
                "record it as `performance` evidence (TST-PERF)",
            ),
        )


def unattested(facts: EvidenceFacts, ctx: RuleContext) -> Iterable[Finding | None]:
    """Where the pack recommends signed ledger evidence, counted evidence without a verified signature is
    worth a warning."""
    if ctx.policy.tests.attestation_level(ctx.grade, ctx.change_type) != "recommended":
        return
    for item in facts.for_head():
        if item.signed is False:
            yield ctx.finding(
                "tests.unattested",
                subject=item.source,
                message=tr(
                    ctx.lang,
                    "the {kind} test evidence in {source} counts, but no CI job of this repository "
                    "that ran on commit {head} signed it",
                    kind=item.kind,
                    source=item.source,
                    head=facts.head[:12],
                ),
                remediation=_signing_hint(ctx, item.kind),
            )


def _signing_hint(ctx: RuleContext, kind: EvidenceKind) -> str:
    return tr(
        ctx.lang,
        "record the {kind} report with `gatekeeper evidence add` in a CI job of this "
        "repository that ran on the commit and may request an OIDC token (GitHub: "
        "`permissions: id-token: write`; GitLab: `id_tokens:`), or let `deploy start` "
        "find the report in its own workspace",
        kind=kind,
    )


EvidenceRule = Callable[[EvidenceFacts, RuleContext], Iterable[Finding | None]]

TEST_RULES: dict[str, EvidenceRule] = {
    "tests.missing": missing,
    "tests.failed": failed,
    "tests.below-threshold": below_threshold,
    "tests.stale": stale,
    "tests.performance-missing": performance_missing,
    "tests.unattested": unattested,
}


def check_evidence(facts: EvidenceFacts, ctx: RuleContext) -> list[Finding]:
    return [f for rule in TEST_RULES.values() for f in rule(facts, ctx) if f is not None]
