"""`gatekeeper demo` tells the whole story on the bundled sample system; every step checks its own outcome
(DemoFailed if a refusal, a block or a detection does not happen), so running it is the test."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest

from gatekeeper.demo import STEPS, run_demo


@pytest.mark.slow
def test_the_demo_story_runs_end_to_end(tmp_path: Path) -> None:
    out = io.StringIO()
    report = run_demo(tmp_path / "demo", out, lang="en")
    text = out.getvalue()
    assert f"[{len(STEPS)}/{len(STEPS)}]" in text
    assert report.is_file()
    html = report.read_text(encoding="utf-8")
    assert "<svg" in html and "RFC-2026-0001" in html
    # The refused commit, the business-hours block and the tamper detection are all in the transcript.
    assert "commit.rfc-missing" in text
    assert "window.business-hours" in text
    assert "deploy.concurrent" in text
    assert "ledger BROKEN at seq 3" in text
    # The release is closed after its production tests, the requester's acceptance and the review; the
    # developer's own closure is refused.
    assert "recorded change.closed" in text and "this closure would not count" in text
    # The origin's ledger branch holds the records the story wrote.
    # A conform checklist next to unmet KPIs is explained, with the KPIs the story misses.
    assert "Reading the two together" in text
    assert "KPI not met: deployment-success-rate = 50 %, target >= 98 (1/2)" in text
    # The checklist summarised is the auditor's own, shown above it: every item conform.
    assert re.search(r"checklist: \d+ conform, 0 nonconform", text), text[-3000:]
    # The story's runner keeps its state in the workspace: a second run in the same place starts afresh
    # (never meets the first run's checkpoint of a ledger it has rebuilt).
    assert (tmp_path / "demo" / "runner-state" / "gatekeeper").is_dir()
    again = io.StringIO()
    run_demo(tmp_path / "demo", again)
    assert f"[{len(STEPS)}/{len(STEPS)}]" in again.getvalue()
    # Without a language chosen, the sample's pack (`kr-ap-sop`) speaks Korean.
    assert "미달" in again.getvalue() and "ledger BROKEN" not in again.getvalue()
    # The git history keeps the story's clock: the hand-over on Friday 20 November, the changes after it.
    dates = _git_log(tmp_path / "demo" / "minwon-portal", "%aI %cI %s", "main").splitlines()
    assert (
        dates[-1]
        == "2026-11-20T16:30:00+09:00 2026-11-20T16:30:00+09:00 Hand-over of 민원포털 1.0 (baseline)"
    )
    assert all(line.startswith("2026-11-2") for line in dates), dates
    ledger_dates = _git_log(tmp_path / "demo" / "origin.git", "%cI", "gatekeeper/ledger").split()
    assert ledger_dates and all(d.startswith(("2026-11-2", "2026-11-30")) for d in ledger_dates), ledger_dates
    heads = tmp_path / "demo" / "origin.git" / "refs" / "heads" / "gatekeeper" / "ledger"
    assert (
        heads.is_file()
        or "gatekeeper/ledger" in (tmp_path / "demo" / "origin.git" / "packed-refs").read_text()
    )


def _git_log(repo: Path, form: str, ref: str) -> str:
    return subprocess.run(
        ["git", "log", f"--format={form}", ref], cwd=repo, capture_output=True, text=True, check=True
    ).stdout
