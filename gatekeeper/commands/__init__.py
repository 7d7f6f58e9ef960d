"""Command implementations: one module per command, each with `configure(parser)` and `run(args, ctx)`.

`Context` gives a command what it may use — the injected runtime, the global options, and the
configuration and policy loaded on first use — so command functions stay short and testable.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gatekeeper.config import Config, Policy, find_config, load_config, policy_for
from gatekeeper.config.language import language
from gatekeeper.domain import Outcome
from gatekeeper.errors import ExitCode, GatekeeperError
from gatekeeper.messages import Message, msg
from gatekeeper.runtime import Runtime

if TYPE_CHECKING:
    from gatekeeper.ledger import Record

# Commands that write or explain the work tree's own configuration rather than govern by it.
WORK_TREE_COMMANDS = frozenset({"init", "schema", "demo"})

TEXT, JSON, MARKDOWN = "text", "json", "markdown"
_ALL = frozenset({TEXT, JSON, MARKDOWN})
_TEXT_JSON = frozenset({TEXT, JSON})

# The output formats (global `--format`) each command or subcommand produces; any other is refused with
# exit 2 before the command runs, never silently ignored. A command missing here produces text and JSON.
FORMATS: dict[str, frozenset[str]] = {
    "check-commits": _ALL,
    "rfc validate": _ALL,
    "approve": _ALL,
    "window": _ALL,
    "gate": _ALL,
    "deploy start": _ALL,
    "deploy finish": _ALL,
    "audit": _ALL,
    "kpi": _ALL,
    "baseline diff": _ALL,
    "baseline verify": _ALL,
    "ledger export": frozenset({TEXT}),  # its own `--format jsonl|csv` chooses the file format
    "demo": frozenset({TEXT}),
}

# What each command's exit codes mean: one meaning per code per command (rendered into the READMEs by
# `python -m gatekeeper.docs --readme`). Every command also exits 2 on a usage, configuration or input
# error and 3 on an internal error (DESIGN §3).
_WRITE = {0: msg("recorded")}
EXIT_CODES: dict[str, dict[int, Message]] = {
    "check-commits": {
        0: msg("every commit names an active RFC"),
        1: msg("a commit is refused"),
    },
    "hook": {0: msg("hook installed")},
    "rfc new": {0: msg("RFC file written")},
    "rfc validate": {
        0: msg("every RFC is valid"),
        1: msg("an RFC is invalid"),
    },
    "rfc show": {0: msg("RFC shown")},
    "approve": {
        0: msg("decision recorded"),
        1: msg("refused: the gate would not count it; nothing recorded"),
    },
    "pir": _WRITE,
    "notice": _WRITE,
    "release": _WRITE,
    "delegate": _WRITE,
    "incident": {0: msg("recorded or listed")},
    "problem": _WRITE,
    "evidence": _WRITE,
    "window": {
        0: msg("a deployment is allowed at the time shown (with `--next`: the next allowed time)"),
        1: msg("not allowed at the time asked"),
    },
    "calendar": {
        0: msg("no collision the pack treats as an error"),
        1: msg("a collision is an error"),
    },
    "gate": {0: msg("deployment allowed"), 1: msg("deployment blocked")},
    "deploy start": {
        0: msg("allowed; deployment.started recorded"),
        1: msg("blocked; nothing recorded"),
    },
    "deploy finish": {0: msg("deployment.finished recorded")},
    "ledger verify": {
        0: msg("the chain, its anchors and (with --attestations) every attestation verify"),
        1: msg("tampered or unverifiable: names the first bad record"),
    },
    "ledger head": {0: msg("head printed")},
    "ledger log": {0: msg("records listed")},
    "ledger export": {0: msg("records written")},
    "baseline create": {0: msg("baseline recorded")},
    "baseline diff": {0: msg("differences shown")},
    "baseline verify": {
        0: msg("no drift without an RFC"),
        1: msg("drift without an RFC"),
    },
    "audit": {0: msg("every item conforms"), 1: msg("a nonconformity")},
    "kpi": {
        0: msg("every KPI meets its target"),
        1: msg("a KPI misses its target"),
    },
    "report": {0: msg("written")},
    "init": {0: msg("scaffold written")},
    "schema": {0: msg("schema printed")},
    "demo": {0: msg("the demo ran to its end")},
}


# The README's command table (`python -m gatekeeper.docs --readme`): each row's synopsis (as typed; every
# command of `cli.COMMANDS` appears, every option it names exists, tests/test_docs.py), what it does in
# English and in Korean.
COMMAND_TABLE: tuple[tuple[str, Message], ...] = (
    (
        "`check-commits [--range A..B \\| --message-file F]`",
        msg(
            "every commit in the range (default: from the CI context, else upstream..HEAD) "
            "names an active RFC, with a reason"
        ),
    ),
    ("`hook install`", msg("installs the commit-msg hook")),
    (
        "`rfc new \\| validate \\| show`",
        msg(
            "scaffold an RFC from a template (Korean labels by default for `kr-ap-sop`), "
            "validate RFC files, show one"
        ),
    ),
    (
        "`approve RFC --step STEP --decision approve\\|reject [--comment] [--conditions] [--minutes] "
        "[--commit REV] [--artifact NAME=sha256:VALUE]`",
        msg(
            "records an approval step; the actor is the CI identity; a release step names "
            "the commit it approves (default: the job's) and holds only for its deployment"
        ),
    ),
    (
        "`pir RFC --result achieved\\|not-achieved [--follow-up] [--note]`",
        msg("records the post-implementation review"),
    ),
    ("`notice RFC --to AGENCY..`", msg("records the prior notice to linked agencies (REL-NOTICE)")),
    (
        "`release accept\\|review\\|close DEPLOYMENT ..`",
        msg(
            "closes a release after its deployment: the requester's acceptance test, the "
            'consistency review, the closure (see "Closing a release and its change"); '
            "`evidence add --deployment ID` records the production tests"
        ),
    ),
    (
        "`delegate --to LOGIN --steps STEP.. --from T --until T [--note]` \\| `delegate --revoke ID`",
        msg(
            "a holder of a step's role hands the step to a deputy for a period (a manager on "
            "leave), or withdraws that; refused, writing nothing, when it would not count "
            "(to oneself, by a non-holder, unsigned where attestation is required, "
            "overlapping an earlier delegation of the same step). A deputy's approval counts "
            "in the period and is marked in the forms and the audit (`lee (대리: park)`)"
        ),
    ),
    ("`evidence add --kind KIND FILE..`", msg("records test evidence (counts, file digests, commit)")),
    (
        "`incident open \\| update ID \\| close ID \\| list`",
        msg(
            "the incident records (SOP INC) with the 장애보고서's fields — symptom, scope, "
            "service impact, a timeline with intermediate reports (`update --report`), cause "
            "type, actions, corrective and preventive actions; the grade lowered by time (at "
            "close), region and service priority, at most two grades; only holders of "
            "`incidents.openers` roles write them"
        ),
    ),
    (
        "`problem open [--incident ID] --title T`",
        msg(
            "registers a problem for root-cause analysis (SOP PRB): an incident closed with its cause unknown"
        ),
    ),
    ("`window [--at T] [--type normal] [--next]`", msg("is a deployment allowed at T, and when next")),
    (
        "`calendar [--from D] [--to D] [--system ID..\\|all] [-o FILE.html\\|FILE.ics]`",
        msg(
            "the change calendar (변경 일정): the active RFCs placed by `schedule.window` / "
            "`schedule.requested_at`, holidays, freezes and business hours, the deployments "
            "the ledger records, and collisions (`calendar.collision`: one system, one "
            "configuration item, or linked systems at the same time); text, JSON, an HTML "
            "month view, or iCalendar to subscribe to. It reads this repository's RFC store "
            "(every system its RFCs name) and the shared ledger's deployment records of any "
            "system; other repositories' RFCs appear once an RFC here names their system or "
            "they deploy"
        ),
    ),
    (
        "`gate [--env E] [--rfc ID..] [--at T] [--evidence GLOB..] [--artifact [NAME=]FILE..]`",
        msg(
            "evaluates every rule for a deployment; writes nothing. `--artifact`: the builds "
            "deployed, compared with those the release approvals named "
            "(`approval.other-artifact`)"
        ),
    ),
    (
        "`deploy start [--env E] [--rfc ID..] [--artifact [NAME=]FILE..]`",
        msg(
            "gate, then on allow records `deployment.started` (the system's lock, and the "
            "artefacts' digests) and prints the deployment id"
        ),
    ),
    (
        "`deploy finish ID --result success\\|failure\\|rolled-back\\|aborted [--artifact [NAME=]FILE..]`",
        msg(
            "records the result and the SHA-256 of each deployed artefact, releases the "
            "lock; failure or rollback opens an incident"
        ),
    ),
    (
        "`ledger verify [--anchor SEQ:HASH..] [--anchors F] [--anchors-from github\\|gitlab] "
        "[--attestations] \\| head \\| log \\| export`",
        msg(
            "verify the hash chain (names the first bad `seq`), that the ledger still holds "
            "what this machine verified before, and heads recorded outside it; print the "
            "head to record; list; export JSONL/CSV"
        ),
    ),
    (
        "`baseline create \\| diff [REV] \\| verify`",
        msg(
            "a baseline of the configuration items (`baseline.items`: git files by glob, "
            "artefact files on disk) and the deployed artefacts; what changed since, with "
            "the commits, deployments and RFCs behind each change; drift is a change no RFC "
            "explains"
        ),
    ),
    (
        "`audit [--since D] [--until D] [--system ID..\\|all] [--html F] [--hwpx F]`",
        msg(
            "the SOP checklist, 적합/부적합 per item, with evidence; `--html F` and `--hwpx F` "
            "also write the report (`--hwpx`: a 한글 document with the ledger head it was made "
            "from, one system only); with `--system`, the organisation report over a shared "
            "ledger (see *Portfolio views*)"
        ),
    ),
    (
        "`kpi [--since D] [--until D] [--system ID..\\|all]`",
        msg(
            "SOP KPIs and DORA metrics against the pack's targets; with `--system`, a row "
            "per system and totals"
        ),
    ),
    (
        "`report form KIND ID`",
        msg(
            "the SOP forms (변경요청서, 배포계획서, 배포결과서, 장애보고서) in Markdown, HTML, PDF "
            "(`--pdf -o FILE`, A4 through headless Chromium) or HWPX (`--hwpx -o FILE.hwpx`, 한글 with "
            "real tables, needs `sop-gatekeeper[hwpx]`): times in the system's zone, the "
            "agency and system, a 결재란 from the approvals that count, each approval marked "
            "counted or not, and the ledger head the form was made from"
        ),
    ),
    (
        "`report register -o FILE.xlsx`",
        msg(
            "the registers (변경이력·배포·장애 관리대장; the incident register with the SOP's example "
            "columns) of a period as one workbook"
        ),
    ),
    (
        "`init [--ci github\\|gitlab]`, `schema config\\|rfc\\|policy`, `demo`",
        msg("scaffold a repository; JSON Schemas for editors; the demo"),
    ),
)


def invocation(args: argparse.Namespace) -> str:
    """`command` or `command subcommand`: the key of FORMATS and EXIT_CODES."""
    command = str(getattr(args, "command", "") or "")
    sub = getattr(args, f"{command.replace('-', '_')}_command", None)
    return f"{command} {sub}" if sub else command


def declared(table: dict[str, Any], args_or_key: argparse.Namespace | str) -> Any:
    """The entry of `command subcommand`, else of `command`, else None."""
    key = args_or_key if isinstance(args_or_key, str) else invocation(args_or_key)
    return table.get(key, table.get(key.split(" ")[0]))


def check_format(args: argparse.Namespace) -> None:
    """Refuse a `--format` the command cannot produce (exit 2), rather than print another one."""
    from gatekeeper.errors import UsageError

    chosen = getattr(args, "output_format", TEXT)
    formats = declared(FORMATS, args) or _TEXT_JSON
    if chosen not in formats:
        name = invocation(args)
        shown = ", ".join(sorted(formats))
        own = OWN_FORMAT.get(name)
        raise UsageError(
            msg("`{name}` cannot print --format {chosen}", name=name, chosen=chosen),
            hint=msg("use --format {shown}{own}", shown=shown, own=msg("; {why}", why=own) if own else ""),
        )


# Commands whose own option chooses what they write, which the global --format does not.
OWN_FORMAT = {
    "ledger export": msg(
        "the file's format is the subcommand's own: `gatekeeper ledger export --format jsonl|csv`"
    ),
}


@dataclass
class Context:
    runtime: Runtime
    config_option: str | None = None
    output_format: str = "text"
    lang_option: str | None = None
    command: str = ""
    # The last record this command stored (seq, hash): its head is anchored outside the ledger at the end.
    written: tuple[int, str] | None = None
    decided_lang: str | None = None

    @classmethod
    def from_args(cls, args: argparse.Namespace, runtime: Runtime) -> Context:
        return cls(
            runtime=runtime,
            config_option=getattr(args, "config", None),
            output_format=getattr(args, "output_format", "text"),
            lang_option=getattr(args, "lang", None),
            command=str(getattr(args, "command", "") or ""),
        )

    @cached_property
    def config_path(self) -> Path:
        return find_config(self.runtime.cwd, self.runtime.env, self.config_option)

    @cached_property
    def config(self) -> Config:
        """In CI, the configuration of the protected default branch (`adapters.governance`): the change under
        deployment cannot edit the rules it is judged by. On a workstation, the work tree's."""
        from gatekeeper.adapters.ci import in_ci

        if in_ci(self.runtime.env) and self.command not in WORK_TREE_COMMANDS:
            from gatekeeper.adapters.governance import load_governing

            return load_governing(self.config_path, self.runtime.env)
        return load_config(self.config_path)

    @cached_property
    def repo_root(self) -> Path:
        """The folder holding the configuration file: paths in the config are relative to it."""
        return self.config_path.parent

    @cached_property
    def policy(self) -> Policy:
        return policy_for(self.config, relative_to=self.repo_root)

    @property
    def lang(self) -> str:
        """--lang, then GATEKEEPER_LANG, then the configuration's `lang`, then its pack's, then English
        (`config.language`): decided once, when first asked."""
        if self.decided_lang is None:
            self.decided_lang = language(self.lang_option, self.runtime.env, self._configured_lang)
        return self.decided_lang

    def _configured_lang(self) -> str | None:
        """The configuration's `lang`, else its policy pack's; None while they cannot be read (the command
        then meets the same error, said in the language chosen without them)."""
        try:
            return self.config.lang or self.policy.lang
        except GatekeeperError:
            return None

    def speak_as(self, config: Config, policy: Policy) -> None:
        """Decide the language from a configuration not yet on disk (`init` writes it): the one in force."""
        self.decided_lang = language(self.lang_option, self.runtime.env, lambda: config.lang or policy.lang)

    def error_lang(self) -> str:
        """The language of an error this command raised: as `lang` once the configuration was read,
        else as the user chose (--lang, GATEKEEPER_LANG) or English."""
        if self.decided_lang is None and "config" not in self.__dict__:
            return language(self.lang_option, self.runtime.env)
        return self.lang

    def emit(self, outcome: Outcome) -> int:
        """Print an outcome in the chosen format; its exit code follows the decision (DESIGN §3)."""
        from gatekeeper.adapters.ci import ci_platform, in_ci
        from gatekeeper.reporters import render_outcome

        text = render_outcome(outcome, self.output_format, self.lang)
        # In a GitLab job the text output is the findings' collapsible section: they appear once.
        sectioned = bool(outcome.findings) and self.output_format == TEXT
        sectioned = sectioned and ci_platform(self.runtime.env).name == "gitlab"
        if sectioned:
            from gatekeeper.reporters.publish import gitlab_outcome_section
            from gatekeeper.reporters.sanitize import write_trusted

            start, end = gitlab_outcome_section(outcome, self.command, int(self.runtime.now().timestamp()))
            write_trusted(self.runtime.stdout, start)
            self.runtime.stdout.write(text)
            write_trusted(self.runtime.stdout, end)
        else:
            self.runtime.stdout.write(text)
        if in_ci(self.runtime.env):
            from gatekeeper.reporters.publish import publish_outcome  # job summary, outputs; never raises

            publish_outcome(
                self.runtime, lambda: self.config, self.lang, outcome, self.command, printed=sectioned
            )
        return int(ExitCode.OK if outcome.ok else ExitCode.BLOCKED)

    def wrote(self, record: Record) -> Record:
        """Note a record this command stored (every write command passes its records through here)."""
        if self.written is None or record.seq > self.written[0]:
            self.written = (record.seq, record.hash)
        return record

    def anchor_written(self) -> None:
        """In CI, once the command ends: the head after its last write, kept where the ledger's writers
        cannot change it (`reporters.publish.publish_anchor`). Never raises: the records already stand."""
        from gatekeeper.adapters.ci import in_ci

        if self.written is None or not in_ci(self.runtime.env):
            return
        from gatekeeper.reporters.publish import publish_anchor

        publish_anchor(self.runtime, lambda: self.config, self.lang, *self.written)

    def done(self, text: str, **data: object) -> int:
        """A command that wrote or did one thing: its line of text, or `{"ok": true, ...data}` as JSON."""
        if self.output_format == JSON:
            import json

            self.runtime.stdout.write(json.dumps({"ok": True, **data}, ensure_ascii=False, indent=2) + "\n")
        else:
            self.out(text)
        return int(ExitCode.OK)

    def out(self, text: str) -> None:
        self.runtime.stdout.write(text if text.endswith("\n") else text + "\n")
