"""`gatekeeper deploy start | finish`: a governed deployment, recorded in the ledger.

`start` runs the gate and, only when it allows, records what it decided on: the workspace's test reports as
`test.evidence` records, then `deployment.started` carrying the facts (`DecisionFacts`: the approvals and
evidence counted, the platform's approvals, who wrote the change, who held each role, the RFC digests, the
configuration and pack in force, every finding), appended under the lock precondition (of two pipelines
racing, exactly one stores its record). From then on the ledger alone explains the deployment, and the
audit re-runs the gate's rules over it. `finish` appends `deployment.finished`, which
releases the lock; a failure or rollback also opens an incident record with its grade per SOP INC.

Both records carry the CI platform's signature where the job can get an OIDC token (`_records.signed`).
Where the pack requires attestation, the lock reads them as the gate does
(`facts.history.History.deployment_counts`): a deployment whose start was signed is released only by a
signed result, so nobody releases another's deployment by writing its finish by hand.
"""

from __future__ import annotations

import argparse
import dataclasses
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from gatekeeper.checks.gate import evaluate
from gatekeeper.commands import Context
from gatekeeper.commands._gate import add_gate_arguments, request_from, sources_for
from gatekeeper.commands._notify import notify, notify_findings
from gatekeeper.commands._records import append
from gatekeeper.domain import DeploymentResult, Grade, Outcome, RecordKind
from gatekeeper.domain.notification import Event, incident_opened
from gatekeeper.domain.records import (
    DeploymentFinished,
    DeploymentStarted,
    Entry,
    IncidentOpened,
    TestEvidence,
    entry_of,
)
from gatekeeper.errors import ExitCode, GatekeeperError, InputError
from gatekeeper.facts.baseline import artifact_digests
from gatekeeper.facts.gather import DEFAULT_ENVIRONMENT, gather, started_payload, workspace_evidence
from gatekeeper.ledger import Draft, Ledger, LedgerReader, Precondition, Record
from gatekeeper.messages import Message, msg, tr
from gatekeeper.reporters.words import word

# `deploy start --at` may only restate the present: a deployment is recorded at the time it happens.
_AT_TOLERANCE = timedelta(minutes=5)
_INCIDENT_RESULTS = {DeploymentResult.FAILURE, DeploymentResult.ROLLED_BACK}


def configure(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="deploy_command", metavar="SUBCOMMAND", required=True)
    start = sub.add_parser("start", help="run the gate; on allow record deployment.started and take the lock")
    add_gate_arguments(start)
    finish = sub.add_parser("finish", help="record deployment.finished and release the lock")
    finish.add_argument("deployment_id", metavar="ID", help="the id `deploy start` printed")
    finish.add_argument("--result", required=True, choices=[r.value for r in DeploymentResult])
    finish.add_argument("--env", dest="environment", default=DEFAULT_ENVIRONMENT)
    finish.add_argument("--worker", default="", help="who carried out the deployment")
    finish.add_argument("--verifier", default="", help="who verified the result")
    finish.add_argument("--test-result", dest="test_result", default="", help="post-deployment test result")
    finish.add_argument("--errors", default="", help="errors seen during the deployment")
    finish.add_argument("--monitoring", default="", help="monitoring result after the deployment")
    finish.add_argument(
        "--artifact",
        dest="artifacts",
        action="append",
        default=[],
        metavar="[NAME=]FILE",
        help="a deployed artefact: its SHA-256 is recorded under NAME (default: the file name) and compared "
        "with the configuration baseline (repeatable)",
    )


def _open(ctx: Context) -> Ledger:
    from gatekeeper.ledger.backends import open_ledger

    return open_ledger(ctx.config, ctx.repo_root, ctx.runtime.env)


def _required(ctx: Context) -> bool:
    """Whether the pack requires deployment records signed by the CI job that deploys."""
    from gatekeeper.rules.deploy import deployment_attestation

    return deployment_attestation(ctx.policy, ctx.config.system.grade) == "required"


def _attestor(ctx: Context, ledger: LedgerReader) -> Callable[[Any], bool] | None:
    """The verifier of the deployment records' signatures for the lock, where the pack requires them."""
    from gatekeeper.adapters.oidc import Attestor

    if not _required(ctx):
        return None
    return Attestor(ctx.config, ctx.repo_root, ctx.runtime.env, ctx.runtime.now(), ledger=ledger)


def _warn_unsigned(ctx: Context, said: Message) -> None:
    """Where the pack requires the deploying job's signature and a deployment record was written without
    it (recorded all the same: a deployment or its result is never lost)."""
    ctx.runtime.stderr.write("gatekeeper: warning: " + said.said(ctx.lang) + "\n")


_NO_TOKEN = msg(
    "run deployments in a pipeline job that may request an OIDC token (GitHub: `permissions: id-token: "
    "write`; GitLab: `id_tokens: {GATEKEEPER_ID_TOKEN: {aud: gatekeeper}}`)"
)


