"""The audit's closure items (release.acceptance, release.production-tests, release.closure) over the period's
successful production deployments, at the audit's time, by the gate's own rules (rules.closure): conform
when done, nonconform when past the pack's deadline (kr-ap-sop: 30 days), a remark while still due, and not
applicable when nothing was deployed to production."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from typing import Any

from tests import acceptance as cases
from tests.helpers import GitRepo, run_cli

ITEMS = ("release.acceptance", "release.production-tests", "release.closure")
EARLIER = "RFC-2026-0041"


def _world(hours_ago: float, extra: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    return {
        "rfcs": {EARLIER: "active"},
        "records": [
            {"kind": "deployment.started", "hours_ago": hours_ago, "rfcs": [EARLIER]},
            {
                "kind": "deployment.finished",
                "hours_ago": hours_ago - 1,
                "closes": 0,
                "rfcs": [EARLIER],
                "data": {"result": "success"},
            },
            *(extra or []),
        ],
    }


def _items(repo: GitRepo, at: datetime, lang: str = "en") -> dict[str, dict[str, Any]]:
    since = (at - timedelta(days=90)).date().isoformat()
    found = run_cli(
        ["--lang", lang, "--format", "json", "audit", "--since", since, "--no-record"], cwd=repo.path, now=at
    )
    assert found.code in (0, 1), found.stderr
    return {i["id"]: i for i in json.loads(found.stdout)["items"]}


def test_an_unclosed_release_past_its_deadline_is_nonconform_in_both_languages(repo: GitRepo) -> None:
    at, _ = cases.build(repo, _world(960))
    items = _items(repo, at)
    for item in ITEMS:
        assert items[item]["result"] == "nonconform", items[item]
    korean = _items(repo, at, "ko")
    assert korean["release.acceptance"]["question"].startswith("운영 배포가 끝난 뒤")


def test_a_release_still_within_its_deadline_is_a_remark_not_a_nonconformity(repo: GitRepo) -> None:
    at, _ = cases.build(repo, _world(240))
    items = _items(repo, at)
    for item in ITEMS:
        assert items[item]["result"] != "nonconform", items[item]
        assert any("due by" in r for r in items[item].get("remarks", [])), items[item]


ABOUT = {"about": 0, "rfcs": [EARLIER]}
PASSED = {"tests": 8, "passed": 8, "failed": 0, "errors": 0, "skipped": 0}
# The production tests, acceptance, review and closure of the earlier release, in order.
CLOSED = [
    {
        "kind": "test.evidence",
        "hours_ago": 900,
        "actor": "han",
        "data": {"kind": k, "totals": PASSED},
        **ABOUT,
    }
    for k in ("unit", "integration")
] + [
    {"kind": "release.accepted", "hours_ago": 890, "actor": "lee", "data": {"result": "accepted"}, **ABOUT},
    {"kind": "release.reviewed", "hours_ago": 880, "actor": "han", "data": {"consistent": True}, **ABOUT},
    {"kind": "change.closed", "hours_ago": 870, "actor": "kim", "data": {}, **ABOUT},
]


def test_a_closed_release_conforms(repo: GitRepo) -> None:
    at, _ = cases.build(repo, _world(960, CLOSED))
    items = _items(repo, at)
    for item in ITEMS:
        assert items[item]["result"] == "conform", items[item]


def test_a_record_after_the_closure_changes_nothing(repo: GitRepo) -> None:
    """The audit takes a release's verdict when its closure counts and lets the release go (memory stays
    bounded on a long ledger): a rejection recorded after the closure, or tests bound to it later, leave
    it closed, as the gate's rules judge it."""
    later = [
        {
            "kind": "release.accepted",
            "hours_ago": 860,
            "actor": "lee",
            "data": {"result": "rejected"},
            **ABOUT,
        },
        {**CLOSED[0], "hours_ago": 850},
    ]
    at, _ = cases.build(repo, _world(960, [*CLOSED, *later]))
    items = _items(repo, at)
    for item in ITEMS:
        assert items[item]["result"] == "conform", items[item]


def test_a_retired_release_is_not_kept() -> None:
    from gatekeeper.domain import ChangeType
    from gatekeeper.domain.closure import Closures, Release
    from gatekeeper.domain.records import ChangeClosed, Entry

    moment = datetime(2026, 11, 2, 21, 0).astimezone()
    taken: list[str] = []
    closures = Closures(retire=lambda r: taken.append(r.id) is None)
    for ident in ("d1", "d2"):
        closures.finished(
            Release(ident, 1, ("RFC-1",), ChangeType.NORMAL, "production", "c" * 40, "ci", moment)
        )
    closed = Entry(
        5, "x", "change.closed", "s", ("RFC-1",), "kim", "github-actions", moment, ChangeClosed("d1")
    )
    assert closures.add(closed) is not None
    closures.settle("d1", closed=True)
    closures.settle("d2")  # past every horizon, not closed: the audit still judges it
    assert taken == ["d1"]
    assert "d1" not in closures.settled and "d2" in closures.settled
    assert [r.id for r in closures.of(settled=True)] == ["d2"]
    later = Entry(
        6, "y", "change.closed", "s", ("RFC-1",), "kim", "github-actions", moment, ChangeClosed("d1")
    )
    assert closures.add(later) is None and not closures.strays
