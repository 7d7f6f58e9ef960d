"""Publishing a command's outcome to the CI it runs in: the effects side of DESIGN §1 for pipelines.

GitHub Actions: a job summary appended to $GITHUB_STEP_SUMMARY, one annotation per finding, step outputs
in $GITHUB_OUTPUT (`decision`, `exit-code`, `findings`, `deployment-id`) and `::add-mask::` for tokens.
GitLab CI: a dotenv report (`GATEKEEPER_DECISION`, ...), a collapsible log section with the findings and,
when $GATEKEEPER_JUNIT names a file, a JUnit report of the findings for the merge request's test summary.
Both: the pull/merge-request decision comment and deployment statuses, through the platform adapters,
when a token is there and `platform.<name>` in the configuration enables them.

Publishing never changes a decision and never crashes a command: a failure to write an output is reported
on stderr as a warning and the command's exit code stands.
"""

from __future__ import annotations

import json
import re
import secrets
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal, Protocol, TextIO

from gatekeeper.domain import Finding, Outcome, Severity
from gatekeeper.messages import ptr, tr
from gatekeeper.reporters.sanitize import for_log, for_markdown, write_trusted

if TYPE_CHECKING:
    from gatekeeper.adapters.platforms.base import PostedStatus
    from gatekeeper.config import Config
    from gatekeeper.ledger.anchor import Head
    from gatekeeper.runtime import Runtime

Provider = Literal["github", "gitlab"]
COMMENT_MARKER = "<!-- gatekeeper:decision {system} -->"
TOKEN_VARIABLES = (
    "GATEKEEPER_TOKEN",
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "GITLAB_TOKEN",
    "CI_JOB_TOKEN",
    "INPUT_TOKEN",
)
DOTENV_DEFAULT = "gatekeeper.env"
MAX_ANNOTATIONS = 50  # GitHub shows at most 10 error and 10 warning annotations per step anyway


def ci_provider(env: Mapping[str, str]) -> Provider | None:
    """The CI platform publishing goes to (`adapters.ci.CI_PLATFORMS`); None on a workstation."""
    from gatekeeper.adapters.ci import ci_platform

    name = ci_platform(env).name
    return name if name in PUBLISHERS else None  # type: ignore[return-value]


def exit_code_of(outcome: Outcome) -> int:
    return 0 if outcome.ok else 1


# ------------------------------------------------------------------------------------------- views


@dataclass(frozen=True)
class FindingView:
    """A finding with every untrusted field already made safe for Markdown."""

    rule: str
    severity: str
    error: bool
    sop: str
    subject: str
    message: str
    remediation: str


def _code(text: str) -> str:
    """Untrusted text for inside a Markdown code span: one line, no backtick to close the span early."""
    return for_log(text, limit=200).replace("`", "'")


def _views(findings: tuple[Finding, ...]) -> list[FindingView]:
    rank = {Severity.ERROR: 0, Severity.WARNING: 1, Severity.OFF: 2}
    return [
        FindingView(
            rule=_code(f.rule),
            severity=str(f.severity),
            error=f.severity is Severity.ERROR,
            sop=for_markdown(f.sop),
            subject=for_markdown(f.subject),
            message=for_markdown(f.message),
            remediation=for_markdown(f.remediation),
        )
        for f in sorted(findings, key=lambda f: rank[f.severity])
        if f.severity is not Severity.OFF
    ]


def render_summary(outcome: Outcome, command: str, lang: str, *, template: str = "summary/job.md.j2") -> str:
    """The Markdown that the job summary and the PR/MR comment show (templates/summary/)."""
    from gatekeeper.reporters.render import render_template

    deployment = outcome.extra.get("deployment_id")
    return render_template(
        template,
        ko=lang == "ko",
        ok=outcome.ok,
        decision=str(outcome.decision),
        command=_code(command),
        system=for_markdown(outcome.system),
        grade=outcome.grade,
        change_type=for_markdown(outcome.change_type),
        rfcs=[_code(r) for r in outcome.rfcs],
        findings=_views(outcome.findings),
        errors=len(outcome.errors),
        warnings=sum(1 for f in outcome.findings if f.severity is Severity.WARNING),
        deployment_id=_code(str(deployment)) if deployment else "",
        marker=COMMENT_MARKER.format(system=for_log(outcome.system)),
    )