def _start(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.adapters.identity import current_actor
    from gatekeeper.ledger.lock import require_unlocked, started_draft

    now = ctx.runtime.now()
    request = request_from(args, ctx.runtime.cwd)
    if request.at is not None and abs(request.at - now) > _AT_TOLERANCE:
        raise InputError(
            msg("deploy start records the deployment at the time it happens; --at may not move it"),
            hint=msg("use `gatekeeper gate --at T` to ask what the gate would say at another time"),
        )
    environments = ctx.config.declared_environments()
    environment = environments.resolve(args.environment).name  # exit 2 for an undeclared name
    facts = gather(ctx.config, ctx.policy, request, sources_for(ctx, environment), now)
    outcome = evaluate(facts, ctx.lang)
    if not outcome.ok:
        code = ctx.emit(outcome)
        notify_findings(ctx, outcome.findings)
        return code
    actor = current_actor(ctx.runtime.env, ctx.repo_root)
    at = request.at or now
    ledger = _open(ctx)
    try:
        # The reports the gate found in the workspace are recorded first: the deployment names their seqs.
        recorded = []
        for evidence in workspace_evidence(facts):
            kind, data = str(evidence.KIND), evidence.dump()
            draft = Draft(kind, facts.system, actor.name, str(actor.source), at, data, outcome.rfcs)
            try:
                recorded.append(append(ctx, ledger, draft, _unrecorded(facts.system, evidence, at)).seq)
            except _AlreadyRecorded as found:  # `evidence add`, or a pipeline racing this one, recorded it
                recorded.append(found.seq)  # with the counts this job read in the report: what it counted
        payload = started_payload(facts, outcome, recorded, ctx.config, ctx.policy)
        draft = started_draft(
            system=facts.system,
            rfcs=outcome.rfcs,
            actor=actor.name,
            actor_source=str(actor.source),
            at=at,
            payload=payload,
        )
        record = append(
            ctx,
            ledger,
            draft,
            require_unlocked(
                facts.system,
                facts.environment,
                now=now,
                stale_hours=ctx.policy.deploy.lock_stale_hours,
                canonical=environments.canonical,
                attest=_attestor(ctx, ledger),
            ),
        )
    finally:
        ledger.close()
    if "attestation" not in record.data and _required(ctx):
        _warn_unsigned(
            ctx,
            msg(
                "deployment {id} was recorded without the CI platform's signature: nothing shows which "
                "job deployed, and the systems after this one in an RFC's order will not count it; {fix}",
                id=record.id,
                fix=_NO_TOKEN,
            ),
        )
    started = dataclasses.replace(outcome, extra={**outcome.extra, "deployment_id": record.id})
    code = ctx.emit(started)
    if ctx.output_format == "text":
        ctx.out(tr(ctx.lang, "deployment id: {id}", id=record.id))
    notify_findings(ctx, outcome.findings)  # the warnings: debts overdue, reports due
    return code


class _AlreadyRecorded(GatekeeperError):
    """The same report (kind, commit, digest, counts) is in the ledger already, in record `seq`."""

    def __init__(self, digest: str, seq: int) -> None:
        super().__init__(msg("test evidence {digest} is recorded in record {seq}", digest=digest, seq=seq))
        self.seq = seq


def _unrecorded(system: str, evidence: TestEvidence, at: datetime) -> Precondition:
    """A precondition refusing to record a report that is recorded already (of two pipelines starting
    with the same reports, one records them)."""
    from gatekeeper.facts.history import EVIDENCE_HORIZON

    def check(reader: LedgerReader) -> None:
        for record in reader.find(kind=str(evidence.KIND), system=system, since=at - EVIDENCE_HORIZON):
            payload = entry_of(record).payload
            if (payload.kind, payload.commit, payload.counts) == (
                evidence.kind,
                evidence.commit,
                evidence.counts,
            ) and evidence.digest in payload.digests:
                raise _AlreadyRecorded(evidence.digest, record.seq)

    return check


def _find_started(ledger: Ledger, system: str, deployment_id: str) -> Record:
    for record in ledger.find(kind=str(RecordKind.DEPLOYMENT_STARTED), system=system):
        if record.id == deployment_id:
            return record
    raise InputError(
        msg(
            "no deployment.started record of {system} has the id {deployment_id!r}",
            system=system,
            deployment_id=deployment_id,
        ),
        hint=msg("use the id `gatekeeper deploy start` printed; `gatekeeper ledger log` lists the records"),
    )


def incident_draft(started: Entry[DeploymentStarted], finished: Record, ctx: Context, now: datetime) -> Draft:
    """The incident a failed or rolled-back deployment opens, graded per SOP INC."""
    from zoneinfo import ZoneInfo

    from gatekeeper.domain.calendar import BusinessCalendar
    from gatekeeper.domain.incident import incident_grade, weekday

    result = entry_of(finished).payload.result
    calendar = BusinessCalendar.from_config(ctx.config, ctx.policy)

    def business_day(day: object) -> bool:
        from datetime import date

        assert isinstance(day, date)
        try:
            return calendar.day(day).business
        except GatekeeperError:  # a year without holiday data: weekends still count
            return weekday(day)

    # A rollback restores the previous release: the incident is over when the deployment is finished.
    resolved = now if result is DeploymentResult.ROLLED_BACK else None
    system_grade = Grade(ctx.config.system.grade)
    grade = incident_grade(
        system_grade,
        occurred_at=started.moment,
        resolved_at=resolved,
        audience=ctx.config.system.audience,
        policy=ctx.policy.incidents,
        zone=ZoneInfo(ctx.config.timezone),
        business_day=business_day,
    )
    payload = IncidentOpened(
        type="deployment-" + str(result),
        grade=int(grade),
        deployment_id=started.id,
        title=f"deployment {started.id} {result}",
        system_grade=int(system_grade),
        occurred_at=started.moment,
        detected_at=now,
        resolved_at=resolved,
        status="resolved" if resolved else "open",
        errors=entry_of(finished).payload.errors,
    )
    return Draft(
        str(payload.KIND),
        finished.system,
        finished.actor,
        finished.actor_source,
        now,
        payload.dump(),
        finished.rfcs,
    )


def _finish(args: argparse.Namespace, ctx: Context) -> int:
    from gatekeeper.adapters.identity import current_actor
    from gatekeeper.ledger.lock import finished_draft, require_open

    now = ctx.runtime.now()
    result = DeploymentResult(args.result)
    environments = ctx.config.declared_environments()
    artifacts = artifact_digests(args.artifacts, ctx.runtime.cwd)
    actor = current_actor(ctx.runtime.env, ctx.repo_root)
    system = ctx.config.system.id
    ledger = _open(ctx)
    try:
        record = _find_started(ledger, system, args.deployment_id)
        started: Entry[DeploymentStarted] = entry_of(record)
        # The environment the start recorded, by its declared name; --env only for a start that named none.
        recorded = started.payload.environment
        environment = (
            environments.canonical(recorded) if recorded else environments.resolve(args.environment).name
        )
        payload = DeploymentFinished(
            started=started.id,
            result=result,
            environment=environment,
            change_type=started.payload.change_type,
            worker=args.worker or actor.name,
            verifier=args.verifier,
            test_result=args.test_result,
            errors=args.errors,
            monitoring=args.monitoring,
            started_at=record.at,
            artifacts=artifacts,
        )
        draft = finished_draft(
            record, payload=payload, actor=actor.name, actor_source=str(actor.source), at=now
        )
        finished = append(
            ctx,
            ledger,
            draft,
            require_open(system, environment, started.id, environments.canonical, _attestor(ctx, ledger)),
        )
        incident = None
        if result in _INCIDENT_RESULTS:
            incident = append(ctx, ledger, incident_draft(started, finished, ctx, now))
    finally:
        ledger.close()
    if "attestation" not in finished.data and started.payload.attestation is not None and _required(ctx):
        # Recorded all the same (a result is never lost), but a signed deployment is closed only by a
        # signed result (`facts.history.History.deployment_counts`): it stays open until one closes it.
        _warn_unsigned(
            ctx,
            msg(
                "the result of deployment {id} was recorded without the CI platform's signature and "
                "does not count: the deployment stays open until a signed result closes it; {fix}",
                id=started.id,
                fix=_NO_TOKEN,
            ),
        )
    elif started.payload.attestation is None and _required(ctx):
        # Its start proves no job deployed (`facts.history.History.deployment_counts`): the result ends the
        # deployment but counts as no success, failure or abort.
        _warn_unsigned(
            ctx,
            msg(
                "deployment {id} was started without the CI platform's signature: this result ends it but "
                "counts as no success, failure or abort (the KPIs, incidents and the configuration baseline "
                "do not rest on it) and the deployment owes its PIR; {fix}",
                id=started.id,
                fix=_NO_TOKEN,
            ),
        )
    extra: dict[str, object] = {"deployment_id": started.id, "result": str(result)}
    if incident is not None:
        extra["incident"] = {"id": incident.id, "grade": entry_of(incident).payload.grade}
    outcome = Outcome(
        system=system,
        grade=int(ctx.config.system.grade),
        change_type=str(started.payload.change_type),
        rfcs=started.rfcs,
        extra=extra,
    )
    ctx.emit(outcome)
    if ctx.output_format == "text":
        grade = entry_of(incident).payload.grade if incident is not None else None
        ctx.out(
            tr(ctx.lang, "deployment {id} finished: {result}", id=started.id, result=word(result, ctx.lang))
        )
        if incident is not None:
            ctx.out(tr(ctx.lang, "incident {id} opened, grade {grade}", id=incident.id, grade=grade))
    if incident is not None:
        notify(ctx, lambda: [_incident_event(incident, now)])
    return int(ExitCode.OK)


def _incident_event(record: Record, at: datetime) -> Event:
    payload: IncidentOpened = entry_of(record).payload
    return incident_opened(
        system=record.system,
        incident=payload.incident_id or record.id,
        title=payload.title,
        grade=payload.grade,
        opened_by=record.actor,
        record_hash=record.hash,
        at=at,
        rfcs=record.rfcs,
    )


def run(args: argparse.Namespace, ctx: Context) -> int:
    if args.deploy_command == "start":
        return _start(args, ctx)
    return _finish(args, ctx)
