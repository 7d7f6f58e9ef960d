"""The HTML audit report as a person sees it: opened in headless Chromium (Debian's `chromium`, installed by
`make test`), screenshotted into test-artifacts/, its rendered DOM checked for the checklist, the KPI table
and the charts, and printed to PDF on A4."""

from __future__ import annotations

import json
import re
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from gatekeeper.checks.audit import ITEMS
from gatekeeper.domain.catalogue import KPI_CATALOGUE
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
    assert len(re.findall(r'data-result="nonconform"', dom)) == 12
    assert len(re.findall(r'<tr class="kpi"', dom)) == len(KPI_CATALOGUE)  # every KPI of the catalogue
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


@pytest.mark.parametrize("lang", ["ko", "en"])
def test_a_form_prints_to_a_pdf_a_person_can_submit(audit_repo: AuditRepo, tmp_path: Path, lang: str) -> None:
    """`report form … --pdf`: the release plan on A4, with its 결재란 and the ledger head it was made from;
    its first page rendered to PNG (pdftoppm) and kept in test-artifacts/ to be looked at."""
    from tests.audit.conftest import AUDIT_AT
    from tests.helpers import run_cli

    args = ["--lang", lang, "report", "form", "release-plan", "RFC-2026-0004", "--pdf", "-o", "plan.pdf"]
    result = run_cli(args, cwd=audit_repo.path, now=AUDIT_AT, env={"PATH": "/usr/bin:/bin"})
    assert result.code == 0, result.stdout + result.stderr
    pdf = audit_repo.path / "plan.pdf"
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF-")
    pages = re.findall(rb"/MediaBox \[0 0 ([\d.]+) ([\d.]+)\]", data)
    assert 1 <= len(pages) <= 3
    assert all(round(float(w)) == A4_POINTS[0] and round(float(h)) == A4_POINTS[1] for w, h in pages)
    ARTIFACTS.mkdir(exist_ok=True)
    shutil.copy(pdf, ARTIFACTS / f"release-plan.{lang}.pdf")
    stem = tmp_path / "page"
    subprocess.run(["pdftoppm", "-png", "-r", "60", "-f", "1", "-l", "1", str(pdf), str(stem)], check=True)
    (png,) = tmp_path.glob("page*.png")
    image = png.read_bytes()
    assert image[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", image[16:24])
    assert (width, height) == (round(A4_POINTS[0] * 60 / 72), round(A4_POINTS[1] * 60 / 72))
    assert len(image) > 15_000, "the first page is (nearly) blank"
    shutil.copy(png, ARTIFACTS / f"release-plan.{lang}.png")
    # The text layer carries the sign-off box and the ledger head.
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, check=True).stdout
    words = text.decode("utf-8")
    assert ("결재" if lang == "ko" else "Sign-off") in words and (
        "1차 승인" if lang == "ko" else "First approval"
    ) in words
    head = json.loads(run_cli(["--format", "json", "ledger", "head"], cwd=audit_repo.path).stdout)
    assert f"{head['seq']}:{head['hash'][:20]}" in words.replace("\n", "")
