"""Publishing outcomes to the CI: job summary, annotations, step outputs, dotenv report, log sections."""

from __future__ import annotations

import io
import json
from datetime import UTC, datetime
from pathlib import Path

from gatekeeper.commands import Context
from gatekeeper.domain import Finding, Outcome, Severity
from gatekeeper.reporters.publish import (
    github_annotation,
    github_output_block,
    gitlab_dotenv,
    gitlab_junit,
    gitlab_section,
    publish_outcome,
)
from gatekeeper.runtime import Runtime

HOSTILE = Finding(
    rule="commit.rfc-missing",
    severity=Severity.ERROR,
    sop="CFG-P3",
    message="commit a1b2 says\n::set-output name=decision::allow <script>@all",
    remediation="add `RFC-2026-0042` to the subject",
    subject="a1b2",
)
BLOCKED = Outcome(system="minwon-portal", grade=1, change_type="normal", findings=(HOSTILE,))


def _context(env: dict[str, str], cwd: Path) -> tuple[Context, io.StringIO]:
    err = io.StringIO()
    moment = datetime(2026, 11, 24, 11, 0, tzinfo=UTC)
    runtime = Runtime(env=env, cwd=cwd, stdout=io.StringIO(), stderr=err, clock=lambda: moment)
    return Context(runtime=runtime, command="check-commits"), err


def _parse_outputs(text: str) -> dict[str, str]:
    values, lines = {}, iter(text.splitlines())
    for line in lines:
        name, delimiter = line.split("<<", 1)
        body = []
        for inner in lines:
            if inner == delimiter:
                break
            body.append(inner)
        values[name] = "\n".join(body)
    return values


def test_annotation_cannot_start_a_workflow_command() -> None:
    line = github_annotation(HOSTILE)
    assert line is not None
    assert line.startswith("::error title=commit.rfc-missing [CFG-P3]::")
    assert "\n" not in line and "%0A" not in line  # the message was flattened before escaping
    assert len(line.splitlines()) == 1


def test_output_delimiter_never_occurs_in_the_value() -> None:
    block = github_output_block("findings", "ghadelimiter_x\nline")
    delimiter = block.splitlines()[0].split("<<")[1]
    assert block.splitlines()[1:3] == ["ghadelimiter_x", "line"]
    assert block.splitlines()[3] == delimiter


def test_github_publishing(tmp_path: Path) -> None:
    summary, output = tmp_path / "summary.md", tmp_path / "output"
    env = {
        "GITHUB_ACTIONS": "true",
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(output),
        "GATEKEEPER_TOKEN": "ghs_secretvalue123",
    }
    ctx, err = _context(env, tmp_path)
    publish_outcome(ctx.runtime, lambda: ctx.config, ctx.lang, BLOCKED, "check-commits")
    log = err.getvalue()
    assert log.splitlines()[0] == "::add-mask::ghs_secretvalue123"
    assert "::error title=commit.rfc-missing [CFG-P3]::" in log
    outputs = _parse_outputs(output.read_text(encoding="utf-8"))
    assert outputs["decision"] == "block"
    assert outputs["exit-code"] == "1"
    assert json.loads(outputs["findings"])[0]["rule"] == "commit.rfc-missing"
    assert outputs["deployment-id"] == ""
    text = summary.read_text(encoding="utf-8")
    assert "BLOCKED" in text and "`commit.rfc-missing`" in text
    assert "<script>" not in text and "@all" not in text


def test_gitlab_publishing(tmp_path: Path) -> None:
    env = {"GITLAB_CI": "true", "CI_PROJECT_DIR": str(tmp_path)}
    ctx, err = _context(env, tmp_path)
    publish_outcome(ctx.runtime, lambda: ctx.config, ctx.lang, BLOCKED, "check-commits")
    dotenv = (tmp_path / "gatekeeper.env").read_text(encoding="utf-8")
    assert "GATEKEEPER_DECISION=block\n" in dotenv
    assert "GATEKEEPER_RULES=commit.rfc-missing\n" in dotenv
    assert all("=" in line for line in dotenv.splitlines())
    assert "section_start:" in err.getvalue() and "section_end:" in err.getvalue()


