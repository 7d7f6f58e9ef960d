"""A small, hand-checked history of minwon-portal (grade 1) in October and November 2026.

| when (KST)        | what                                                                                  |
|-------------------|---------------------------------------------------------------------------------------|
| 10-20 20:00–20:30 | D1: RFC-2026-0001 (normal, all five approvals, unit+integration pass) succeeds; PIR   |
| 11-03 20:00–20:20 | D2: RFC-2026-0002 (normal, approvals in order, tests pass) FAILS; incident 20:21      |
| 11-04 20:00–20:40 | D3: RFC-2026-0002 again, succeeds — restores D2. No PIR ever (due 11-18): MISSING PIR |
| 11-10 14:00–14:30 | D4: RFC-2026-0003 EMERGENCY (unit pass, no approvals) ROLLED BACK; incident resolved  |
| 11-10 15:00–15:20 | D5: RFC-2026-0003 again, succeeds. Only change-review after the fact (change-approval |
|                   |     missing past the 72 h deadline)                                                   |
| 11-20 20:00–20:10 | D6: RFC-2026-0004 (standard; release-first approved before change-review, integration |
|                   |     tests failing) FAILS and no incident is recorded                                  |

November, hand-computed (period 2026-11-01 .. 2026-11-30):
- deployments 5 (D2..D6), successes 2, failures 3 (one rolled back): success 40 %, failure 60 %,
  rollback 20 %; change failure rate (3 + 0 defects) / 5 = 60 %; deployment frequency 2;
- incidents 2, both opened by failed deployments: defect rate 0 / 2 = 0 %;
- MTTR: D2's incident 11-03 20:21 → D3 11-04 20:40 = 1459 min, D4's incident resolved at once = 0 min:
  mean 729.5 min;
- time to restore service (DORA) = MTTR: one recovery time per incident, the SOP's 장애 시간;
- tests: 40+12 + 40+12 (0002 twice? no: once) ... see `NOVEMBER_TESTS`: 92 passed of 94 = 97.87 %;
- lead time (commit times below): D3 34.67 h, D5 1.83 h: mean 18.25 h;
- on time: RFC 0002 and 0003 first succeeded before the end of their requested day (11-20): 2 / 2 = 100 %.
- incidents: D2's grade-1 incident lasted 1459 minutes with no intermediate report (INC), and the emergency
  RFC-2026-0003 names INC-2026-0007, which no incident record holds (CHG-P1).
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime, timedelta, timezone

from gatekeeper.ledger import GENESIS, Draft, Record
from tests.platform.oidc import attest, sign

KST = timezone(timedelta(hours=9))
SYSTEM = "minwon-portal"
C1, C2, C3, C4 = ("1" * 40, "2" * 40, "3" * 40, "4" * 40)
COMMIT_TIMES = {
    C1: datetime(2026, 10, 19, 10, 0, tzinfo=KST),
    C2: datetime(2026, 11, 3, 10, 0, tzinfo=KST),
    C3: datetime(2026, 11, 10, 13, 30, tzinfo=KST),
    C4: datetime(2026, 11, 19, 10, 0, tzinfo=KST),
}
NOVEMBER_TESTS = (94, 92)  # run, passed: 0002 unit 40 + it 12, 0003 unit 10, 0004 unit 20 + it 10/12


def at(month: int, day: int, hour: int, minute: int = 0) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=KST)


class _History:
    def __init__(self) -> None:
        self.drafts: list[Draft] = []
        self.deployments: dict[str, str] = {}  # name -> deployment id

    def add(
        self, kind: str, when: datetime, rfcs: tuple[str, ...], data: dict[str, object], actor: str = "ci"
    ) -> Draft:
        # Fixed ids keep golden files stable (a ledger gives every record a random UUID).
        draft = Draft(
            kind, SYSTEM, actor, "github-actions", when, data, rfcs, id=f"r{len(self.drafts) + 1:03d}"
        )
        self.drafts.append(draft)
        return draft

    def approvals(self, rfc: str, steps: list[tuple[str, str, datetime]]) -> None:
        for step, actor, when in steps:
            given = self.add(
                "approval", when, (rfc,), {"step": step, "decision": "approve", "digest": "sha256:x"}, actor
            )
            self.drafts[-1] = attest(given)  # in the approval workflow, attested by the platform

    def evidence(self, rfc: str, kind: str, commit: str, when: datetime, tests: int, passed: int) -> None:
        failed = tests - passed
        self.add(
            "test.evidence",
            when,
            (rfc,),
            {
                "kind": kind,
                "commit": commit,
                "files": [],
                "totals": {"tests": tests, "passed": passed, "failed": failed, "errors": 0, "skipped": 0},
                "success_rate": round(100.0 * passed / tests, 2),
            },
        )

    def deploy(
        self, name: str, rfc: str, change_type: str, commit: str, start: datetime, end: datetime, result: str
    ) -> str:
        started = self.add(
            "deployment.started",
            start,
            (rfc,),
            {"change_type": change_type, "commit": commit, "environment": "production", "warnings": []},
        )
        self.drafts[-1] = sign(started)  # by the deploying job, on the commit it deploys
        self.deployments[name] = started.id
        finished = self.add(
            "deployment.finished",
            end,
            (rfc,),
            {
                "started": started.id,  # as `deploy finish` names its deployment
                "environment": "production",
                "result": result,
                "change_type": change_type,
                "worker": "choi",
                "verifier": "lee",
                "test_result": "",
                "errors": "" if result == "success" else "health check failed",
                "monitoring": "",
                "started_at": start.isoformat(),
            },
        )
        self.drafts[-1] = sign(finished, sha=commit)  # by the same job
        return started.id

    def incident(self, name: str, when: datetime, rfc: str, resolved: datetime | None) -> None:
        self.add(
            "incident.opened",
            when,
            (rfc,),
            {
                "deployment_id": self.deployments[name],
                "type": "deployment-failure",
                "title": f"deployment {name} failed",
                "grade": 1,
                "system_grade": 1,
                "occurred_at": when.isoformat(),
                "detected_at": when.isoformat(),
                "resolved_at": resolved.isoformat() if resolved else None,
                "status": "resolved" if resolved else "open",
                "errors": "health check failed",
            },
        )


FULL = ["change-review", "cab", "change-approval", "release-first", "release-second"]
WHO = {
    "change-review": "kim",
    "change-approval": "park",
    "cab": "jung",  # the CAB's decision, recorded by its chair
    "release-first": "choi",
    "release-second": "lee",
}


def drafts() -> list[Draft]:
    h = _History()
    # D1 (October): everything in order.
    # (The tests come first: the release approvals certify them, REL-P1/TST-P4.)
    h.evidence("RFC-2026-0001", "unit", C1, at(10, 15, 8), 40, 40)
    h.evidence("RFC-2026-0001", "integration", C1, at(10, 15, 9), 12, 12)
    h.approvals("RFC-2026-0001", [(s, WHO[s], at(10, 15, 10 + i)) for i, s in enumerate(FULL)])
    h.deploy("D1", "RFC-2026-0001", "normal", C1, at(10, 20, 20), at(10, 20, 20, 30), "success")
    pir = h.add("pir", at(10, 25, 10), ("RFC-2026-0001",), {"result": "achieved", "note": "ok"}, "kim")
    h.drafts[-1] = sign(pir)  # by the pipeline job kim ran: a PIR counts only signed on grade 1
    # D2 fails, D3 restores; no PIR for RFC-2026-0002.
    h.evidence("RFC-2026-0002", "unit", C2, at(11, 2, 8), 40, 40)
    h.evidence("RFC-2026-0002", "integration", C2, at(11, 2, 9), 12, 12)
    h.approvals("RFC-2026-0002", [(s, WHO[s], at(11, 2, 10 + i)) for i, s in enumerate(FULL)])
    h.deploy("D2", "RFC-2026-0002", "normal", C2, at(11, 3, 20), at(11, 3, 20, 20), "failure")
    h.incident("D2", at(11, 3, 20, 21), "RFC-2026-0002", None)
    h.deploy("D3", "RFC-2026-0002", "normal", C2, at(11, 4, 20), at(11, 4, 20, 40), "success")
    # D4 emergency, rolled back (incident resolved at once), D5 succeeds; retro review incomplete.
    h.evidence("RFC-2026-0003", "unit", C3, at(11, 10, 13, 50), 10, 10)
    h.deploy("D4", "RFC-2026-0003", "emergency", C3, at(11, 10, 14), at(11, 10, 14, 30), "rolled-back")
    h.incident("D4", at(11, 10, 14, 30), "RFC-2026-0003", at(11, 10, 14, 30))
    h.deploy("D5", "RFC-2026-0003", "emergency", C3, at(11, 10, 15), at(11, 10, 15, 20), "success")
    h.approvals("RFC-2026-0003", [("change-review", "kim", at(11, 11, 9))])
    # D6: standard change, approvals out of order, failing integration tests, failure without incident.
    h.approvals(
        "RFC-2026-0004",
        [
            ("release-first", "choi", at(11, 18, 9)),
            ("change-review", "kim", at(11, 18, 10)),
            ("release-second", "lee", at(11, 18, 11)),
        ],
    )
    h.evidence("RFC-2026-0004", "unit", C4, at(11, 19, 11), 20, 20)
    h.evidence("RFC-2026-0004", "integration", C4, at(11, 19, 12), 12, 10)
    h.deploy("D6", "RFC-2026-0004", "standard", C4, at(11, 20, 20), at(11, 20, 20, 10), "failure")
    return h.drafts


def placed(items: list[Draft] | None = None) -> list[Record]:
    """The drafts chained into records, as a ledger would store them."""
    out: list[Record] = []
    prev = GENESIS
    for seq, draft in enumerate(items if items is not None else drafts(), start=1):
        record = draft.place(seq, prev)
        out.append(record)
        prev = record.hash
    return out


def iter_records() -> Iterator[Record]:
    yield from placed()
