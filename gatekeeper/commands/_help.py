"""`--help` in Korean (`--lang ko`, GATEKEEPER_LANG=ko): every help text, description and title the parsers
declare, and the pass that puts its Korean from the message catalogue in place before argparse formats the
help. argparse's own words (usage:, positional arguments, options, -h) are declared too.

A text the commands declare must be declared here with its Korean in the catalogue
(`tests/test_help_korean.py` walks every parser); one already in Korean needs none.
"""

from __future__ import annotations

import argparse
import re

from gatekeeper.messages import Message, msg, template

# Every help text, description and title the parsers declare (and argparse's own words), declared here
# so that Babel extracts them: their Korean is in the message catalogue (`gatekeeper.messages`).
HELP_TEXTS: tuple[Message, ...] = (
    msg("usage: "),
    msg("positional arguments"),
    msg("options"),
    msg("show this help message and exit"),
    msg("show program's version number and exit"),
    msg("Change- and release-governance for CI/CD pipelines (Korean public-sector AP SOP)."),
    msg("exit codes: 0 allowed/passed, 1 blocked/violations, 2 usage or input error, 3 internal error"),
    msg("configuration file (default: .gatekeeper.yml)"),
    msg("output format; a command that cannot print it refuses it (exit 2), see the README's table"),
    msg("language of messages"),
    msg("check that every commit names an active RFC"),
    msg("install the commit-msg hook"),
    msg("create, validate and show RFC files"),
    msg("record an approval step in the ledger"),
    msg("record the post-implementation review"),
    msg("record a prior notice to linked agencies"),
    msg("accept, review and close a release after its deployment (인수·일치성 검토·종료)"),
    msg("hand approval steps to a deputy for a period, or revoke"),
    msg("open, update, close and list incidents (장애)"),
    msg("register a problem for root-cause analysis (문제)"),
    msg("record test evidence in the ledger"),
    msg("is a deployment allowed at a time, and when next"),
    msg("the change calendar: planned changes, freezes, collisions"),
    msg("evaluate every rule for a deployment (writes nothing)"),
    msg("start or finish a governed deployment"),
    msg("verify, list or export the ledger"),
    msg("create, diff and verify configuration baselines"),
    msg("the SOP audit checklist over ledger and history"),
    msg("SOP KPIs and DORA metrics against targets"),
    msg("render SOP forms from RFC and ledger data"),
    msg("scaffold gatekeeper in a repository"),
    msg("print the JSON Schema of config, rfc or policy files"),
    msg("run a whole governed release on the bundled example"),
    msg("commits reachable from B and not from A (default: from the CI context, else upstream..HEAD)"),
    msg("check one commit message (the commit-msg hook)"),
    msg("install the commit-msg hook in this repository"),
    msg("replace a commit-msg hook gatekeeper did not write"),
    msg("write a new RFC file from the template"),
    msg("validate RFC files and their plans"),
    msg("show an RFC, its digest and its state"),
    msg("the ID to use (default: the next free one)"),
    msg("platform login of the requester (default: the CI or local user)"),
    msg("template labels (default: ko for kr-ap-sop)"),
    msg("RFC IDs (default: every RFC file)"),
    msg("the RFC being approved"),
    msg("the approval step of the policy pack, e.g. cab"),
    msg("why (stored in the record)"),
    msg("the conditions a decision (a CAB's) is given under (stored in the record and the forms)"),
    msg("where the minutes of the CAB meeting are (a reference)"),
    msg(
        "the commit a release step approves (the pack's approvals.commit_steps; default: the job's "
        "commit, HEAD): the approval holds only for a deployment of that commit"
    ),
    msg(
        "an artefact of the release a release step approves, by its digest (repeatable; optional): "
        "recorded inside the approval, and so inside what its attestation signs"
    ),
    msg("the RFC the review is about"),
    msg("goal achieved?"),
    msg(
        "the improvement that follows a purpose not achieved (required with --result "
        "not-achieved): an action, or the RFC that carries it"
    ),
    msg("findings of the review (stored in the record)"),
    msg("the RFC whose release is announced"),
    msg("the agencies notified"),
    msg("how and when they were told (stored in the record)"),
    msg("record the requester's acceptance test in production (인수테스트)"),
    msg("record that the change plan, the release plan and the result agree (일치성 검토)"),
    msg("close the release and the change (배포·변경 종료)"),
    msg("the id `deploy start` printed"),
    msg("what was tested and found (stored in the record)"),
    msg("they agree"),
    msg("they do not"),
    msg("what was compared (stored in the record)"),
    msg("the closure's remarks (stored in the record)"),
    msg("what later releases should do differently (배포관리 4.3 개선 사항)"),
    msg("the deputy (a login of the CI platform)"),
    msg("the approval steps handed over, e.g. change-approval"),
    msg("when the delegation begins: a time with an offset, or a date (its start, in the system's zone)"),
    msg("when it ends: a time with an offset, or a date (through its end, in the system's zone)"),
    msg("why (stored in the record), e.g. 연가 12.7–12.11"),
    msg("withdraw the delegation record with this id instead"),
    msg("record an incident (장애 인지/접수)"),
    msg("record a step of the timeline or an intermediate report"),
    msg("record the resolution (장애 종료) and the report's findings"),
    msg("the system's incidents and their state"),
    msg("the incident's ID (default: INC- and the record's)"),
    msg("장애 발생일시 (ISO 8601 with offset; default: now)"),
    msg("장애 인지일시 (default: now)"),
    msg("related RFCs"),
    msg("지역 보정: a nationwide service failing regionally"),
    msg("서비스 중요도 보정: the highest priority among the services affected (1 = most important)"),
    msg("this was an intermediate report (중간보고)"),
    msg("복구 일시: service restored and confirmed (default: now)"),
    msg("원인 유형 (unknown: 원인 불명)"),
    msg("register a problem for root-cause analysis"),
    msg("the incident it comes from"),
    msg("record test-result files as evidence of one kind"),
    msg("RFC the tests belong to"),
    msg(
        "the production deployment these tests verified after it finished (운영환경 단위·통합 테스트, "
        "TST-P5): the id `deploy start` printed"
    ),
    msg("JUnit, xUnit, NUnit or TRX result files"),
    msg("the time to ask about (ISO 8601 with offset; default: now)"),
    msg("answer for the next allowed start"),
    msg("first day (YYYY-MM-DD, local) or time with offset; default: today"),
    msg("last day, inclusive (YYYY-MM-DD); default: 42 days on"),
    msg("the systems to show (repeatable), or `all`; default: this configuration's system"),
    msg("write an HTML month view (.html) or iCalendar (.ics)"),
    msg("target environment"),
    msg("RFCs deployed"),
    msg("evaluate at this time (ISO 8601 with offset)"),
    msg("extra test reports (KIND: unit, integration, performance, acceptance; default unit)"),
    msg(
        "an artefact being deployed: its SHA-256 must be the one the release approvals name for "
        "NAME (default: the file name), where they name one (repeatable)"
    ),
    msg("run the gate; on allow record deployment.started and take the lock"),
    msg("record deployment.finished and release the lock"),
    msg("who carried out the deployment"),
    msg("who verified the result"),
    msg("post-deployment test result"),
    msg("errors seen during the deployment"),
    msg("monitoring result after the deployment"),
    msg(
        "a deployed artefact: its SHA-256 is recorded under NAME (default: the file name) and "
        "compared with the configuration baseline (repeatable)"
    ),
    msg(
        "check the whole hash chain, that the ledger still holds what this machine verified "
        "before, and any anchors; names the first bad seq (exit 1)"
    ),
    msg("print the ledger's head (seq and hash) to record outside the ledger"),
    msg("list records, oldest first"),
    msg("write every record as JSON lines or CSV"),
    msg(
        "a head recorded outside the ledger (`gatekeeper ledger head`): the record at SEQ must "
        "still have HASH (repeatable)"
    ),
    msg("a file of anchors, one SEQ:HASH a line"),
    msg(
        "also every anchor the CI platform holds: the `gatekeeper/ledger` commit statuses of the "
        "last --anchor-depth commits of HEAD (needs the platform token CI jobs use)"
    ),
    msg("how many commits of HEAD's history --anchors-from reads (default 200)"),
    msg("also re-check every approval's OIDC attestation (exit 1 when one does not verify)"),
    msg("record kind, e.g. approval or deployment.started"),
    msg("system id"),
    msg("RFC ID"),
    msg("records at or after this time (RFC 3339 with offset)"),
    msg("records before this time (RFC 3339 with offset)"),
    msg("only the last N matching records"),
    msg("file to write (default: standard output)"),
    msg("record a baseline of the configuration items at HEAD"),
    msg("added, removed and changed items since the baseline, with their RFCs"),
    msg("fail when items drifted from the baseline without an RFC"),
    msg("version label, e.g. 1.0 (default: the next number)"),
    msg("the commit to baseline (default: HEAD)"),
    msg("compare with this commit (default: HEAD)"),
    msg("the baseline to compare with (default: the latest)"),
    msg("first day (YYYY-MM-DD, local) or time with offset; default: all"),
    msg("last day, inclusive (YYYY-MM-DD), or an exclusive time with offset"),
    msg(
        "the systems of the shared ledger to report on (repeatable), or `all`: a row per system "
        "and totals; default: this configuration's system alone, as before"
    ),
    msg("also write the self-contained HTML report to FILE"),
    msg("also write the report as an HWPX (한글) document to FILE (needs sop-gatekeeper[hwpx])"),
    msg("do not record the run in the ledger (dry run)"),
    msg("print CSV (one row per system, month and KPI)"),
    msg("render an SOP form from RFC and ledger data"),
    msg("the SOP's registers (변경이력·배포·장애 관리대장) as one .xlsx workbook"),
    msg("change-request, release-plan, deployment-result, incident-report"),
    msg("an RFC ID, a deployment id or an incident record id"),
    msg("HTML instead of Markdown"),
    msg("PDF on A4, printed by headless Chromium (needs --output)"),
    msg("HWPX (한글) document with tables and the 결재란 (needs --output and sop-gatekeeper[hwpx])"),
    msg("write to FILE instead of standard output"),
    msg("the workbook to write"),
    msg("CI platform (default: inferred)"),
    msg("system id (default: the repository folder name)"),
    msg("system name as users know it (default: the system id)"),
    msg("정보시스템 등급 (default: 1, the strictest)"),
    msg("policy pack name or path (default: kr-ap-sop)"),
    msg(
        "the gatekeeper Action the GitHub workflows use (default: "
        "sop-gatekeeper/gatekeeper@v0.1.0; name your own copy where github.com is out of reach)"
    ),
    msg(
        "what GitLab jobs pip-install (GATEKEEPER_PACKAGE; default: sop-gatekeeper==0.1.0): a "
        "version from your index, a git URL (`sop-gatekeeper @ git+https://...@v1.0`) or a wheel"
    ),
    msg("do not install the commit-msg hook"),
    msg("overwrite files that already exist"),
    msg("folder for the demo's repositories and report (emptied first; default: ./gatekeeper-demo)"),
)

