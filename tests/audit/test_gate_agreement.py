"""One record of every decision: the gate's decision at a deployment's start and the audit's verdict on
that deployment agree — allowed ⇔ conform on every checklist item the gate's rules answer.

Two ways in:
- every acceptance case of tests/cases (the gate's real `gather` on a real git repository and SQLite
  ledger): the deployment is recorded as `deploy start` records it — whatever the gate decided, as a
  developer who bypassed the gate would — and the audit judges it from the ledger alone;
- generated histories (hypothesis): approvals, evidence, deployments, PIRs and notices at random times on
  a SQLite ledger; at each generated deployment the gate's own reading of the ledger (indexed look-ups,
  horizons, `--at` cut-off: `facts.gather.ledger_history`) is compared with the audit's single pass.
"""

from __future__ import annotations

import json
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gatekeeper.adapters.oidc import Attestor
from gatekeeper.adapters.rfcstore import FileRfcStore
from gatekeeper.checks.audit import NONCONFORM, PER_RFC, AuditBuilder, AuditResult, checklist
from gatekeeper.checks.gate import evaluate
from gatekeeper.commands import Context
from gatekeeper.commands._gate import sources_for
from gatekeeper.config import load_config, load_policy
from gatekeeper.config.models import Rfc
from gatekeeper.domain import ChangeType, Grade, Outcome, Role, Severity
from gatekeeper.domain.calendar import BusinessCalendar
from gatekeeper.domain.catalogue import RULES
from gatekeeper.domain.records import DecisionFacts, DeploymentStarted
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.facts.gather import (
    GateFacts,
    GateRequest,
    gather,
    ledger_history,
    started_payload,
    workspace_evidence,
)
from gatekeeper.ledger import Draft
from gatekeeper.ledger.backends import open_ledger
from gatekeeper.ledger.sqlite import SqliteLedger
from gatekeeper.resources import policies_dir
from gatekeeper.rules.window import window_facts
from gatekeeper.runtime import Runtime
from tests.acceptance import CASE_FILES, RFC, RFC_ID, build, case_id
from tests.helpers import GitRepo
from tests.platform.oidc import sign

SYSTEM = "minwon-portal"


def _blocked_items(outcome: Outcome) -> set[str]:
    """The checklist items the gate's error findings answer (findings of rules with no item — gate.error
    for a fact that could not be gathered — have no counterpart in a record of the ledger)."""
    return {
        RULES[f.rule].item for f in outcome.findings if f.severity is Severity.ERROR and RULES[f.rule].item
    }


GATE_ITEMS = {info.item for info in RULES.values() if info.item}


def _nonconform_for(result: AuditResult, seq: int, rfcs: tuple[str, ...]) -> set[str]:
    """The items answered by the gate's rules that the audit found nonconform for the deployment recorded
    at `seq` (items the gate does not answer — was the result recorded — are the audit's own)."""
    refs = {f"seq:{seq}"}
    out = set()
    for item in result.items:
        if item.result != NONCONFORM or item.id not in GATE_ITEMS:
            continue
        mine = refs | ({f"rfc:{r}" for r in rfcs} if item.id in PER_RFC else set())
        if mine & set(item.evidence):
            out.add(item.id)
    return out


def _record_as_deploy_start(repo: GitRepo, facts: GateFacts, outcome: Outcome, ctx: Context) -> int:
    """Append what `deploy start` appends for an allowed deployment — here whatever the gate decided."""
    ledger = open_ledger(ctx.config, repo.path, {})
    try:
        recorded = []
        for payload in workspace_evidence(facts):
            draft = Draft(
                str(payload.KIND), SYSTEM, "ci", "github-actions", facts.at, payload.dump(), outcome.rfcs
            )
            recorded.append(ledger.append(draft).seq)
        started = started_payload(facts, outcome, recorded, ctx.config, ctx.policy)
        draft = Draft(
            str(started.KIND), SYSTEM, "ci", "github-actions", facts.at, started.dump(), outcome.rfcs
        )
        return ledger.append(sign(draft)).seq  # signed by the deploying job, as `deploy start` signs it
    finally:
        ledger.close()


GATE_CASES = [p for p in CASE_FILES if not p.parent.parent.name.startswith("commit.")]


