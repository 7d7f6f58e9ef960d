"""The deployment lock (seed 003: no two people change the same system at once).

An open `deployment.started` record — one no `deployment.finished` names — holds the lock for its system
and environment. Where the pack requires deployment records to be signed by the CI job that deploys, the
lock reads them as every check does (`facts.history.History.deployment_counts`): a signed deployment is
closed only by a signed result, so nobody releases another's deployment by writing its finish by hand.
The checks are preconditions run inside the ledger's critical section, so of two pipelines racing
to start on the same backend exactly one stores its record. A stale lock is reported, never broken: a
release manager closes it with an explicit `deployment.finished` whose result is `aborted`, which is
itself a record.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from gatekeeper.domain import DeploymentResult, RecordKind
from gatekeeper.domain.records import DeploymentFinished, DeploymentStarted, entry_of
from gatekeeper.errors import ExitCode, GatekeeperError, InputError
from gatekeeper.ledger import Draft, LedgerReader, Precondition, Record
from gatekeeper.messages import Message, msg


class DeploymentLocked(GatekeeperError):
    """Another deployment of the same system and environment is in progress."""

    exit_code = ExitCode.BLOCKED


@dataclass(frozen=True, slots=True)
class HeldLock:
    record: Record
    environment: str
    age_hours: float
    stale: bool

    @property
    def description(self) -> Message:
        """Who holds the lock, since when and for what (said in the run's language)."""
        record = self.record
        said = {
            "actor": record.actor,
            "source": record.actor_source,
            "system": record.system,
            "environment": self.environment,
            "rfcs": ", ".join(record.rfcs) if record.rfcs else msg("no RFC"),
            "at": record.at,
            "seq": record.seq,
            "id": record.id,
            "hours": self.age_hours,
        }
        if self.stale:
            return msg(
                "{actor} ({source}) holds the deployment lock of {system}/{environment} for {rfcs} since "
                "{at} (ledger seq {seq}, id {id}; STALE: started {hours:.1f} h ago)",
                **said,
            )
        return msg(
            "{actor} ({source}) holds the deployment lock of {system}/{environment} for {rfcs} since "
            "{at} (ledger seq {seq}, id {id}; started {hours:.1f} h ago)",
            **said,
        )


def open_deployments(
    reader: LedgerReader,
    system: str,
    environment: str | None = None,
    canonical: Callable[[str], str] | None = None,
    attest: Callable[[Any], bool] | None = None,
) -> list[Record]:
    """`deployment.started` records of `system` (and `environment`) that no finish has closed, paired as
    every check pairs them (`facts.history.History`). `canonical` gives a recorded environment name its
    declared name (`Environments.canonical`): a deployment recorded as `Production` or under an alias holds
    the lock of the environment it names. `attest`: the verifier of the records' signatures, where the
    pack requires them (`adapters.oidc.Attestor`)."""
    from gatekeeper.facts.history import History

    found = {
        record.seq: record
        for kind in (RecordKind.DEPLOYMENT_STARTED, RecordKind.DEPLOYMENT_FINISHED)
        for record in reader.find(kind=str(kind), system=system)
    }
    history = History(
        None,
        None,
        system,
        environment_name=canonical,
        attest=attest,
        deployment_attestation="required" if attest is not None else None,
    )
    for seq in sorted(found):
        history.add(entry_of(found[seq]))
    return [
        found[d.seq]
        for d in history.deployments()
        if d.finish is None and (environment is None or d.environment == environment)
    ]


def held_locks(
    reader: LedgerReader,
    system: str,
    environment: str | None,
    *,
    now: datetime,
    stale_hours: float,
    canonical: Callable[[str], str] | None = None,
    attest: Callable[[Any], bool] | None = None,
) -> list[HeldLock]:
    locks = []
    for record in open_deployments(reader, system, environment, canonical, attest):
        age = max(0.0, (now - record.moment).total_seconds() / 3600)
        environment_ = entry_of(record).payload.environment
        locks.append(HeldLock(record, environment_, age, age >= stale_hours))
    return locks


def require_unlocked(
    system: str,
    environment: str,
    *,
    now: datetime,
    stale_hours: float = 12,
    canonical: Callable[[str], str] | None = None,
    attest: Callable[[Any], bool] | None = None,
) -> Precondition:
    """A precondition refusing the append while another deployment of system+environment is open
    (`environment` canonical; `canonical` reads the recorded names; `attest`: see `open_deployments`)."""

    def check(reader: LedgerReader) -> None:
        locks = held_locks(
            reader,
            system,
            environment,
            now=now,
            stale_hours=stale_hours,
            canonical=canonical,
            attest=attest,
        )
        if not locks:
            return
        held = locks[0]
        if held.stale:
            raise DeploymentLocked(
                msg(
                    "deployment refused: {held}; the lock is older than lock_stale_hours "
                    "({stale_hours:g} h) but is never broken automatically",
                    held=held.description,
                    stale_hours=stale_hours,
                ),
                hint=msg(
                    "a release manager who has checked the earlier deployment closes it with "
                    "`gatekeeper deploy finish --result aborted`, which is recorded (where the pack "
                    "requires signed deployment records: in a pipeline job of the commit that "
                    "deployment deployed)"
                ),
            )
        raise DeploymentLocked(
            msg(
                "deployment refused: {held}",
                held=held.description,
            ),
            hint=msg("wait for that deployment to finish, or coordinate with its owner"),
        )

    return check


def require_open(
    system: str,
    environment: str,
    started_id: str | None = None,
    canonical: Callable[[str], str] | None = None,
    attest: Callable[[Any], bool] | None = None,
) -> Precondition:
    """A precondition for a finish: the deployment it closes is open (and, if named, is that one;
    `attest`: see `open_deployments`)."""

    def check(reader: LedgerReader) -> None:
        candidates = open_deployments(reader, system, environment, canonical, attest)
        if started_id is not None:
            candidates = [r for r in candidates if r.id == started_id]
        if not candidates:
            which = f" with id {started_id}" if started_id else ""
            raise InputError(
                msg(
                    "there is no open deployment of {system}/{environment}{which} to finish",
                    system=system,
                    environment=environment,
                    which=which,
                ),
                hint=msg("`gatekeeper ledger log --kind deployment.started` lists the deployments"),
            )
        if len(candidates) > 1:
            raise InputError(
                msg(
                    "{candidates_count} deployments of {system}/{environment} are open; name the one to "
                    "finish",
                    candidates_count=len(candidates),
                    system=system,
                    environment=environment,
                ),
                hint=msg("pass the id of its deployment.started record"),
            )

    return check


def started_draft(
    *,
    system: str,
    rfcs: tuple[str, ...],
    actor: str,
    actor_source: str,
    at: datetime,
    environment: str = "",
    payload: DeploymentStarted | None = None,
) -> Draft:
    """A `deployment.started` draft: `payload` as given, or a bare one for `environment`."""
    body = payload if payload is not None else DeploymentStarted(environment)
    return Draft(str(body.KIND), system, actor, actor_source, at, body.dump(), rfcs)


def finished_draft(
    started: Record,
    *,
    actor: str,
    actor_source: str,
    at: datetime,
    result: DeploymentResult | None = None,
    payload: DeploymentFinished | None = None,
) -> Draft:
    """The record that closes `started`: any result for the holder's own finish; `aborted` closes a stale
    lock on behalf of someone else. `payload` as given, or a bare one with `result`."""
    if payload is None:
        assert result is not None
        opened = entry_of(started).payload
        payload = DeploymentFinished(started.id, result, opened.environment, opened.change_type)
    return Draft(str(payload.KIND), started.system, actor, actor_source, at, payload.dump(), started.rfcs)
