"""`gatekeeper calendar`: the forward schedule of change of one system or of every system the repository's
RFC store and ledger know, with holidays, freezes and collisions; text, JSON, HTML month view and an
iCalendar file parsed back with `icalendar`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml

from gatekeeper.config import load_config
from gatekeeper.ledger import Draft
from gatekeeper.ledger.backends import open_ledger
from gatekeeper.reporters.columns import width
from tests.acceptance import CONFIG, RFC
from tests.helpers import GitRepo, run_cli

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)  # Tuesday 2026-12-01 12:00 KST


def _rfc(rfc_id: str, **extra: Any) -> dict[str, Any]:
    body = {**RFC, "id": rfc_id, **extra}
    return body


def world(repo: GitRepo, rfcs: list[dict[str, Any]], **config: Any) -> GitRepo:
    repo.write(".gatekeeper.yml", yaml.safe_dump({**CONFIG, **config}, allow_unicode=True))
    for body in rfcs:
        repo.write(f"changes/{body['id']}.yml", yaml.safe_dump(body, allow_unicode=True))
    repo.commit("RFC-2026-0042 변경 일정 시험용 저장소를 만든다")
    return repo


SAME_EVENING = [
    _rfc("RFC-2026-0042", schedule={"window": "2026-12-08 19:00-22:00"}),
    _rfc("RFC-2026-0043", title="배치 작업 변경", schedule={"window": "2026-12-08 21:00-23:00"}),
    _rfc("RFC-2026-0044", title="다음날 변경", schedule={"window": "2026-12-09 20:00-21:00"}),
    _rfc(
        "RFC-2026-0045",
        title="새올 연계 변경",
        systems=["saeol"],
        impact={"integrations": ["minwon-portal"]},
        schedule={"requested_at": "2026-12-08T22:30:00+09:00"},
    ),
    _rfc("RFC-2026-0046", title="매일 창", schedule={"window": "22:00-23:00"}),
    _rfc("RFC-2026-0047", title="취소됨", status="cancelled", schedule={"window": "2026-12-08 19:00-22:00"}),
]


def _json(repo: GitRepo, *args: str) -> tuple[int, dict[str, Any]]:
    result = run_cli(["--format", "json", "calendar", *args], cwd=repo.path, now=NOW)
    assert result.code in (0, 1), result.stderr
    return result.code, json.loads(result.stdout)


def test_collisions_of_the_same_system_and_of_a_linked_system_are_findings(repo: GitRepo) -> None:
    world(repo, SAME_EVENING)
    code, body = _json(repo, "--from", "2026-12-01", "--to", "2026-12-31")
    assert code == 1 and body["ok"] is False
    assert [c["rfc"] for c in body["changes"]] == [
        "RFC-2026-0042",
        "RFC-2026-0043",
        "RFC-2026-0045",
        "RFC-2026-0044",
    ]
    pairs = {tuple(c["rfcs"]): c["shared"] for c in body["collisions"]}
    assert pairs == {
        ("RFC-2026-0042", "RFC-2026-0043"): [{"kind": "system", "name": "minwon-portal"}],
        ("RFC-2026-0043", "RFC-2026-0045"): [{"kind": "linked", "name": "minwon-portal"}],
    }
    assert {f["rule"] for f in body["findings"]} == {"calendar.collision"}
    assert {f["severity"] for f in body["findings"]} == {"error"}
    assert [u["rfc"] for u in body["unscheduled"]] == ["RFC-2026-0046"]  # a daily window without a date


def test_holidays_weekends_and_freezes_are_drawn(repo: GitRepo) -> None:
    freeze = [{"name": "연말 동결", "start": "2026-12-24T00:00:00+09:00", "end": "2026-12-26T00:00:00+09:00"}]
    world(repo, SAME_EVENING[:1], freeze=freeze)
    code, body = _json(repo, "--from", "2026-12-20", "--to", "2026-12-27")
    assert code == 0
    days = {d["date"]: d for d in body["days"]}
    assert days["2026-12-25"]["business"] is False and days["2026-12-25"]["reason_ko"] == "기독탄신일"
    assert days["2026-12-24"]["freezes"] == ["연말 동결"] and days["2026-12-24"]["business"] is True
    assert days["2026-12-20"]["reason"] == "Sunday"
    assert body["business_hours"] == {"start": "09:00", "end": "18:00"}


def test_a_change_planned_in_business_hours_is_marked(repo: GitRepo) -> None:
    world(repo, [_rfc("RFC-2026-0042", schedule={"window": "2026-12-08 10:00-11:00"})])
    _, body = _json(repo, "--from", "2026-12-01", "--to", "2026-12-31")
    assert body["changes"][0]["in_business_hours"] is True


def test_system_filter_all_and_other_systems(repo: GitRepo) -> None:
    world(repo, SAME_EVENING)
    _, mine = _json(repo, "--from", "2026-12-01", "--to", "2026-12-31")
    _, saeol = _json(repo, "--from", "2026-12-01", "--to", "2026-12-31", "--system", "saeol")
    _, every = _json(repo, "--from", "2026-12-01", "--to", "2026-12-31", "--system", "all")
    assert mine["systems"] == ["minwon-portal"]
    assert [c["rfc"] for c in saeol["changes"]] == ["RFC-2026-0045"]
    assert [c["rfcs"] for c in saeol["collisions"]] == [["RFC-2026-0043", "RFC-2026-0045"]]
    assert every["systems"] == ["minwon-portal", "saeol"]
    assert len(every["changes"]) == 4


def test_the_ledger_tells_of_other_systems_deployments(repo: GitRepo) -> None:
    """An agency's systems may share one ledger: their deployments are drawn, and their IDs are known."""
    world(repo, SAME_EVENING[:1])
    ledger = open_ledger(load_config(repo.path / ".gatekeeper.yml"), repo.path, {})
    try:
        ledger.append(
            Draft(
                kind="deployment.started",
                system="hompage",
                rfcs=("RFC-2026-0100",),
                actor="ci",
                actor_source="local",
                at=datetime.fromisoformat("2026-12-02T20:00:00+09:00"),
                data={"environment": "production", "change_type": "normal", "commit": "a" * 40},
            )
        )
    finally:
        ledger.close()
    _, body = _json(repo, "--from", "2026-12-01", "--to", "2026-12-31", "--system", "hompage")
    assert [(d["system"], d["rfcs"], d["result"]) for d in body["deployments"]] == [
        ("hompage", ["RFC-2026-0100"], "in-progress")
    ]
    _, every = _json(repo, "--from", "2026-12-01", "--to", "2026-12-31", "--system", "all")
    assert "hompage" in every["systems"]