# ------------------------------------------------------------------------------------------- GitHub


def _escape_data(text: str) -> str:
    # https://github.com/actions/toolkit/blob/main/packages/core/src/command.ts (escapeData)
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _escape_property(text: str) -> str:
    return _escape_data(text).replace(":", "%3A").replace(",", "%2C")


def github_annotation(finding: Finding, lang: str = "en") -> str | None:
    """`::error title=...::message` for a finding; None for findings that are switched off."""
    if finding.severity is Severity.OFF:
        return None
    level = "error" if finding.severity is Severity.ERROR else "warning"
    title = f"{finding.rule} [{finding.sop}]"
    text = for_log(finding.message)
    if finding.subject:
        text = f"{for_log(finding.subject)}: {text}"
    if finding.remediation:
        fix = ptr(lang, "annotation", "fix: {remediation}", remediation=for_log(finding.remediation))
        text += f" — {fix}"
    return f"::{level} title={_escape_property(for_log(title))}::{_escape_data(text)}"


def github_mask_lines(env: Mapping[str, str]) -> list[str]:
    """`::add-mask::` for every token-bearing variable that is set, so no later line can show it."""
    lines = []
    for name in TOKEN_VARIABLES:
        value = env.get(name, "")
        if len(value) >= 4 and "\n" not in value and "\r" not in value:
            lines.append(f"::add-mask::{value}")
    return lines


def github_output_block(name: str, value: str) -> str:
    """One `name<<DELIMITER` block for $GITHUB_OUTPUT; the delimiter can never occur in the value."""
    while True:
        delimiter = f"ghadelimiter_{secrets.token_hex(16)}"
        if delimiter not in value:
            break
    return f"{name}<<{delimiter}\n{value}\n{delimiter}\n"


def github_outputs(outcome: Outcome) -> dict[str, str]:
    findings = [f.as_dict() for f in outcome.findings]
    return {
        "decision": str(outcome.decision),
        "exit-code": str(exit_code_of(outcome)),
        "findings": json.dumps(findings, ensure_ascii=False, separators=(",", ":")),
        "deployment-id": str(outcome.extra.get("deployment_id") or ""),
    }


def _append(path_text: str, text: str) -> None:
    with Path(path_text).open("a", encoding="utf-8") as handle:
        handle.write(text)


def publish_github(env: Mapping[str, str], outcome: Outcome, command: str, lang: str, log: TextIO) -> None:
    # The only lines the runner is meant to act on; everything else gatekeeper prints is defused.
    for line in github_mask_lines(env):
        write_trusted(log, line + "\n")
    annotations = [a for a in (github_annotation(f, lang) for f in outcome.findings) if a]
    for line in annotations[:MAX_ANNOTATIONS]:
        write_trusted(log, line + "\n")
    if len(annotations) > MAX_ANNOTATIONS:
        more = len(annotations) - MAX_ANNOTATIONS
        said = tr(lang, "{more} more findings are in the job summary", more=more)
        write_trusted(log, f"::notice::{said}\n")
    summary = env.get("GITHUB_STEP_SUMMARY")
    if summary:
        _append(summary, render_summary(outcome, command, lang) + "\n")
    output = env.get("GITHUB_OUTPUT")
    if output:
        _append(output, "".join(github_output_block(k, v) for k, v in github_outputs(outcome).items()))


# ------------------------------------------------------------------------------------------- GitLab


def gitlab_dotenv(outcome: Outcome, command: str) -> str:
    """GitLab's dotenv report: one KEY=value per line, no quotes, values on one line."""
    values = {
        "GATEKEEPER_COMMAND": command,
        "GATEKEEPER_DECISION": str(outcome.decision),
        "GATEKEEPER_EXIT_CODE": str(exit_code_of(outcome)),
        "GATEKEEPER_ERRORS": str(len(outcome.errors)),
        "GATEKEEPER_RULES": ",".join(sorted({f.rule for f in outcome.errors})),
        "GATEKEEPER_DEPLOYMENT_ID": str(outcome.extra.get("deployment_id") or ""),
    }
    lines = []
    for key, value in values.items():
        flat = for_log(value, limit=1000).replace("\\n", " ")
        lines.append(f"{key}={flat}")
    return "\n".join(lines) + "\n"


