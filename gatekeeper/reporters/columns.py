"""Text columns that line up in a terminal: widths by display columns (a Hangul syllable takes two), not by
characters, as `str.ljust` and format specs count them."""

from __future__ import annotations


def width(text: str) -> int:
    """The columns `text` takes in a terminal (wcwidth); characters it cannot measure count one each."""
    from wcwidth import wcswidth

    measured = wcswidth(text)
    if measured >= 0:
        return int(measured)
    return sum(max(wcswidth(ch), 1) for ch in text)


def pad(text: str, columns: int, *, right: bool = False) -> str:
    """`text` filled with spaces to `columns` display columns (left-aligned, or right with `right`)."""
    fill = " " * max(columns - width(text), 0)
    return fill + text if right else text + fill