@pytest.mark.parametrize("case_file", GATE_CASES, ids=case_id)
def test_every_acceptance_case_the_gate_and_the_audit_agree(case_file: Path, repo: GitRepo) -> None:
    case = yaml.safe_load(case_file.read_text(encoding="utf-8"))
    at, _ = build(repo, case)
    runtime = Runtime(env={"PATH": "/usr/bin:/bin", "HOME": str(repo.path)}, cwd=repo.path, clock=lambda: at)
    ctx = Context(runtime)
    assert not case.get("args"), "cases pass no extra gate arguments"
    request = GateRequest(environment=str(case.get("env", "production")), rfc_ids=(RFC_ID,))
    facts_ = gather(ctx.config, ctx.policy, request, sources_for(ctx), at)
    outcome = evaluate(facts_)
    seq = _record_as_deploy_start(repo, facts_, outcome, ctx)

    entries = {e.id: e for e in FileRfcStore(repo.path, ctx.config).entries()}
    calendar = BusinessCalendar.from_config(ctx.config, ctx.policy)
    ledger = open_ledger(ctx.config, repo.path, {})
    attest = Attestor(ctx.config, repo.path, runtime.env, at, ledger=ledger)
    builder = AuditBuilder(
        ctx.policy,
        Grade(ctx.config.system.grade),
        at,
        entries,
        calendar=calendar,
        system=SYSTEM,
        attest=attest,
        environments=ctx.config.declared_environments(),
    )
    try:
        builder.feed(ledger.records())
    finally:
        ledger.close()
    result = checklist(builder, system=SYSTEM)
    assert _nonconform_for(result, seq, outcome.rfcs) == _blocked_items(outcome), [
        (f.rule, f.severity, f.message) for f in outcome.findings
    ]


# ------------------------------------------------------------------------------------------ generated

POLICY = load_policy("kr-ap-sop", relative_to=policies_dir())
CALENDAR = BusinessCalendar(policy=POLICY)
START = datetime(2026, 3, 2, 11, 0, tzinfo=UTC)  # a Monday, 20:00 KST
RFCS = ("RFC-2026-0001", "RFC-2026-0002", "RFC-2026-0003")
PEOPLE = ("kim", "park", "choi", "han", "lee", "dev")
MEMBERS = {
    Role.AGENCY_MANAGER: frozenset({"park"}),
    Role.AGENCY_OFFICER: frozenset({"kim", "lee"}),
    Role.OPERATOR_MANAGER: frozenset({"han"}),
    Role.CAB: frozenset({"kim", "park", "choi"}),
}
STEPS = ("change-review", "cab", "change-approval", "release-first", "release-second")
COMMITS = ("a" * 40, "b" * 40)


def _rfc(rfc_id: str, change_type: str) -> RfcEntry:
    body = {**RFC, "id": rfc_id, "type": change_type}
    if change_type == "emergency":
        body["incident"] = "INC-2026-0001"
    if change_type == "standard":
        body["standard_template"] = "STD-DB-INDEX"
    return RfcEntry(rfc_id, f"changes/{rfc_id}.yml", Rfc.model_validate(body, strict=False))


