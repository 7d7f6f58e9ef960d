"""How a test (or a worker process) opens the ledger under test: one small value per backend."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

from gatekeeper.ledger import Draft, Ledger


@dataclass(frozen=True)
class BackendSpec:
    name: str  # git | sqlite | postgres
    location: str  # bare remote | database file | DSN
    extra: str = ""  # folder for git clones | PostgreSQL schema

    def to_json(self) -> str:
        return json.dumps(asdict(self))

    @classmethod
    def from_json(cls, text: str) -> BackendSpec:
        return cls(**json.loads(text))

    def open(self, *, retries: int = 50) -> Ledger:
        """A new handle; for git each handle is its own clone, as each CI job is."""
        if self.name == "sqlite":
            from gatekeeper.ledger.sqlite import SqliteLedger

            return SqliteLedger(Path(self.location))
        if self.name == "postgres":
            from gatekeeper.ledger.postgres import PostgresLedger

            return PostgresLedger(self.location, self.extra)
        from gatekeeper.ledger.git import GitLedger

        clone = Path(self.extra) / uuid.uuid4().hex[:10]
        clone.mkdir(parents=True)
        subprocess.run(["git", "init", "-q", "--bare", str(clone)], check=True)
        return GitLedger(clone, remote=self.location, retries=retries, env=os.environ)


def make_draft(n: int = 0, *, kind: str = "approval", system: str = "minwon-portal", **data: object) -> Draft:
    return Draft(
        kind=kind,
        system=system,
        actor="kim",
        actor_source="github-actions",
        at=datetime(2026, 11, 24, 11, 0, tzinfo=UTC),
        data={"n": n, **data},
        rfcs=("RFC-2026-0001",),
    )
