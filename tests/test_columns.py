"""Columns by display width: Korean rows line up with English ones in every text table."""

from __future__ import annotations

import pytest

from gatekeeper.reporters.columns import pad, width


@pytest.mark.parametrize(
    ("text", "columns"),
    [("error", 5), ("오류", 4), ("부적합", 6), ("mixed 변경", 10), ("", 0), ("e\u0301", 1), ("\x1b", 1)],
)
def test_width_counts_display_columns(text: str, columns: int) -> None:
    assert width(text) == columns


def test_padded_korean_and_english_cells_end_in_the_same_column() -> None:
    rows = [pad(word, 10) + "|" for word in ("conform", "적합", "부적합", "not-applicable"[:10])]
    assert {width(row) for row in rows} == {11}
    assert pad("12", 5, right=True) == "   12"
    assert pad("너무 긴 셀입니다", 4) == "너무 긴 셀입니다"  # never cut: a long cell pushes the row instead
