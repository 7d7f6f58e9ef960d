"""Closing a release: a successful deployment and the records written about it after it finished.

After a deployment to production succeeds, seed 002 asks for the production unit and integration (연계) tests
(배포관리 3.1–3.2, TST-P5), the requester's acceptance test (4.2, 테스트관리 4.4), the check that the change
plan, the release plan and the result agree (4.1, REL-CONSISTENCY) and the closure of the release and the
change (4.3, 변경관리 4.2). `Closures` keeps, per successful deployment, the records that name it — test
evidence bound to it (`evidence add --deployment`), `release.accepted`, `release.reviewed`, `change.closed`
— in ledger order; which of them count is the rules' judgement (`rules.closure.judge`), made with the role
holders each reader knows. A record that names a deployment this history does not hold as finished
successfully (not started, still open, failed, or made up) is kept apart as a stray: it closes nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from gatekeeper.domain import ChangeType
from gatekeeper.domain.records import ChangeClosed, Entry, ReleaseAccepted, ReleaseReviewed, TestEvidence

CLOSURE_PAYLOADS = (ReleaseAccepted, ReleaseReviewed, ChangeClosed)


@dataclass(slots=True)
class Release:
    """A deployment that finished successfully, and every record about it written after that."""

    id: str
    seq: int  # of its `deployment.finished`
    rfcs: tuple[str, ...]
    change_type: ChangeType
    environment: str
    commit: str
    actor: str  # who started the deployment
    finished_at: datetime
    records: list[Entry[Any]] = field(default_factory=list)
    signed: dict[int, bool | None] = field(default_factory=dict)  # record seq -> signature verified


@dataclass(slots=True)
class Closures:
    """The releases of a system that may still owe their closure, by deployment id (see the module)."""

    releases: dict[str, Release] = field(default_factory=dict)  # in the order they finished
    strays: list[Entry[Any]] = field(default_factory=list)
    # Releases whose closure counts whoever reads it (judged with the role holders the fold knows): the
    # rules read only `releases`; the audit and the forms read both.
    settled: dict[str, Release] = field(default_factory=dict)
    # A reader that takes a closed release's verdict when it settles (the audit), so that neither the
    # release nor the records about it are kept: True when taken. Later records about a retired release
    # change nothing (a closed release stays closed) and are let go.
    retire: Callable[[Release], bool] | None = None
    retired: set[str] = field(default_factory=set)

    def finished(self, release: Release) -> None:
        # Records that named it while it was still running are kept with it, to be refused as too early.
        early = [e for e in self.strays if getattr(e.payload, "deployment", "") == release.id]
        if early:
            self.strays = [e for e in self.strays if getattr(e.payload, "deployment", "") != release.id]
            release.records[:0] = early
        self.releases[release.id] = release

    def add(self, entry: Entry[Any], signed: bool | None = None) -> Release | None:
        """Fold a closure record or deployment-bound test evidence; the release it is about, or None (a
        stray)."""
        payload = entry.payload
        deployment = payload.deployment if isinstance(payload, (TestEvidence, *CLOSURE_PAYLOADS)) else ""
        if deployment in self.retired:
            return None
        release = self.releases.get(deployment) or self.settled.get(deployment)
        if release is None or entry.seq < release.seq:
            if deployment:
                self.strays.append(entry)
            return None
        release.records.append(entry)
        release.signed[entry.seq] = signed
        return release

    def expire(self, before: datetime) -> None:
        """Stop reading, in the rules, releases that finished before `before` (past every horizon); the
        audit still reads them (`of(settled=True)`)."""
        while self.releases:
            first = next(iter(self.releases.values()))
            if first.finished_at >= before:
                break
            self.settle(first.id)

    def settle(self, deployment: str, *, closed: bool = False) -> None:
        """Stop reading the release in the rules (`closed`: because its closure counts)."""
        release = self.releases.pop(deployment, None)
        if release is None:
            return
        if closed and self.retire is not None and self.retire(release):
            self.retired.add(deployment)
            return
        self.settled[deployment] = release

    def of(self, environment: str | None = None, *, settled: bool = False) -> list[Release]:
        """The releases still owing their closure (with `settled`: every release), oldest first."""
        found = [*self.releases.values(), *(self.settled.values() if settled else ())]
        if settled:
            found.sort(key=lambda r: r.seq)
        return [r for r in found if environment is None or r.environment == environment]
