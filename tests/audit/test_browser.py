"""The HTML audit report as a person sees it: opened in headless Chromium (Debian's `chromium`, installed by
`make test`), screenshotted into test-artifacts/, its rendered DOM checked for the checklist, the KPI table
and the charts, and printed to PDF on A4."""

from __future__ import annotations

import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from gatekeeper.checks.audit import ITEMS
from tests.audit.conftest import AuditRepo
from tests.audit.test_reports import write_report

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
A4_POINTS = (595, 842)

pytestmark = pytest.mark.browser


def _chromium() -> str:
    found = shutil.which("chromium") or shutil.which("chromium-browser")
    if not found:
        pytest.fail(
            "chromium is not installed; `make test` installs it (.ci/install-system-deps.sh)", pytrace=False
        )
    return found


def _run(profile: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    command = [_chromium(), *FLAGS, f"--user-data-dir={profile}", *args]
    result = subprocess.run(command, capture_output=True, timeout=180)
    assert result.returncode == 0, result.stderr.decode(errors="replace")[-2000:]
    return result


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_report_renders_in_chromium(audit_repo: AuditRepo, tmp_path: Path, lang: str) -> None:
    write_report(audit_repo, lang)
    url = (audit_repo.path / "report.html").as_uri()
    ARTIFACTS.mkdir(exist_ok=True)
    shot = ARTIFACTS / f"audit-report.{lang}.png"
    shot.unlink(missing_ok=True)
    _run(
        tmp_path / "profile-shot", "--hide-scrollbars", "--window-size=1100,2600", f"--screenshot={shot}", url
    )
    png = shot.read_bytes()
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", png[16:24])
    assert (width, height) == (1100, 2600)
    assert len(png) > 100_000, "the screenshot is (nearly) blank"

    dom = _run(tmp_path / "profile-dom", "--dump-dom", url).stdout.decode("utf-8")
    assert len(re.findall(r'<tr class="item"', dom)) == len(ITEMS)
    assert len(re.findall(r'data-result="nonconform"', dom)) == 9
    assert len(re.findall(r'<tr class="kpi"', dom)) == 14
    assert len(re.findall(r"<svg\b", dom)) == 3
    assert len(re.findall(r'<rect class="bar"', dom)) == 6
    assert ("부적합" if lang == "ko" else "Nonconform") in dom

    pdf = tmp_path / "report.pdf"
    _run(tmp_path / "profile-pdf", "--no-pdf-header-footer", f"--print-to-pdf={pdf}", url)
    data = pdf.read_bytes()
    pages = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)
    assert 1 <= len(pages) <= 6
    assert all(round(float(w)) == A4_POINTS[0] and round(float(h)) == A4_POINTS[1] for w, h in pages)
    shutil.copy(pdf, ARTIFACTS / f"audit-report.{lang}.pdf")
