"""Planned windows (`domain.schedule`), the standard-change catalogue (`domain.standard`, the catalogue
model) and what the commits of a standard change touch (`facts.standard.change_size`)."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from gatekeeper.config import load_rfc
from gatekeeper.config.models import ConfigurationItem, Rfc, StandardCatalogue
from gatekeeper.domain import ChangeType
from gatekeeper.domain.rfc import RfcEntry
from gatekeeper.domain.schedule import parse_window, window_start
from gatekeeper.domain.standard import ChangeSize, check_standard, effective_types
from gatekeeper.errors import ConfigError
from gatekeeper.facts.standard import change_size
from tests.acceptance import RFC
from tests.helpers import GitRepo

SEOUL = ZoneInfo("Asia/Seoul")


def kst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SEOUL)


@pytest.mark.parametrize(
    ("window", "inside", "outside"),
    [
        ("19:00-21:00", ["2026-11-24T19:00", "2026-11-24T20:59"], ["2026-11-24T21:00", "2026-11-24T18:59"]),
        ("23:00~02:00", ["2026-11-24T23:30", "2026-11-25T01:59"], ["2026-11-25T02:00", "2026-11-24T22:59"]),
        ("22:00–24:00", ["2026-11-24T23:59"], ["2026-11-25T00:00"]),
        ("2026-11-24 22:00-01:00", ["2026-11-25T00:30"], ["2026-11-25T22:30", "2026-11-23T22:30"]),
        (
            "2026-11-24T20:00+09:00/2026-11-24T12:00Z",
            ["2026-11-24T20:00", "2026-11-24T20:59"],
            ["2026-11-24T21:00", "2026-11-24T19:59"],
        ),
    ],
)
def test_windows_contain_what_they_plan(window: str, inside: list[str], outside: list[str]) -> None:
    planned = parse_window(window)
    assert planned is not None
    for moment in inside:
        assert planned.contains(kst(moment), SEOUL), moment
    for moment in outside:
        assert not planned.contains(kst(moment), SEOUL), moment


def test_an_empty_window_plans_nothing_and_the_next_start_is_found() -> None:
    assert parse_window("  ") is None
    planned = parse_window("22:00-23:00")
    assert planned is not None
    assert window_start(planned, kst("2026-11-24T23:30"), SEOUL) == kst("2026-11-25T22:00")


@pytest.mark.parametrize(
    ("window", "fragment"),
    [
        ("야간", "not a window gatekeeper reads"),
        ("25:00-26:00", "not a window"),
        ("20:00-20:00", "same time"),
        ("2026-02-30 20:00-21:00", "not a date"),
        ("2026-11-24T20:00/2026-11-24T21:00", "offset"),
        ("2026-11-24T21:00+09:00/2026-11-24T20:00+09:00", "ends before it starts"),
        ("9" * 500, "at most 100 characters"),
    ],
)
def test_an_rfc_window_gatekeeper_cannot_read_is_an_rfc_error(
    tmp_path: Path, window: str, fragment: str
) -> None:
    import yaml

    path = tmp_path / "RFC-2026-0042.yml"
    path.write_text(
        yaml.safe_dump({**RFC, "schedule": {"window": window}}, allow_unicode=True), encoding="utf-8"
    )
    with pytest.raises(ConfigError) as caught:
        load_rfc(path)
    message = caught.value.render()
    assert "schedule.window" in message and fragment in message, message


CATALOGUE = StandardCatalogue.model_validate(
    {
        "version": 1,
        "changes": [
            {
                "id": "STD-ACCOUNT",
                "title": "계정 관리",
                "systems": ["minwon-portal"],
                "paths": ["accounts/*.yml"],
                "items": ["firewall"],
                "max_files": 2,
                "max_lines": 10,
                "window": "18:00-08:00",
                "report_to": ["agency-officer", "park"],
            }
        ],
    },
    strict=False,
)
ITEMS = (ConfigurationItem(id="firewall", kind="environment", paths=("infra/firewall/**/*.conf",)),)


def _entry(template: str) -> RfcEntry:
    body = {**RFC, "type": "standard", "standard_template": template}
    return RfcEntry("RFC-2026-0042", "changes/RFC-2026-0042.yml", Rfc.model_validate(body, strict=False))


def _check(template: str, size: ChangeSize, at: str = "2026-11-24T20:00", system: str = "minwon-portal"):  # type: ignore[no-untyped-def]
    return check_standard(
        _entry(template),
        system=system,
        catalogue=CATALOGUE,
        catalogue_path="standard-changes.yml",
        items=ITEMS,
        size=size,
        at=kst(at),
        zone="Asia/Seoul",
    )


def test_a_change_inside_its_entry_holds_paths_and_configuration_items_alike() -> None:
    check = _check("STD-ACCOUNT", ChangeSize(("accounts/kim.yml", "infra/firewall/edge/rules.conf"), 8))
    assert check is not None and check.holds


EVENING, MORNING, OWN = "2026-11-24T20:00", "2026-11-24T10:00", "minwon-portal"
ONE = ("accounts/kim.yml",)


@pytest.mark.parametrize(
    ("size", "at", "system", "fragment"),
    [
        (ChangeSize((*ONE, "app/main.py"), 2), EVENING, OWN, "app/main.py"),
        (ChangeSize(("accounts/a.yml", "accounts/b.yml", "accounts/c.yml"), 3), EVENING, OWN, "max_files 2"),
        (ChangeSize(ONE, 11), EVENING, OWN, "max_lines 10"),
        (ChangeSize(ONE, 1), MORNING, OWN, "18:00-08:00"),
        (ChangeSize(ONE, 1), EVENING, "hometax", "not hometax"),
    ],
)
def test_a_change_leaving_its_entry_says_how(size: ChangeSize, at: str, system: str, fragment: str) -> None:
    check = _check("STD-ACCOUNT", size, at, system)
    assert check is not None and not check.holds
    assert any(fragment in en for en, _ in check.problems), check.problems
    assert all(ko for _, ko in check.problems)


def test_an_unknown_template_or_no_catalogue_makes_the_change_normal() -> None:
    unknown = _check("STD-NOPE", ChangeSize((), 0))
    assert unknown is not None and unknown.entry is None and not unknown.holds
    entry = _entry("STD-NOPE")
    assert effective_types([entry], {entry.id: unknown}) == {entry.id: ChangeType.NORMAL}
    normal = RfcEntry("RFC-2026-0043", "x", Rfc.model_validate({**RFC, "id": "RFC-2026-0043"}, strict=False))
    assert check_standard(
        normal, system="s", catalogue=None, catalogue_path="", items=(), size=ChangeSize((), 0), at=kst(
            "2026-11-24T20:00"), zone="Asia/Seoul"
    ) is None  # fmt: skip


@pytest.mark.parametrize(
    ("entry", "fragment"),
    [
        ({"paths": [], "items": []}, "names the paths or configuration items"),
        ({"paths": ["../etc/*"]}, "leaves the repository"),
        ({"window": "밤"}, "not a window"),
        ({"report_to": []}, "report_to"),
        ({"max_lines": 0}, "max_lines"),
    ],
)
def test_catalogue_entries_are_validated(entry: dict[str, object], fragment: str) -> None:
    from pydantic import ValidationError

    body = {"id": "STD-X", "title": "t", "systems": ["s"], "paths": ["a/*"], "report_to": ["agency-officer"]}
    with pytest.raises(ValidationError, match=fragment.split()[0]):
        StandardCatalogue.model_validate({"version": 1, "changes": [{**body, **entry}]}, strict=False)


def test_a_catalogue_lists_an_entry_once() -> None:
    from pydantic import ValidationError

    body = {"id": "STD-X", "title": "t", "systems": ["s"], "paths": ["a/*"], "report_to": ["agency-officer"]}
    with pytest.raises(ValidationError, match="listed twice"):
        StandardCatalogue.model_validate({"version": 1, "changes": [body, body]}, strict=False)


def test_change_size_counts_files_and_lines_of_the_commits(repo: GitRepo) -> None:
    first = repo.commit("one", files={"a/x.txt": "1\n2\n3\n", "bin.dat": "\0\1\2"})
    second = repo.commit("two", files={"a/x.txt": "1\n2\n", "a/y z.txt": "ok\n"})
    size = change_size(repo.path, [first, second])
    assert set(size.files) >= {"a/x.txt", "a/y z.txt", "bin.dat"}
    assert size.lines >= 3 + 1 + 1


def test_a_standard_change_that_holds_says_whom_to_report_to(repo: GitRepo) -> None:
    import json

    from tests.acceptance import RFC_ID, build
    from tests.helpers import run_cli

    at, _ = build(
        repo,
        {
            "rfc": {"type": "standard", "standard_template": "STD-DB-INDEX"},
            "files": {"db/index/001.sql": "CREATE INDEX a ON b (c);\n"},
        },
    )
    result = run_cli(["--format", "json", "gate", "--rfc", RFC_ID], cwd=repo.path, now=at)
    body = json.loads(result.stdout)
    assert result.code == 0 and body["change_type"] == "standard", body
    assert body["standard_changes"] == [
        {"rfc": RFC_ID, "template": "STD-DB-INDEX", "report_to": ["agency-officer"]}
    ]
