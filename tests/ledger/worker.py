"""A separate process appending to the ledger under test (real concurrency, not threads).

python -m tests.ledger.worker SPEC append N TAG     N appends; prints each stored id
python -m tests.ledger.worker SPEC race ROUNDS TAG  tries to start a deployment of sys-1..sys-ROUNDS
python -m tests.ledger.worker SPEC forever 0 TAG    appends until killed (crash test)
"""

from __future__ import annotations

import sys
from datetime import UTC, datetime

from gatekeeper.ledger.lock import DeploymentLocked, require_unlocked, started_draft
from tests.ledger.spec import BackendSpec, make_draft


def main(argv: list[str]) -> int:
    spec, mode, count, tag = BackendSpec.from_json(argv[0]), argv[1], int(argv[2]), argv[3]
    ledger = spec.open()
    try:
        if mode == "append":
            for i in range(count):
                record = ledger.append(make_draft(i, worker=tag))
                print(record.id, flush=True)
        elif mode == "race":
            now = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
            for round_ in range(1, count + 1):
                system = f"sys-{round_}"
                draft = started_draft(
                    system=system, environment="prod", rfcs=(), actor=tag, actor_source="local", at=now
                )
                try:
                    ledger.append(draft, require_unlocked(system, "prod", now=now))
                    print(f"won {system}", flush=True)
                except DeploymentLocked:
                    print(f"lost {system}", flush=True)
        elif mode == "forever":
            i = 0
            while True:
                ledger.append(make_draft(i, worker=tag, padding="x" * 2000))
                print(i, flush=True)
                i += 1
    finally:
        ledger.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
