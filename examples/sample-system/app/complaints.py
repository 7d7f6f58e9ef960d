"""Validation of complaint submissions (민원 신청)."""

from __future__ import annotations

import re

PHONE = re.compile(r"^01[016789]-?\d{3,4}-?\d{4}$")


def validate(title: str, body: str, phone: str) -> list[str]:
    """Return the list of problems with a submission; empty when it may be accepted."""
    problems = []
    if not title.strip():
        problems.append("title is empty")
    if len(body.strip()) < 10:
        problems.append("body is shorter than 10 characters")
    if not PHONE.match(phone):
        problems.append("phone number is not a Korean mobile number")
    return problems