# A text already in Korean needs no entry: Hangul, and no English word outside `code` and identifiers.
_ENGLISH_WORD = re.compile(r"\b[a-z]{3,}\b")


def needs_korean(text: str) -> bool:
    """Whether `text` reads as English somewhere (outside `code`): it then needs its Korean here."""
    return bool(_ENGLISH_WORD.search(re.sub(r"`[^`]*`", "", text)))


class KoreanHelpFormatter(argparse.RawDescriptionHelpFormatter):
    """argparse's layout with its own word for usage in Korean."""

    def add_usage(self, usage, actions, groups, prefix=None):  # type: ignore[no-untyped-def]
        super().add_usage(usage, actions, groups, template("ko", "usage: ") if prefix is None else prefix)


def korean(parser: argparse.ArgumentParser) -> None:
    """Put the Korean of every text of `parser` and of the parsers under it in place (the catalogue)."""
    parser.formatter_class = KoreanHelpFormatter
    for name in ("description", "epilog"):
        text = getattr(parser, name)
        if text:
            setattr(parser, name, template("ko", text))
    for group in parser._action_groups:
        if group.title:
            group.title = template("ko", group.title)
    for action in parser._actions:
        if action.help and action.help is not argparse.SUPPRESS:
            action.help = template("ko", action.help)
        if isinstance(action, argparse._SubParsersAction):
            for choice in action._choices_actions:
                if choice.help:
                    choice.help = template("ko", choice.help)
            for sub in dict.fromkeys(action.choices.values()):
                korean(sub)
