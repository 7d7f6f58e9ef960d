"""One recovery time for one incident (SOP INC 장애 시간, seed 002 장애관리 line ~1235, 불임1 ~1389–1391):
the KPI's MTTR, DORA's time to restore and the 장애보고서 show the same minutes — from the incident's
occurrence, not from when its record was written."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from gatekeeper.checks.kpi import report, tallies_from_records
from gatekeeper.config import load_policy
from gatekeeper.domain.records import read
from gatekeeper.facts.history import History
from gatekeeper.ledger import Draft
from gatekeeper.reporters.forms import incident_report_form
from gatekeeper.resources import policies_dir
from tests.audit.history import KST, placed

ZONE = ZoneInfo("Asia/Seoul")


def _d(kind: str, when: datetime, data: dict[str, object]) -> Draft:
    return Draft(kind, "minwon-portal", "ci", "github-actions", when, data, ("RFC-2026-0001",))


def _figures(items: list[Draft]) -> tuple[float | None, float | None, str]:
    records = placed(items)
    policy = load_policy("kr-ap-sop", relative_to=policies_dir())
    kpis = {
        k.id: k.value
        for k in report(tallies_from_records(records, ZONE), policy, system="s", since=None, until=None).kpis
    }
    history = History(None, None, "minwon-portal")
    for record in records:
        history.add(read(record))
    (incident,) = history.incidents.by_id.values()
    form = incident_report_form(incident, "민원포털", "ko")
    shown = next(f.value for s in form.sections for f in s.fields if f.label == "서비스 중단시간(분)")
    return kpis["mttr-minutes"], kpis["time-to-restore-minutes"], shown


def test_a_rollback_of_fifteen_minutes_is_fifteen_minutes_everywhere() -> None:
    started = datetime(2026, 11, 10, 22, 0, tzinfo=KST)
    finished = started + timedelta(minutes=15)
    start = _d("deployment.started", started, {"environment": "production"})
    items = [
        start,
        _d("deployment.finished", finished, {"result": "rolled-back", "started": start.id}),
        # what `deploy finish` writes: occurred at the deployment's start, resolved by the rollback
        _d(
            "incident.opened",
            finished,
            {
                "type": "deployment-rolled-back",
                "deployment_id": start.id,
                "occurred_at": started.isoformat(),
                "resolved_at": finished.isoformat(),
            },
        ),
    ]
    assert _figures(items) == (15.0, 15.0, "15분")


def test_an_incident_closed_by_hand_counts_from_its_occurrence() -> None:
    occurred = datetime(2026, 11, 12, 10, 0, tzinfo=KST)
    items = [
        _d(
            "incident.opened",
            occurred + timedelta(minutes=10),
            {
                "type": "service-outage",
                "incident_id": "INC-1",
                "grade": 1,
                "occurred_at": occurred.isoformat(),
                "detected_at": (occurred + timedelta(minutes=5)).isoformat(),
            },
        ),
        _d(
            "incident.updated",
            occurred + timedelta(minutes=30),
            {"incident": "INC-1", "note": "n", "report": True},
        ),
        _d(
            "incident.closed",
            occurred + timedelta(hours=2),
            {
                "incident": "INC-1",
                "resolved_at": (occurred + timedelta(minutes=80)).isoformat(),
                "cause_type": "software",
                "action": "a",
            },
        ),
    ]
    assert _figures(items) == (80.0, 80.0, "80분")


def test_an_unresolved_incident_has_no_recovery_time_yet() -> None:
    occurred = datetime(2026, 11, 12, 10, 0, tzinfo=KST)
    items = [_d("incident.opened", occurred, {"type": "service-outage", "incident_id": "INC-2", "grade": 2})]
    assert _figures(items) == (None, None, "-")