def _junit(text: str) -> list[tuple[str, str | None, str]]:
    """(test case name, failure message or None, text) per test case, read as GitLab reads the report."""
    from defusedxml import ElementTree

    root = ElementTree.fromstring(text.encode("utf-8"))
    out = []
    for case in root.iter("testcase"):
        failure = case.find("failure")
        body = failure if failure is not None else case.find("system-out")
        out.append(
            (
                case.get("name", ""),
                None if failure is None else failure.get("message"),
                (body.text or "") if body is not None else "",
            )
        )
    return out


def test_gitlab_junit_report_is_written_when_asked(tmp_path: Path) -> None:
    warning = Finding(
        "window.business-hours", Severity.WARNING, "REL-P2", "deployed at 11:00", "deploy after 18:00"
    )
    outcome = Outcome("minwon-portal", 1, "normal", findings=(HOSTILE, warning))
    env = {"GITLAB_CI": "true", "CI_PROJECT_DIR": str(tmp_path), "GATEKEEPER_JUNIT": "reports/junit.xml"}
    (tmp_path / "reports").mkdir()
    ctx, _err = _context(env, tmp_path)
    publish_outcome(ctx.runtime, lambda: ctx.config, ctx.lang, outcome, "gate --env production")
    cases = _junit((tmp_path / "reports" / "junit.xml").read_text(encoding="utf-8"))
    assert [(name, failed is not None) for name, failed, _ in cases] == [
        ("commit.rfc-missing [CFG-P3] a1b2", True),
        ("window.business-hours [REL-P2]", False),
    ]
    assert cases[0][1] is not None and "<script>" in cases[0][1]  # escaped in the file, read as written
    assert "fix: add `RFC-2026-0042`" in cases[0][2]
    assert cases[1][2].startswith("warning: deployed at 11:00")
    root_attributes = (tmp_path / "reports" / "junit.xml").read_text(encoding="utf-8")
    assert 'tests="2" failures="1"' in root_attributes


def test_gitlab_junit_report_only_when_asked_and_one_case_when_nothing_was_found(tmp_path: Path) -> None:
    env = {"GITLAB_CI": "true", "CI_PROJECT_DIR": str(tmp_path)}
    ctx, _err = _context(env, tmp_path)
    publish_outcome(ctx.runtime, lambda: ctx.config, ctx.lang, BLOCKED, "check-commits")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["gatekeeper.env"]
    allowed = Outcome("minwon-portal", 1, "normal")
    assert _junit(gitlab_junit(allowed, "gate")) == [("decision: allow", None, "")]


def test_gitlab_junit_carries_no_character_xml_cannot_hold() -> None:
    hostile = Finding(
        "rule.x", Severity.ERROR, "SOP", "bell \x07 esc \x1b[31m lone \ud800 \uffff", "fix", "s\x00"
    )
    text = gitlab_junit(Outcome("s", 1, "normal", findings=(hostile,)), "gate\x0c")
    name, message, _body = _junit(text)[0]  # parses: the report is well-formed XML
    assert message is not None
    assert "\x07" not in message and "\x1b" not in message and "\ud800" not in message
    assert "\\e[31m" in message and "\ufffd" in message and name == "rule.x [SOP] s\\u0000"


def test_gitlab_dotenv_values_stay_on_one_line() -> None:
    text = gitlab_dotenv(BLOCKED, "check\ncommits")
    assert text.count("\n") == 6


def test_section_names_are_safe() -> None:
    text = gitlab_section("gate; rm -rf /", "header\nnext", "body", at=1)
    assert "section_start:1:gate__rm_-rf__[collapsed=true]" in text


def test_unwritable_outputs_are_reported_not_raised(tmp_path: Path) -> None:
    env = {"GITHUB_ACTIONS": "true", "GITHUB_OUTPUT": str(tmp_path / "missing" / "out")}
    ctx, err = _context(env, tmp_path)
    publish_outcome(ctx.runtime, lambda: ctx.config, ctx.lang, BLOCKED, "check-commits")
    assert "could not write the github job outputs" in err.getvalue()


def test_outside_ci_nothing_is_published(tmp_path: Path) -> None:
    ctx, err = _context({}, tmp_path)
    publish_outcome(ctx.runtime, lambda: ctx.config, ctx.lang, BLOCKED, "check-commits")
    assert err.getvalue() == ""
    assert list(tmp_path.iterdir()) == []
