"""Reporters: golden files for what people read (text, Markdown) and for the JSON contract, in English and
Korean; untrusted text is neutralised. `GATEKEEPER_UPDATE_GOLDEN=1 pytest tests/test_reporters.py`
rewrites the golden files after a deliberate change (review the diff)."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from gatekeeper.domain import Finding, Outcome, Severity
from gatekeeper.reporters import render_json, render_markdown, render_outcome, render_text
from gatekeeper.reporters.sanitize import for_log, for_markdown

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("GATEKEEPER_UPDATE_GOLDEN") == "1"

OUTCOME = Outcome(
    system="minwon-portal",
    grade=1,
    change_type="normal",
    rfcs=("RFC-2026-0042",),
    findings=(
        Finding(
            rule="window.business-hours",
            severity=Severity.ERROR,
            sop="CHG-P3",
            message="2026-11-24 10:30 KST is inside business hours (weekdays 09:00–18:00)",
            remediation="deploy after 18:00; the next allowed time is 2026-11-24T18:00:00+09:00",
            subject="minwon-portal",
        ),
        Finding(
            rule="commit.rfc-missing",
            severity=Severity.WARNING,
            sop="CFG-P3",
            # A hostile commit subject: workflow command, ANSI repaint, carriage return, HTML, a mention.
            message=(
                "commit a1b2c3d names no RFC: '\n::set-output name=ok::true "
                "\x1b[32mOK\x1b[0m\rfake <b>@team</b>'"
            ),
            remediation="add `RFC-2026-0042` to the subject | or a Refs: trailer",
            subject="a1b2c3d",
        ),
        Finding(
            rule="approval.missing",
            severity=Severity.ERROR,
            sop="CHG-P3, REL-P1",
            message="변경관리위원회(CAB) 승인이 없습니다",
            remediation="`gatekeeper approve RFC-2026-0042 --step cab --decision approve`",
            subject="RFC-2026-0042",
        ),
    ),
)

CASES = [
    ("outcome.en.txt", lambda: render_text(OUTCOME, "en")),
    ("outcome.ko.txt", lambda: render_text(OUTCOME, "ko")),
    ("outcome.en.md", lambda: render_markdown(OUTCOME, "en")),
    ("outcome.ko.md", lambda: render_markdown(OUTCOME, "ko")),
    ("outcome.json", lambda: render_json(OUTCOME)),
]


@pytest.mark.parametrize(("name", "render"), CASES, ids=[c[0] for c in CASES])
def test_golden(name: str, render: object) -> None:
    produced = render()  # type: ignore[operator]
    path = GOLDEN / name
    if UPDATE:
        path.write_text(produced, encoding="utf-8", newline="\n")
    assert path.read_text(encoding="utf-8") == produced, (
        f"{name} changed; rerun with GATEKEEPER_UPDATE_GOLDEN=1"
    )


def test_json_is_the_contract_shape() -> None:
    body = json.loads(render_json(OUTCOME))
    assert list(body) == ["ok", "decision", "system", "grade", "change_type", "rfcs", "findings"]
    assert (body["ok"], body["decision"]) == (False, "block")
    assert list(body["findings"][0]) == ["rule", "severity", "sop", "message", "remediation", "subject"]
    # JSON carries the text unchanged: consumers escape for their own medium.
    assert body["findings"][1]["message"] == OUTCOME.findings[1].message


def test_allowed_outcome_without_findings_or_type() -> None:
    quiet = Outcome(system="minwon-portal", grade=3, change_type="")
    assert render_text(quiet, "en") == "gatekeeper: ALLOWED — minwon-portal (grade 3)\nno findings\n"
    assert render_text(quiet, "ko") == "gatekeeper: 허용 — minwon-portal (등급 3)\n발견 사항 없음\n"
    assert render_markdown(quiet, "en").splitlines()[2] == "**minwon\\-portal** · grade 3"
    assert render_outcome(quiet, "json", "ko") == render_json(quiet)


def test_warnings_alone_allow() -> None:
    warned = Outcome("s", 3, "normal", findings=(OUTCOME.findings[1],))
    assert warned.ok
    assert "ALLOWED" in render_text(warned) and "0 error(s), 1 warning(s)" in render_text(warned)


def _log_lines(text: str) -> list[str]:
    return text.split("\n")


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_text_output_cannot_inject_workflow_commands_or_repaint(lang: str) -> None:
    text = render_text(OUTCOME, lang)
    assert "\x1b" not in text and "\r" not in text
    for line in _log_lines(text):
        assert not line.startswith(("::", "##["))
    assert "\\e[32mOK" in text and "\\r" in text  # visible, not executed


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_markdown_output_escapes_html_and_mentions(lang: str) -> None:
    md = render_markdown(OUTCOME, lang)
    assert "<b>" not in md and "&lt;b&gt;" in md
    assert "@team" not in md and "&#64;team" in md
    assert "\x1b" not in md and "\r" not in md
    table = [line for line in md.splitlines() if line.startswith("| ")]
    assert all(len(re.findall(r"(?<!\\)\|", line)) == 7 for line in table), table  # pipes stay inside cells


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        # The runner trims leading white space before `::` and finds `##[` anywhere: both are defused.
        ("::add-mask::secret", ":\\u003aadd-mask:\\u003asecret"),
        ("  ::error::x", "  :\\u003aerror:\\u003ax"),
        ("x ##[group]x", "x ##\\u005bgroup]x"),
        ("a\n::warning::b", "a\\n:\\u003awarning:\\u003ab"),
        ("a:::b", "a:\\u003a\\u003ab"),
        ("soft\xadhyphen", "soft\\u00adhyphen"),
        ("\x1b[2J\x1b[H", "\\e[2J\\e[H"),
        ("ok\roverwritten", "ok\\roverwritten"),
        ("tab\tsep", "tab sep"),
        ("bidi \u202eevil", "bidi \\u202eevil"),
        ("line\u2028sep", "line\\u2028sep"),
        ("nul\x00", "nul\\u0000"),
        ("한국어 제목", "한국어 제목"),
    ],
)
def test_for_log(raw: str, expected: str) -> None:
    assert for_log(raw) == expected


def test_for_log_keeps_lines_when_asked_but_disarms_each() -> None:
    assert for_log("a\n::set-env name=X::1\nb", single_line=False) == "a\n:\\u003aset-env name=X:\\u003a1\nb"


def test_for_log_bounds_length() -> None:
    assert for_log("x" * 5000) == "x" * 2000 + "…"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert\\(1\\)&lt;/script&gt;"),
        ("@octocat please", "&#64;octocat please"),
        ("a | b", "a \\| b"),
        ("[click](javascript:x)", "\\[click\\]\\(javascript:x\\)"),
        ("![img](http://x/y.png)", "\\!\\[img\\]\\(http://x/y\\.png\\)"),
        ("**bold** _it_ `code`", "\\*\\*bold\\*\\* \\_it\\_ \\`code\\`"),
        ("a & b", "a &amp; b"),
        ("line\nbreak", "line\\\\nbreak"),
    ],
)
def test_for_markdown(raw: str, expected: str) -> None:
    assert for_markdown(raw) == expected
