"""Reporters for checking commands: text for people, JSON for machines (DESIGN §3), Markdown for job
summaries and pull/merge-request comments. Untrusted text is neutralised here, at the last step."""

from __future__ import annotations

import json

from gatekeeper.domain import Finding, Outcome, Severity
from gatekeeper.messages import ptr
from gatekeeper.reporters.columns import pad
from gatekeeper.reporters.sanitize import for_log, for_markdown
from gatekeeper.reporters.words import short_type


def labels(lang: str) -> dict[str, str]:
    """The words of a gate's outcome in `lang`."""
    return {
        "allow": ptr(lang, "outcome", "ALLOWED"),
        "block": ptr(lang, "outcome", "BLOCKED"),
        "error": ptr(lang, "outcome", "error"),
        "warning": ptr(lang, "outcome", "warning"),
        "fix": ptr(lang, "outcome", "fix"),
        "grade": ptr(lang, "outcome", "grade"),
        "none": ptr(lang, "outcome", "no findings"),
        "rule": ptr(lang, "outcome", "Rule"),
        "severity": ptr(lang, "outcome", "Severity"),
        "sop": ptr(lang, "outcome", "SOP"),
        "subject": ptr(lang, "outcome", "Subject"),
        "message": ptr(lang, "outcome", "Finding"),
        "remediation": ptr(lang, "outcome", "What to do"),
        "title": "gatekeeper",
    }


def _counts(outcome: Outcome) -> tuple[int, int]:
    errors = sum(1 for f in outcome.findings if f.severity is Severity.ERROR)
    warnings = sum(1 for f in outcome.findings if f.severity is Severity.WARNING)
    return errors, warnings


def _type_label(outcome: Outcome, lang: str) -> str:
    return short_type(outcome.change_type, lang)


def _summary(outcome: Outcome, words: dict[str, str], lang: str) -> str:
    if not outcome.findings:
        return words["none"]
    errors, warnings = _counts(outcome)
    return ptr(lang, "outcome", "{errors} error(s), {warnings} warning(s)", errors=errors, warnings=warnings)


def _ordered(findings: tuple[Finding, ...]) -> list[Finding]:
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.OFF: 2}
    return sorted(findings, key=lambda f: rank[f.severity])


def render_text(outcome: Outcome, lang: str = "en") -> str:
    words = labels(lang)
    rfcs = " ".join(outcome.rfcs)
    kind = f", {for_log(_type_label(outcome, lang))}" if outcome.change_type else ""
    head = (
        f"gatekeeper: {words[str(outcome.decision)]} — {for_log(outcome.system)} "
        f"({words['grade']} {outcome.grade}{kind})" + (f" {for_log(rfcs)}" if rfcs else "")
    )
    lines = [head]
    for finding in _ordered(outcome.findings):
        mark = "✗" if finding.severity is Severity.ERROR else "!"
        subject = f" {for_log(finding.subject)}" if finding.subject else ""
        lines.append(
            f"  {mark} {pad(words[str(finding.severity)], 7)} {finding.rule} [{finding.sop}]{subject}"
        )
        lines.append(f"      {for_log(finding.message)}")
        if finding.remediation:
            lines.append(f"      {words['fix']}: {for_log(finding.remediation)}")
    lines.append(_summary(outcome, words, lang))
    return "\n".join(lines) + "\n"


def render_json(outcome: Outcome) -> str:
    return json.dumps(outcome.as_dict(), ensure_ascii=False, indent=2) + "\n"


def render_markdown(outcome: Outcome, lang: str = "en") -> str:
    words = labels(lang)
    icon = "✅" if outcome.ok else "⛔"
    # A backtick would end the code span early; IDs never contain one, but the text is untrusted.
    rfcs = ", ".join(f"`{for_log(r).replace('`', chr(39))}`" for r in outcome.rfcs)
    lines = [
        f"### {icon} {words['title']}: {words[str(outcome.decision)]}",
        "",
        " · ".join(
            part
            for part in (
                f"**{for_markdown(outcome.system)}**",
                f"{words['grade']} {outcome.grade}",
                for_markdown(_type_label(outcome, lang)),
                rfcs,
            )
            if part
        ),
        "",
    ]
    if outcome.findings:
        lines.append(
            f"| {words['severity']} | {words['rule']} | {words['sop']} | {words['subject']} "
            f"| {words['message']} | {words['remediation']} |"
        )
        lines.append("|---|---|---|---|---|---|")
        for finding in _ordered(outcome.findings):
            mark = "⛔" if finding.severity is Severity.ERROR else "⚠️"
            lines.append(
                f"| {mark} {words[str(finding.severity)]} | `{finding.rule}` | {finding.sop} "
                f"| {for_markdown(finding.subject)} | {for_markdown(finding.message)} "
                f"| {for_markdown(finding.remediation)} |"
            )
        lines.append("")
    lines.append(_summary(outcome, words, lang))
    return "\n".join(lines) + "\n"


def render_outcome(outcome: Outcome, output_format: str, lang: str = "en") -> str:
    if output_format == "json":
        return render_json(outcome)
    if output_format == "markdown":
        return render_markdown(outcome, lang)
    return render_text(outcome, lang)