# Characters XML 1.0 cannot carry at all, left after `for_log` (lone surrogates, U+FFFE, U+FFFF).
_NOT_XML = re.compile("[\ud800-\udfff\ufffe\uffff]")


def _xml_text(text: str, *, single_line: bool = True) -> str:
    return _NOT_XML.sub("\ufffd", for_log(text, single_line=single_line))


def gitlab_junit(outcome: Outcome, command: str) -> str:
    """A JUnit XML report, which GitLab shows in the merge request's test summary and the pipeline's Tests
    tab: one test case per finding (an error fails it; a warning passes with its text in `system-out`),
    or one passing case for the decision when nothing was found."""
    import xml.etree.ElementTree as ET  # writing only: untrusted XML is parsed with defusedxml elsewhere

    name = f"gatekeeper {_xml_text(command)}"
    classname = "gatekeeper." + (command.split(" ")[0] or "run")
    findings = [f for f in outcome.findings if f.severity is not Severity.OFF]
    failures = sum(1 for f in findings if f.severity is Severity.ERROR)
    tests = str(max(len(findings), 1))
    root = ET.Element("testsuites", name="gatekeeper", tests=tests, failures=str(failures))
    suite = ET.SubElement(
        root, "testsuite", name=name, tests=tests, failures=str(failures), errors="0", skipped="0"
    )
    for finding in findings:
        subject = f" {finding.subject}" if finding.subject else ""
        case = ET.SubElement(
            suite,
            "testcase",
            classname=_xml_text(classname),
            name=_xml_text(f"{finding.rule} [{finding.sop}]{subject}"),
        )
        text = _xml_text(f"{finding.message}\nfix: {finding.remediation}", single_line=False)
        if finding.severity is Severity.ERROR:
            failure = ET.SubElement(case, "failure", type=finding.rule, message=_xml_text(finding.message))
            failure.text = text
        else:
            ET.SubElement(case, "system-out").text = f"warning: {text}"
    if not findings:
        ET.SubElement(suite, "testcase", classname=_xml_text(classname), name=f"decision: {outcome.decision}")
    return ET.tostring(root, encoding="unicode", xml_declaration=True) + "\n"


def gitlab_section_markers(name: str, header: str, *, at: int, collapsed: bool = True) -> tuple[str, str]:
    """The start line (with its header) and the end line of a collapsible job-log section (GitLab's
    section_start/section_end markers)."""
    safe_name = "".join(c if c.isalnum() or c in "_.-" else "_" for c in name)[:60] or "gatekeeper"
    flag = "[collapsed=true]" if collapsed else ""
    return (
        f"\x1b[0Ksection_start:{at}:{safe_name}{flag}\r\x1b[0K{for_log(header)}\n",
        f"\x1b[0Ksection_end:{at}:{safe_name}\r\x1b[0K\n",
    )


def gitlab_section(name: str, header: str, body: str, *, at: int, collapsed: bool = True) -> str:
    """A whole collapsible job-log section."""
    start, end = gitlab_section_markers(name, header, at=at, collapsed=collapsed)
    return f"{start}{body.rstrip()}\n{end}"


def publish_gitlab(
    env: Mapping[str, str],
    cwd: Path,
    outcome: Outcome,
    command: str,
    at: int,
    log: TextIO,
    *,
    printed: bool = False,
    lang: str = "en",
) -> None:
    """Dotenv outputs, the JUnit report, and the findings in a collapsible log section unless the command
    `printed` them in its own text output (inside such a section): a GitLab job shows them once."""
    target = Path(env.get("GATEKEEPER_DOTENV") or DOTENV_DEFAULT)
    if not target.is_absolute():
        target = Path(env.get("CI_PROJECT_DIR") or cwd) / target
    target.write_text(gitlab_dotenv(outcome, command), encoding="utf-8")
    junit = env.get("GATEKEEPER_JUNIT")
    if junit:
        report = Path(junit)
        if not report.is_absolute():
            report = Path(env.get("CI_PROJECT_DIR") or cwd) / report
        report.write_text(gitlab_junit(outcome, command), encoding="utf-8")
    if outcome.findings and not printed:
        from gatekeeper.reporters import render_text

        start, end = gitlab_outcome_section(outcome, command, at)
        write_trusted(log, start)  # the markers are the only escapes GitLab's log is meant to act on
        log.write(render_text(outcome, lang).rstrip() + "\n")
        write_trusted(log, end)


