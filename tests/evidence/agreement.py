"""Measure our parsers against the enricomi corpus (EXPECTED_INDEX.json) and render the agreement table.

`python -m tests.evidence.agreement --write` regenerates the table in docs/evidence-formats.md; the test
`test_agreement.py` checks that the table there is current and that every difference is a listed one.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

import yaml

from gatekeeper.adapters.evidence import parse_report
from gatekeeper.errors import InputError

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "tests" / "corpora" / "test-results" / "enricomi"
FILES = CORPUS / "python" / "test" / "files"
DIFFERENCES = Path(__file__).with_name("deliberate_differences.yaml")
DOC = ROOT / "docs" / "evidence-formats.md"
XML_FORMATS = {"junit-xml", "nunit", "trx", "xunit", "xml"}
BEGIN, END = (
    "<!-- agreement:begin (generated: python -m tests.evidence.agreement --write) -->",
    "<!-- agreement:end -->",
)
COLUMNS = ("suites", "runs", "runs_succ", "runs_skip", "runs_fail", "runs_error")

Counts = tuple[int, ...] | str  # counts, or "refused"


@dataclass(frozen=True)
class Row:
    input: str
    format: str
    expected: Counts
    ours: Counts
    verdict: str  # agree | deliberate | DISAGREE


def measure(path: Path) -> Counts:
    try:
        s = parse_report(path)
    except InputError:
        return "refused"
    return (s.suites, s.tests, s.passed, s.skipped, s.failed, s.errors)


def rows() -> list[Row]:
    index = json.loads((CORPUS / "EXPECTED_INDEX.json").read_text(encoding="utf-8"))
    differences = yaml.safe_load(DIFFERENCES.read_text(encoding="utf-8"))
    out = []
    for entry in index:
        if entry["format"] not in XML_FORMATS or not entry.get("input"):
            continue
        refused = entry.get("expected_exception") or entry.get("parse_errors")
        expected: Counts = "refused" if refused else tuple(int(entry[c]) for c in COLUMNS)
        ours = measure(FILES / entry["input"])
        listed = differences.get(entry["input"])
        listed_ours = (
            None
            if listed is None
            else (listed["ours"] if listed["ours"] == "refused" else tuple(listed["ours"]))
        )
        if ours == expected:
            verdict = "agree"
        elif listed_ours is not None and ours == listed_ours:
            verdict = "deliberate"
        else:
            verdict = "DISAGREE"
        out.append(Row(entry["input"], entry["format"], expected, ours, verdict))
    return out


def _cell(counts: Counts) -> str:
    return counts if isinstance(counts, str) else " / ".join(str(c) for c in counts)


def table(measured: list[Row]) -> str:
    agree = sum(r.verdict == "agree" for r in measured)
    deliberate = sum(r.verdict == "deliberate" for r in measured)
    lines = [
        BEGIN,
        f"{len(measured)} corpus entries measured: {agree} agree, {deliberate} differ deliberately, "
        f"{len(measured) - agree - deliberate} disagree.",
        "",
        "Counts: suites / tests / passed / skipped / failed / errors; the corpus side is its `runs` columns.",
        "",
        "| file | format | corpus (runs) | gatekeeper | verdict |",
        "|---|---|---|---|---|",
    ]
    lines += [
        f"| `{r.input}` | {r.format} | {_cell(r.expected)} | {_cell(r.ours)} | {r.verdict} |"
        for r in measured
    ]
    lines.append(END)
    return "\n".join(lines)


def write_doc() -> None:
    text = DOC.read_text(encoding="utf-8")
    start, stop = text.index(BEGIN), text.index(END) + len(END)
    DOC.write_text(text[:start] + table(rows()) + text[stop:], encoding="utf-8")


if __name__ == "__main__":
    if "--write" in sys.argv[1:]:
        write_doc()
    else:
        print(table(rows()))
