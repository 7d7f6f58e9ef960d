"""The organisation report as a person sees it: `audit --system all --html` opened in headless Chromium,
screenshotted into test-artifacts/, its rendered DOM checked for the systems × items grid, the KPIs per
system with totals, the monthly trends and the overdue debts."""

from __future__ import annotations

import re
import struct
from pathlib import Path

import pytest

from gatekeeper.checks.audit import ITEMS
from tests.audit.conftest import AUDIT_AT, AuditRepo
from tests.audit.test_browser import ARTIFACTS, _run
from tests.helpers import run_cli
from tests.portfolio.world import HR, OWN, WATER

pytestmark = pytest.mark.browser


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_organisation_report_renders_in_chromium(world: AuditRepo, tmp_path: Path, lang: str) -> None:
    page = world.path / "org.html"
    result = run_cli(
        [
            "--lang",
            lang,
            "audit",
            "--system",
            "all",
            "--no-record",
            "--since",
            "2026-10-01",
            "--html",
            str(page),
        ],
        cwd=world.path,
        now=AUDIT_AT,
    )
    assert result.code == 1, result.stderr
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"organisation-report.{lang}.png"
    shot.unlink(missing_ok=True)
    url = page.as_uri()
    _run(
        tmp_path / "profile-shot", "--hide-scrollbars", "--window-size=1280,1800", f"--screenshot={shot}", url
    )
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert struct.unpack(">II", png[16:24]) == (1280, 1800)
    assert len(png) > 60_000, "the screenshot is (nearly) blank"

    dom = _run(tmp_path / "profile-dom", "--dump-dom", url).stdout.decode("utf-8")
    systems = re.findall(r'<tr class="system" data-system="([^"]+)" data-result="(\w+)"', dom)
    assert systems == [(HR, "nonconform"), (OWN, "nonconform"), (WATER, "nonconform")]
    assert len(re.findall(r'<td class="cell (?:conform|nonconform|not-applicable)"', dom)) == 3 * len(ITEMS)
    assert len(re.findall(r'<tr class="kpi-system"', dom)) == 3
    assert len(re.findall(r'<tr class="trend"', dom)) == 3
    assert re.search(rf'<tr class="debt" data-system="{OWN}" data-item="change.pir"', dom)
    assert not re.search(rf'<tr class="debt" data-system="{HR}" data-item="change.pir"', dom)  # had its PIR
    assert re.search(rf'<tr class="debt" data-system="{HR}" data-item="release.closure"', dom)  # not closed
    assert ("부적합" if lang == "ko" else "NONCONFORM") in dom
