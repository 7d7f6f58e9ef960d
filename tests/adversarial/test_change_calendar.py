"""The change calendar against a developer with write access: RFC text that tries to break out of the HTML
month view or to forge events in the iCalendar file, a collision hidden behind a daily window, and periods
at the edge of what the calendar can answer."""

from __future__ import annotations

import json
from datetime import UTC, datetime

from tests.acceptance import build, gate
from tests.adversarial.conftest import Recorder
from tests.calendar.test_change_calendar import NOW, _rfc, world
from tests.helpers import GitRepo, run_cli

FORGED = "정상 변경\r\nEND:VEVENT\r\nBEGIN:VEVENT\r\nUID:forged@gatekeeper\r\n" + "SUMMARY:승인됨 <script>"


def test_rfc_text_cannot_forge_events_or_markup(repo: GitRepo, reliability: Recorder) -> None:
    from icalendar import Calendar

    world(
        repo,
        [
            _rfc("RFC-2026-0042", title=FORGED, schedule={"window": "2026-12-08 19:00-22:00"}),
            _rfc("RFC-2026-0043", schedule={"window": "2026-12-08 21:00-23:00"}),
        ],
    )
    args = ["calendar", "--from", "2026-12-01", "--to", "2026-12-31"]
    assert run_cli([*args, "-o", "c.ics"], cwd=repo.path, now=NOW).code == 1
    assert run_cli([*args, "-o", "c.html"], cwd=repo.path, now=NOW).code == 1
    events = list(Calendar.from_ical((repo.path / "c.ics").read_bytes()).walk("VEVENT"))
    uids = sorted(str(e["uid"]) for e in events if not str(e["uid"]).startswith("holiday-"))
    assert uids == ["RFC-2026-0042@gatekeeper", "RFC-2026-0043@gatekeeper"]
    page = (repo.path / "c.html").read_text(encoding="utf-8")
    assert "<script" not in page and "&lt;script&gt;" in page
    reliability.row(
        "calendar -o .ics/.html with an RFC title carrying CRLF, END:VEVENT and <script>",
        "event forgery / markup injection",
        "one event per RFC; the text escaped",
    )


def test_a_daily_window_does_not_hide_a_collision_from_the_gate(
    tmp_path: object, reliability: Recorder
) -> None:
    """A deployed RFC planning "any evening" still collides with a change planned for this evening."""
    from pathlib import Path

    repo = GitRepo.create(Path(str(tmp_path)) / "repo")
    at, _ = build(
        repo,
        {
            "rfc": {"schedule": {"window": "19:00-23:00"}},
            "rfcs": {"RFC-2026-0043": {"schedule": {"window": "2026-11-24 22:00-23:00"}}},
        },
    )
    code, body = gate(repo, at)
    assert code == 1
    assert [f["rule"] for f in body["findings"]] == ["calendar.collision"], body["findings"]
    reliability.row(
        "gate under an RFC with a daily window while another RFC of the system is planned tonight",
        "collision hidden behind an undated plan",
        "calendar.collision blocks (grade 1)",
    )


def test_periods_the_calendar_cannot_answer_are_usage_errors(repo: GitRepo, reliability: Recorder) -> None:
    world(repo, [_rfc("RFC-2026-0042", schedule={"window": "2026-12-08 19:00-22:00"})])
    for args in (["--from", "9999-12-31"], ["--from", "8999-12-01", "--to", "8999-12-31"]):
        result = run_cli(["calendar", *args], cwd=repo.path, now=NOW)
        assert result.code == 2, result.stdout + result.stderr
        assert "Traceback" not in result.stderr and "fix:" in result.stderr, result.stderr
    result = run_cli(["--format", "json", "calendar"], cwd=repo.path, now=datetime(2026, 12, 1, tzinfo=UTC))
    assert json.loads(result.stdout)["changes"][0]["rfc"] == "RFC-2026-0042"
    reliability.row(
        "calendar --from 9999-12-31, or a period without holiday data",
        "date at the edge of what the calendar can answer",
        "exit 2 (en/ko)",
    )