def gitlab_outcome_section(outcome: Outcome, command: str, at: int) -> tuple[str, str]:
    """The markers of the collapsible job-log section that holds an outcome's findings, printed once: around
    the command's own text output, or (when it printed another format) on the log stream."""
    return gitlab_section_markers(
        f"gatekeeper_{command.split(' ')[0]}",
        f"gatekeeper {command}: {outcome.decision} ({len(outcome.findings)} findings)",
        at=at,
        collapsed=outcome.ok,
    )


# ------------------------------------------------------------------------------------------- entry


def publish_outcome(
    runtime: Runtime,
    config: Callable[[], Config],
    lang: str,
    outcome: Outcome,
    command: str,
    *,
    printed: bool = False,
) -> None:
    """Publish to the CI the command runs in; outside CI this does nothing. `config` is read only when a
    platform API is to be called (a job's outputs need none)."""
    env, log = runtime.env, runtime.stderr
    provider = ci_provider(env)
    if provider is None:
        return
    try:
        at = int(runtime.now().timestamp())
        PUBLISHERS[provider](env, runtime.cwd, outcome, command, lang, at, log, printed)
    except (OSError, ValueError) as exc:
        log.write(f"gatekeeper: warning: could not write the {provider} job outputs: {for_log(str(exc))}\n")
    try:
        publish_platform(runtime, config, lang, provider, outcome, command)
    except Exception as exc:  # feedback is best effort: the decision already stands
        log.write(
            f"gatekeeper: warning: could not update {provider} (comment / deployment): "
            f"{for_log(type(exc).__name__ + ': ' + str(exc))}\n"
        )


def _publish_github(
    env: Mapping[str, str],
    _cwd: Path,
    outcome: Outcome,
    command: str,
    lang: str,
    _now: int,
    log: TextIO,
    _printed: bool,
) -> None:
    publish_github(env, outcome, command, lang, log)


def _publish_gitlab(
    env: Mapping[str, str],
    cwd: Path,
    outcome: Outcome,
    command: str,
    lang: str,
    now: int,
    log: TextIO,
    printed: bool,
) -> None:
    publish_gitlab(env, cwd, outcome, command, now, log, printed=printed, lang=lang)


# The job-side publisher of each CI platform in `adapters.ci.CI_PLATFORMS` that has one.
PUBLISHERS: dict[str, Callable[[Mapping[str, str], Path, Outcome, str, str, int, TextIO, bool], None]] = {
    "github": _publish_github,
    "gitlab": _publish_gitlab,
}


def open_platform(provider: Provider, config: Config, env: Mapping[str, str]) -> Platform | None:
    """The platform adapter for this CI (`gatekeeper.adapters.platforms.<api>`, imported lazily), or None
    when no token is available — feedback is then skipped, the decision is unaffected."""
    import importlib

    from gatekeeper.adapters.ci import CI_PLATFORMS

    module = importlib.import_module(f"gatekeeper.adapters.platforms.{CI_PLATFORMS[provider].api}")
    platform: Platform | None = module.PLATFORM.from_environment(config, env)
    return platform


class Platform(Protocol):
    def upsert_comment(self, change_request: str, marker: str, body: str) -> None: ...

    def anchor_head(self, *, sha: str, seq: int, text: str, url: str | None) -> None: ...

    def anchor_statuses(self, shas: Sequence[str]) -> list[PostedStatus]: ...

    def record_deployment(
        self, *, ref: str, environment: str, deployment_id: str, state: str, url: str | None
    ) -> None: ...


