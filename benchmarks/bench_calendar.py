"""The change calendar (`gatekeeper calendar --system all`) over an agency's RFCs: 10,000 RFCs of 1,000
systems over a quarter, each with a dated window, some linked to another system or sharing a configuration
item, so that a few per cent collide.

Measured in the same run: the calendar (placement, collisions, days, findings, JSON shape) at 1,000 and
10,000 RFCs, and a reference loop that only computes each RFC's start and end from its window text (the
least any calendar does). Printed: the medians, the calendar's ratio to the reference at 10,000, and its
growth from 1,000 to 10,000 RFCs (linear is 10x). Target (issue 19): < 1 s at 10,000 RFCs and 1,000 systems.

Run: `python -m benchmarks bench_calendar` (or `make bench`).
"""

from __future__ import annotations

import json
import random
import statistics
import time
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from gatekeeper.checks.calendar import as_dict, build
from gatekeeper.config import policy_for
from gatekeeper.config.models import Config, Rfc
from gatekeeper.domain import Grade
from gatekeeper.domain.calendar import BusinessCalendar

ZONE = ZoneInfo("Asia/Seoul")
START = datetime(2027, 1, 1, tzinfo=ZONE)
DAYS = 90
SYSTEMS = 1_000
TARGET_SECONDS = 1.0
REPEATS = 5


def rfcs(count: int, seed: int = 19) -> list[tuple[str, Rfc]]:
    pick = random.Random(seed)
    out = []
    for n in range(count):
        system = f"sys-{n % SYSTEMS:04d}"
        day = date(2027, 1, 1) + timedelta(days=pick.randrange(DAYS))
        hour = pick.choice((18, 19, 20, 21, 22))
        impact: dict[str, object] = {}
        if pick.random() < 0.1:
            impact["integrations"] = [f"sys-{pick.randrange(SYSTEMS):04d}"]
        if pick.random() < 0.05:
            impact["configuration_items"] = [f"db-{pick.randrange(50)}"]
        body = {
            "id": f"RFC-2027-{n:05d}",
            "title": f"변경 {n}",
            "type": "normal",
            "requester": "lee",
            "systems": [system],
            "reason": "정기 개선",
            "impact": impact,
            "schedule": {"window": f"{day.isoformat()} {hour:02d}:00-{hour + 2:02d}:00"},
        }
        out.append((str(body["id"]), Rfc.model_validate_json(json.dumps(body))))
    return out


def reference(items: list[tuple[str, Rfc]]) -> int:
    """Each RFC's start and end from its window text, and nothing else."""
    placed = 0
    for _, rfc in items:
        day_text, _, clock = rfc.schedule.window.partition(" ")
        first, _, last = clock.partition("-")
        day = date.fromisoformat(day_text)
        start = datetime(day.year, day.month, day.day, int(first[:2]), int(first[3:]), tzinfo=ZONE)
        end = datetime(day.year, day.month, day.day, int(last[:2]) % 24, int(last[3:]), tzinfo=ZONE)
        placed += start < end
    return placed


def calendar_run(items: list[tuple[str, Rfc]]) -> int:
    system = {"id": "sys-0000", "name": "s", "grade": 1, "audience": "internal"}
    config = Config.model_validate_json(json.dumps({"version": 1, "system": system}))
    policy = policy_for(config)
    cal = build(
        rfcs=items,
        deployments=(),
        calendar=BusinessCalendar.from_config(config, policy),
        policy=policy,
        grade=Grade(1),
        start=START,
        end=START + timedelta(days=DAYS),
        systems=None,
        known=[f"sys-{n:04d}" for n in range(SYSTEMS)],
        lang="ko",
    )
    as_dict(cal)
    return len(cal.collisions)


def _median(run: object, items: list[tuple[str, Rfc]]) -> float:
    times = []
    for _ in range(REPEATS):
        began = time.perf_counter()
        run(items)  # type: ignore[operator]
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def main() -> None:
    small, large = rfcs(1_000), rfcs(10_000)
    calendar_run(small)  # warm: holiday tables, imports
    ref = _median(reference, large)
    at_small, at_large = _median(calendar_run, small), _median(calendar_run, large)
    collided = calendar_run(large)
    print(f"calendar, {SYSTEMS} systems, {DAYS} days: {collided} collisions among 10,000 RFCs")
    print(f"  reference loop (10,000 RFCs): {ref * 1000:.1f} ms")
    print(f"  calendar   1,000 RFCs: {at_small * 1000:.1f} ms")
    print(
        f"  calendar  10,000 RFCs: {at_large * 1000:.1f} ms  (target < {TARGET_SECONDS:.0f} s: "
        f"{'met' if at_large < TARGET_SECONDS else 'NOT MET'})"
    )
    print(
        f"  ratio to the reference: {at_large / ref:.1f}x; "
        f"growth 1,000 -> 10,000: {at_large / at_small:.1f}x "
        "(linear: 10x)"
    )


if __name__ == "__main__":
    main()
