"""`gatekeeper demo` tells the whole story on the bundled sample system; every step checks its own outcome
(DemoFailed if a refusal, a block or a detection does not happen), so running it is the test."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from gatekeeper.demo import STEPS, run_demo


@pytest.mark.slow
def test_the_demo_story_runs_end_to_end(tmp_path: Path) -> None:
    out = io.StringIO()
    report = run_demo(tmp_path / "demo", out)
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
    # The origin's ledger branch holds the records the story wrote.
    heads = tmp_path / "demo" / "origin.git" / "refs" / "heads" / "gatekeeper" / "ledger"
    assert (
        heads.is_file()
        or "gatekeeper/ledger" in (tmp_path / "demo" / "origin.git" / "packed-refs").read_text()
    )
