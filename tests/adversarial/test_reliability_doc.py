"""docs/reliability.md: generated from the run's results, and it reports no lost records."""

from __future__ import annotations

import re

from tests.adversarial.reliability import DOC, render


def test_the_table_is_rendered_from_results() -> None:
    results = {
        "profile": "ci",
        "rows": [
            {
                "test": "t::a",
                "section": "forgery",
                "input": "a | b",
                "fault": "forgery",
                "outcome": "exit 1",
                "lost": 0,
                "result": "passed",
            },
            {
                "test": "t::b",
                "section": "forgery",
                "input": "c",
                "fault": "forgery",
                "outcome": "block",
                "lost": 0,
                "result": "xfail",
            },
        ],
    }
    text = render(results)
    assert "## 3. Forgery and separation of duties" in text
    assert "| a \\| b | forgery | exit 1 | 0 | passed |" in text
    assert "known gap (xfail)" in text and "- `t::b`" in text
    assert "**records lost: 0**" in text


def test_the_committed_page_reports_no_lost_records() -> None:
    text = DOC.read_text(encoding="utf-8")
    assert "**records lost: 0**" in text
    rows = [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| input")]
    assert len(rows) > 50
    assert all(re.search(r"\| 0 \| [^|]+ \|$", row) for row in rows), [r for r in rows if "| 0 |" not in r]
    assert "| failed |" not in text