events = st.one_of(
    # Whole approval chains and passing reports are common, so that deployments are often allowed and the
    # debts they leave (PIRs, after-the-fact reviews, open deployments) come into play.
    st.tuples(st.just("chain"), st.sampled_from(RFCS)),
    st.tuples(st.just("cycle"), st.sampled_from(RFCS), st.sampled_from(COMMITS), st.booleans()),
    st.tuples(st.just("tested"), st.sampled_from(COMMITS)),
    st.tuples(
        st.just("approval"),
        st.sampled_from(RFCS),
        st.sampled_from(STEPS),
        st.sampled_from(PEOPLE),
        st.sampled_from(("approve", "approve", "approve", "reject")),
        st.sampled_from(("github-actions", "github-actions", "local")),
    ),
    st.tuples(
        st.just("evidence"),
        st.sampled_from(("unit", "integration")),
        st.sampled_from(COMMITS),
        st.integers(0, 3),  # failed
    ),
    st.tuples(st.just("deploy"), st.sampled_from(RFCS), st.sampled_from(COMMITS)),
    st.tuples(st.just("finish"), st.sampled_from(("success", "success", "failure", "aborted"))),
    st.tuples(st.just("pir"), st.sampled_from(RFCS)),
    st.tuples(st.just("notice"), st.sampled_from(RFCS)),
)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large]
)
@given(
    types=st.tuples(*(st.sampled_from(("normal", "normal", "standard", "emergency")) for _ in RFCS)),
    # Minutes between events: mostly hours, sometimes past the gate's horizons (90 days, a year).
    steps=st.lists(
        st.tuples(
            events,
            st.one_of(
                st.integers(1, 60 * 30),
                st.integers(60 * 24, 60 * 24 * 30),
                st.integers(60 * 24 * 80, 60 * 24 * 400),
            ),
        ),
        min_size=1,
        max_size=40,
    ),
)
def test_generated_histories_the_gate_and_the_audit_agree(
    types: tuple[str, ...], steps: list[tuple[tuple[Any, ...], int]]
) -> None:
    entries = {rfc: _rfc(rfc, kind) for rfc, kind in zip(RFCS, types, strict=True)}
    with tempfile.TemporaryDirectory() as folder:
        ledger = SqliteLedger(Path(folder) / "ledger.db")
        config = load_config_for(Path(folder))
        moment = START
        open_deployment: str | None = None
        decisions: dict[int, tuple[tuple[str, ...], set[str]]] = {}
        try:
            for event, minutes in _expanded(steps):
                moment += timedelta(minutes=minutes)
                kind = event[0]
                if kind == "chain":
                    for step, who in zip(STEPS, ("kim", "choi", "park", "han", "lee"), strict=True):
                        data = {"step": step, "decision": "approve", "rfc_digest": entries[event[1]].digest}
                        ledger.append(
                            Draft("approval", SYSTEM, who, "github-actions", moment, data, (event[1],))
                        )
                elif kind == "tested":
                    for test_kind in ("unit", "integration"):
                        totals = {"tests": 5, "passed": 5, "failed": 0, "errors": 0, "skipped": 0}
                        data = {"kind": test_kind, "commit": event[1], "files": [], "totals": totals}
                        ledger.append(Draft("test.evidence", SYSTEM, "ci", "github-actions", moment, data))
                elif kind == "approval":
                    _, rfc, step, who, decision, source = event
                    data = {"step": step, "decision": decision, "rfc_digest": entries[rfc].digest}
                    ledger.append(Draft("approval", SYSTEM, who, source, moment, data, (rfc,)))
                elif kind == "evidence":
                    _, test_kind, commit, failed = event
                    totals = {"tests": 10, "passed": 10 - failed, "failed": failed, "errors": 0, "skipped": 0}
                    data = {"kind": test_kind, "commit": commit, "files": [], "totals": totals}
                    ledger.append(Draft("test.evidence", SYSTEM, "ci", "github-actions", moment, data))
                elif kind == "deploy":
                    _, rfc, commit = event
                    entry = entries[rfc]
                    facts_ = _gate_facts(ledger, config, entry, commit, moment)
                    outcome = evaluate(facts_)
                    started = started_payload(facts_, outcome, [], config, POLICY)
                    draft = Draft(
                        "deployment.started", SYSTEM, "ci", "github-actions", moment, started.dump(), (rfc,)
                    )
                    record = ledger.append(draft)
                    open_deployment = record.id
                    decisions[record.seq] = ((rfc,), _blocked_items(outcome))
                elif kind == "finish" and open_deployment is not None:
                    data = {"started": open_deployment, "result": event[1], "environment": "production"}
                    ledger.append(Draft("deployment.finished", SYSTEM, "ci", "github-actions", moment, data))
                    open_deployment = None
                elif kind in ("pir", "notice"):
                    data = {"result": "achieved"} if kind == "pir" else {"to": ["agency"]}
                    ledger.append(Draft(kind, SYSTEM, "kim", "github-actions", moment, data, (event[1],)))
            builder = AuditBuilder(POLICY, Grade(1), moment, entries, calendar=CALENDAR, system=SYSTEM)
            result = checklist(builder.feed(ledger.records()), system=SYSTEM)
        finally:
            ledger.close()
    for seq, (rfcs, blocked) in decisions.items():
        assert _nonconform_for(result, seq, rfcs) == blocked, (seq, blocked)


def _expanded(steps: list[tuple[tuple[Any, ...], int]]) -> list[tuple[tuple[Any, ...], int]]:
    """A `cycle` is a whole deployment: approved, tested, deployed, finished and maybe reviewed."""
    out: list[tuple[tuple[Any, ...], int]] = []
    for event, minutes in steps:
        if event[0] != "cycle":
            out.append((event, minutes))
            continue
        _, rfc, commit, reviewed = event
        out += [(("chain", rfc), minutes), (("tested", commit), 1), (("deploy", rfc, commit), 1)]
        out += [(("finish", "success"), 10)] + ([(("pir", rfc), 60)] if reviewed else [])
    return out