@pytest.mark.parametrize(
    ("args", "en", "ko"),
    [
        (["--system", "nowhere"], "no such system", "없는 시스템"),
        (["--from", "2026-12-10", "--to", "2026-12-01"], "is not after --from", "앞섭니다"),
        (["--from", "2026-13-01"], "is not a date", "날짜나"),
        (["--to", "tomorrow"], "is not a date", "날짜나"),
        (["--from", "2026-01-01", "--to", "2027-12-31"], "longer than 366 days", "기간이"),
        (["-o", "out.pdf"], "neither .html nor .ics", ".html 또는 .ics"),
    ],
)
def test_bad_input_is_a_usage_error_in_both_languages(
    repo: GitRepo, args: list[str], en: str, ko: str
) -> None:
    world(repo, SAME_EVENING[:1])
    english = run_cli(["calendar", *args], cwd=repo.path, now=NOW)
    korean = run_cli(["--lang", "ko", "calendar", *args], cwd=repo.path, now=NOW)
    assert (english.code, korean.code) == (2, 2)
    assert en in english.stderr and ko in korean.stderr
    assert "Traceback" not in english.stderr + korean.stderr


def test_text_columns_line_up_by_display_width(repo: GitRepo) -> None:
    world(repo, SAME_EVENING)
    result = run_cli(
        ["--lang", "ko", "calendar", "--from", "2026-12-01", "--to", "2026-12-31"], cwd=repo.path, now=NOW
    )
    lines = result.stdout.splitlines()
    table = lines[1:5]
    starts = {width(line[: line.index("RFC-2026-004")]) for line in table[1:]}
    assert len(starts) == 1, table
    assert "일정 중복" in result.stdout and "변경 일정" in lines[0]
    title_at = {
        width(line[: line.index(t)]) for line, t in zip(table[1:], ["민원", "배치", "새올"], strict=True)
    }
    assert len(title_at) == 1, table


def test_default_period_starts_today_from_the_injected_clock(repo: GitRepo) -> None:
    world(repo, [_rfc("RFC-2026-0042", schedule={"window": "2026-12-08 19:00-22:00"})])
    _, body = _json(repo)
    assert body["period"] == {"from": "2026-12-01T00:00+09:00", "to": "2027-01-12T00:00+09:00"}
    assert [c["rfc"] for c in body["changes"]] == ["RFC-2026-0042"]


