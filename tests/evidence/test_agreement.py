"""Agreement of our counts with the enricomi corpus; differences only where documented."""

from __future__ import annotations

import yaml

from tests.evidence.agreement import CORPUS, DIFFERENCES, DOC, FILES, rows, table


def test_agreement_with_the_corpus() -> None:
    measured = rows()
    report = table(measured)
    print(report)  # the agreement table, visible with `pytest -s` and in the failure report
    disagreements = [r for r in measured if r.verdict == "DISAGREE"]
    assert not disagreements, report
    assert sum(r.verdict == "agree" for r in measured) >= 60


def test_every_listed_difference_is_still_real() -> None:
    listed = set(yaml.safe_load(DIFFERENCES.read_text(encoding="utf-8")))
    used = {r.input for r in rows() if r.verdict == "deliberate"}
    assert listed == used


def test_every_xml_and_trx_file_is_in_the_index() -> None:
    indexed = {r.input for r in rows()}
    on_disk = {
        str(p.relative_to(FILES))
        for p in FILES.rglob("*")
        if p.suffix in {".xml", ".trx"}
        and p.parts[len(FILES.parts)] in {"junit-xml", "nunit", "xunit", "trx", "xml"}
    }
    assert on_disk <= indexed, sorted(on_disk - indexed)
    assert (CORPUS / "LICENSE").exists()


def test_the_documented_table_is_current() -> None:
    assert table(rows()) in DOC.read_text(encoding="utf-8"), "run: python -m tests.evidence.agreement --write"