def publish_platform(
    runtime: Runtime,
    settings: Callable[[], Config],
    lang: str,
    provider: Provider,
    outcome: Outcome,
    command: str,
) -> None:
    """The decision comment on the PR/MR and the deployment status, when a token and the config allow."""
    from gatekeeper.adapters.ci import CI_PLATFORMS
    from gatekeeper.adapters.ci.context import detect_ci

    env = runtime.env
    if not any(env.get(name) for name in CI_PLATFORMS[provider].api_tokens):
        return  # no token, no API: the job summary and outputs are the whole feedback
    config = settings()
    platform_config = getattr(config.platform, provider)
    if not (platform_config.comment or platform_config.deployments):
        return
    platform = open_platform(provider, config, env)
    if platform is None:  # no token: nothing to do, and nothing to say
        return
    ci = detect_ci(env, runtime.cwd)
    if platform_config.comment and ci.change_request:
        body = render_summary(outcome, command, lang, template="summary/comment.md.j2")
        platform.upsert_comment(
            ci.change_request, COMMENT_MARKER.format(system=for_log(outcome.system)), body
        )
    deployment_id = outcome.extra.get("deployment_id")
    if platform_config.deployments and deployment_id:
        environment = str(outcome.extra.get("environment") or "production")
        state = deployment_state(outcome)
        platform.record_deployment(
            ref=ci.head,
            environment=environment,
            deployment_id=str(deployment_id),
            state=state,
            url=ci.run_url,
        )


def deployment_state(outcome: Outcome) -> str:
    """The platform deployment state: `deploy finish` outcomes carry a result, `deploy start` ones do not."""
    result = str(outcome.extra.get("result") or "")
    if not result:
        return "in_progress" if outcome.ok else "failure"
    return {"success": "success", "failure": "failure", "rolled-back": "failure", "aborted": "inactive"}.get(
        result, "failure"
    )


def publish_anchor(
    runtime: Runtime, settings: Callable[[], Config], lang: str, seq: int, digest: str
) -> None:
    """The ledger's head after this job stored records, kept outside the ledger: in the job log, the GitHub
    job summary and step output `ledger-head`, and — when a token is there and `platform.<name>.anchors`
    allows — as the `gatekeeper/ledger` commit status of the job's commit, which nobody who can push can
    delete. `gatekeeper ledger verify --anchor / --anchors-from` checks a ledger against them. Best effort,
    like all publishing: the records already stand, so a failure is a warning."""
    from gatekeeper.ledger.anchor import Head

    env, log = runtime.env, runtime.stderr
    provider = ci_provider(env)
    if provider is None:
        return
    head = Head(seq, digest)
    check = f"gatekeeper ledger verify --anchor {head}"
    log.write(
        tr(
            lang,
            "gatekeeper: ledger head {head} — `{check}` shows the ledger was not rewritten since",
            head=head,
            check=check,
        )
        + "\n"
    )
    try:
        if provider == "github":
            if env.get("GITHUB_STEP_SUMMARY"):
                title = tr(lang, "Ledger head")
                _append(env["GITHUB_STEP_SUMMARY"], f"\n**{title}**: `{head}` (`{check}`)\n")
            if env.get("GITHUB_OUTPUT"):
                _append(env["GITHUB_OUTPUT"], github_output_block("ledger-head", str(head)))
    except (OSError, ValueError) as exc:
        log.write(
            f"gatekeeper: warning: could not write the ledger head to the job summary: {for_log(str(exc))}\n"
        )
    try:
        _anchor_status(runtime, settings, provider, head)
    except Exception as exc:  # an anchor is extra evidence: without it the records still stand
        log.write(
            f"gatekeeper: warning: could not anchor the ledger head {head} on {provider}: "
            f"{for_log(type(exc).__name__ + ': ' + str(exc))}\n"
        )


def _anchor_status(runtime: Runtime, settings: Callable[[], Config], provider: Provider, head: Head) -> None:
    from gatekeeper.adapters.ci import CI_PLATFORMS
    from gatekeeper.adapters.ci.context import detect_ci
    from gatekeeper.ledger.anchor import anchor_text

    env = runtime.env
    if not any(env.get(name) for name in CI_PLATFORMS[provider].api_tokens):
        return
    config = settings()
    if not getattr(config.platform, provider).anchors:
        return
    ci = detect_ci(env, runtime.cwd)
    platform = open_platform(provider, config, env)
    if platform is None or not ci.head:
        return
    platform.anchor_head(sha=ci.head, seq=head.seq, text=anchor_text(head), url=ci.run_url)