def test_ics_parses_back_with_every_change_freeze_and_holiday(repo: GitRepo) -> None:
    from icalendar import Calendar

    freeze = [{"name": "연말 동결", "cron": "0 0 24 12 *", "duration_hours": 48}]
    world(repo, SAME_EVENING, freeze=freeze)
    result = run_cli(
        ["calendar", "--from", "2026-12-01", "--to", "2026-12-31", "--system", "all", "-o", "changes.ics"],
        cwd=repo.path,
        now=NOW,
    )
    assert result.code == 1, result.stderr
    book = Calendar.from_ical((repo.path / "changes.ics").read_bytes())
    events = {str(e["uid"]): e for e in book.walk("VEVENT")}
    first = events["RFC-2026-0042@gatekeeper"]
    assert first.decoded("dtstart") == datetime(2026, 12, 8, 10, 0, tzinfo=UTC)
    assert first.decoded("dtend") == datetime(2026, 12, 8, 13, 0, tzinfo=UTC)
    assert "RFC-2026-0043" in str(first["description"]) and "동일 시스템" in str(first["description"])
    assert str(first["x-gatekeeper-collision"]) == "RFC-2026-0043"
    assert "x-gatekeeper-collision" not in events["RFC-2026-0044@gatekeeper"]
    freezes = [e for uid, e in events.items() if uid.startswith("freeze-")]
    assert [str(e["summary"]) for e in freezes] == ["배포 동결 Freeze: 연말 동결"]
    assert "holiday-2026-12-25@gatekeeper" in events
    assert str(book["x-wr-timezone"]) == "Asia/Seoul"


def test_html_month_view_is_self_contained_and_korean_first(repo: GitRepo) -> None:
    world(repo, SAME_EVENING)
    result = run_cli(
        ["--lang", "ko", "calendar", "--from", "2026-12-01", "--to", "2026-12-31", "-o", "cal.html"],
        cwd=repo.path,
        now=NOW,
    )
    assert result.code == 1, result.stderr
    page = (repo.path / "cal.html").read_text(encoding="utf-8")
    assert page.index("변경 일정") < page.index("Change calendar")
    assert '<html lang="ko">' in page and "2026년 12월" in page
    assert "<script" not in page and "http" not in page.replace("http-equiv", "")
    assert page.count('class="ev collide normal"') == 3  # 0042, 0043 and the linked 0045
    assert "기독탄신일" in page


@pytest.mark.browser
def test_html_month_view_renders_in_chromium(repo: GitRepo, tmp_path: Path) -> None:
    import shutil
    import subprocess

    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.fail("chromium is not installed; `make test` installs it", pytrace=False)
    world(repo, SAME_EVENING)
    run_cli(
        ["calendar", "--from", "2026-12-01", "--to", "2026-12-31", "-o", "cal.html"], cwd=repo.path, now=NOW
    )
    artifacts = Path(__file__).resolve().parents[2] / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    shot = artifacts / "change-calendar.png"
    shot.unlink(missing_ok=True)
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
    ]
    url = (repo.path / "cal.html").as_uri()
    done = subprocess.run(
        [
            browser,
            *flags,
            f"--user-data-dir={tmp_path / 'p1'}",
            "--hide-scrollbars",
            "--window-size=1200,1000",
            f"--screenshot={shot}",
            url,
        ],
        capture_output=True,
        timeout=180,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    dom = subprocess.run(
        [browser, *flags, f"--user-data-dir={tmp_path / 'p2'}", "--dump-dom", url],
        capture_output=True,
        timeout=180,
    ).stdout.decode("utf-8")
    assert dom.count("<table") == 1 and "RFC-2026-0043" in dom


def test_the_sweep_finds_exactly_the_pairs_a_pairwise_check_finds() -> None:
    """`collisions` (one sweep per key) agrees with checking every pair (`collision_between`)."""
    import random
    from datetime import timedelta

    from gatekeeper.domain.changecal import Slot, collision_between, collisions

    pick = random.Random(3)
    base = datetime(2027, 1, 4, 19, tzinfo=UTC)
    slots = []
    for n in range(300):
        start = base + timedelta(minutes=30 * pick.randrange(40))
        slots.append(
            Slot(
                f"RFC-{n:04d}",
                "t",
                "normal",
                (f"s{pick.randrange(8)}",),
                (f"s{pick.randrange(8)}",) if pick.random() < 0.3 else (),
                (f"ci{pick.randrange(5)}",) if pick.random() < 0.2 else (),
                start,
                start + timedelta(minutes=30 * pick.randint(1, 4)),
                "",
            )
        )
    swept = {(c.first.rfc_id, c.second.rfc_id): c.reasons for c in collisions(slots)}
    pairwise = {
        (c.first.rfc_id, c.second.rfc_id): c.reasons
        for i, a in enumerate(slots)
        for b in slots[i + 1 :]
        if (c := collision_between(a, b)) is not None
    }
    assert swept == pairwise and len(swept) > 50