def load_config_for(folder: Path) -> Any:
    (folder / ".gatekeeper.yml").write_text(
        yaml.safe_dump(
            {
                "version": 1,
                "system": {"id": SYSTEM, "name": "민원포털", "grade": 1, "audience": "internal"},
                "policy": "kr-ap-sop",
                "roles": {str(role): sorted(logins) for role, logins in MEMBERS.items()},
                "ledger": {"backend": "sqlite", "path": "ledger.db"},
            },
            allow_unicode=True,
        ),
        encoding="utf-8",
    )
    return load_config(folder / ".gatekeeper.yml")


def _gate_facts(ledger: SqliteLedger, config: Any, entry: RfcEntry, commit: str, at: datetime) -> GateFacts:
    """The gate's facts at `at` as `gather` reads them from the ledger (without git or a workspace: the
    deployment's commit is given, its authors are nobody here)."""
    assert entry.rfc is not None
    change_type = ChangeType(entry.rfc.type)
    history = ledger_history(ledger, config, POLICY, at, (entry,))
    read = history.facts_at(at, environment="production", rfcs=(entry,), head=commit, members=MEMBERS)
    return GateFacts(
        system=SYSTEM,
        grade=Grade(1),
        policy=POLICY,
        at=at,
        environment="production",
        change_type=change_type,
        head=commit,
        rfcs=(entry,),
        window=window_facts(CALENDAR, at, change_type, Grade(1)),
        approvals=read.approvals,
        evidence=read.evidence,
        deploy=read.deploy,
        members=MEMBERS,
    )


def test_a_deployment_recorded_before_the_facts_were_kept_is_judged_from_the_ledger_alone() -> None:
    """A `deployment.started` of an earlier version (no `facts`): the rules that need what only the gate
    knew are not applied, and the checklist says so."""
    entry = _rfc(RFCS[0], "normal")
    records = []
    moment = START
    for step, who in zip(STEPS, ("kim", "choi", "park", "han", "lee"), strict=True):
        moment += timedelta(minutes=5)
        data = {"step": step, "decision": "approve", "digest": "sha256:old"}  # no longer the RFC's digest
        records.append(Draft("approval", SYSTEM, who, "github-actions", moment, data, (entry.id,)))
    for test_kind in ("unit", "integration"):
        totals = {"tests": 3, "passed": 3, "failed": 0, "errors": 0, "skipped": 0}
        data = {"kind": test_kind, "commit": COMMITS[0], "totals": totals}
        records.append(Draft("test.evidence", SYSTEM, "ci", "github-actions", moment, data))
    legacy = {"change_type": "normal", "commit": COMMITS[0], "environment": "production", "warnings": []}
    records.append(Draft("deployment.started", SYSTEM, "ci", "github-actions", moment, legacy, (entry.id,)))
    ledger_records = []
    previous = None
    for draft in records:
        previous = draft.place_after(previous)
        ledger_records.append(previous)
    builder = AuditBuilder(POLICY, Grade(1), moment, {entry.id: entry}, calendar=CALENDAR, system=SYSTEM)
    result = {i.id: i for i in checklist(builder.feed(ledger_records), system=SYSTEM).items}
    approvals = result["change.approvals"]
    # The digest, the approvers' roles and the change's authors were not recorded: not judged, and said so.
    assert approvals.result == "conform", approvals.notes
    assert any("judged from the ledger alone" in remark for remark in approvals.remarks)
    assert result["release.tested"].result == "conform"
    assert DeploymentStarted.parse(legacy).facts is None
    assert json.dumps(DecisionFacts.parse(started_payload_like()).dump())  # the new shape reads back


def started_payload_like() -> dict[str, Any]:
    return {
        "at": START.isoformat(),
        "rfcs": {RFCS[0]: "sha256:x"},
        "approvals": [
            {
                "rfc": RFCS[0],
                "step": "cab",
                "decision": "approve",
                "actor": "kim",
                "actor_source": "gitlab-ci",
            }
        ],
        "members": {"cab": ["kim"]},
        "findings": [{"rule": "cab.missing", "severity": "warning"}],
    }
