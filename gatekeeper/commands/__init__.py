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
from gatekeeper.messages import msg
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
_WRITE = {0: ("recorded", "기록함")}
EXIT_CODES: dict[str, dict[int, tuple[str, str]]] = {
    "check-commits": {
        0: ("every commit names an active RFC", "모든 커밋이 유효한 변경요청을 가리킴"),
        1: ("a commit is refused", "거부된 커밋이 있음"),
    },
    "hook": {0: ("hook installed", "훅 설치함")},
    "rfc new": {0: ("RFC file written", "변경요청 파일 작성함")},
    "rfc validate": {
        0: ("every RFC is valid", "모든 변경요청이 유효함"),
        1: ("an RFC is invalid", "유효하지 않은 변경요청이 있음"),
    },
    "rfc show": {0: ("RFC shown", "변경요청을 보여 줌")},
    "approve": {
        0: ("decision recorded", "결정 기록함"),
        1: (
            "refused: the gate would not count it; nothing recorded",
            "거부: 게이트가 인정하지 않는 결정이라 기록하지 않음",
        ),
    },
    "pir": _WRITE,
    "notice": _WRITE,
    "release": _WRITE,
    "delegate": _WRITE,
    "incident": {0: ("recorded or listed", "기록하거나 목록을 보여 줌")},
    "problem": _WRITE,
    "evidence": _WRITE,
    "window": {
        0: (
            "a deployment is allowed at the time shown (with `--next`: the next allowed time)",
            "표시된 시각에 배포 가능 (`--next`: 다음 배포 가능 시각)",
        ),
        1: ("not allowed at the time asked", "물은 시각에 배포 불가"),
    },
    "calendar": {
        0: ("no collision the pack treats as an error", "오류로 보는 충돌 없음"),
        1: ("a collision is an error", "오류인 충돌이 있음"),
    },
    "gate": {0: ("deployment allowed", "배포 허용"), 1: ("deployment blocked", "배포 차단")},
    "deploy start": {
        0: ("allowed; deployment.started recorded", "허용, 배포 시작 기록함"),
        1: ("blocked; nothing recorded", "차단, 기록하지 않음"),
    },
    "deploy finish": {0: ("deployment.finished recorded", "배포 종료 기록함")},
    "ledger verify": {
        0: (
            "the chain, its anchors and (with --attestations) every attestation verify",
            "해시 체인·앵커·(--attestations) 서명 검증 통과",
        ),
        1: (
            "tampered or unverifiable: names the first bad record",
            "위변조 또는 검증 실패: 첫 잘못된 기록을 알림",
        ),
    },
    "ledger head": {0: ("head printed", "끝 기록을 보여 줌")},
    "ledger log": {0: ("records listed", "기록 목록을 보여 줌")},
    "ledger export": {0: ("records written", "기록을 내보냄")},
    "baseline create": {0: ("baseline recorded", "기준선 기록함")},
    "baseline diff": {0: ("differences shown", "차이를 보여 줌")},
    "baseline verify": {
        0: ("no drift without an RFC", "변경요청 없는 변동 없음"),
        1: ("drift without an RFC", "변경요청 없는 변동 있음"),
    },
    "audit": {0: ("every item conforms", "모든 항목 적합"), 1: ("a nonconformity", "부적합 항목 있음")},
    "kpi": {
        0: ("every KPI meets its target", "모든 지표 목표 달성"),
        1: ("a KPI misses its target", "목표 미달 지표 있음"),
    },
    "report": {0: ("written", "작성함")},
    "init": {0: ("scaffold written", "초기 파일 작성함")},
    "schema": {0: ("schema printed", "스키마를 보여 줌")},
    "demo": {0: ("the demo ran to its end", "시연을 끝까지 실행함")},
}


# The README's command table (`python -m gatekeeper.docs --readme`): each row's synopsis (as typed; every
# command of `cli.COMMANDS` appears, every option it names exists, tests/test_docs.py), what it does in
# English and in Korean.
COMMAND_TABLE: tuple[tuple[str, str, str], ...] = (
    (
        "`check-commits [--range A..B \\| --message-file F]`",
        "every commit in the range (default: from the CI context, else upstream..HEAD) names an active "
        "RFC, with a reason",
        "범위의 모든 커밋(기본: CI 문맥, 없으면 upstream..HEAD)이 유효한 변경요청ID와 사유를 적었는지 검사",
    ),
    ("`hook install`", "installs the commit-msg hook", "commit-msg 훅 설치"),
    (
        "`rfc new \\| validate \\| show`",
        "scaffold an RFC from a template (Korean labels by default for `kr-ap-sop`), validate RFC files, "
        "show one",
        "템플릿으로 변경요청서 작성(`kr-ap-sop`는 한국어 항목), 변경요청서 검증, 한 건 보기",
    ),
    (
        "`approve RFC --step STEP --decision approve\\|reject [--comment] [--conditions] [--minutes] "
        "[--commit REV] [--artifact NAME=sha256:VALUE]`",
        "records an approval step; the actor is the CI identity; a release step names the commit it "
        "approves (default: the job's) and holds only for its deployment",
        "승인 단계 기록. 승인자는 CI 신원. 배포 승인은 승인하는 커밋(기본: 작업의 커밋)을 담으며 그 커밋의 "
        "배포에만 유효하고, 그 커밋의 테스트 증적 뒤에 주어져야 함. CAB 결정은 조건과 회의록 참조를 담을 "
        "수 있음",
    ),
    (
        "`pir RFC --result achieved\\|not-achieved [--follow-up] [--note]`",
        "records the post-implementation review",
        "이행 후 검토 기록. 변경관리위원회 또는 운영기관 담당자만(정책 팩의 `deploy.pir_reviewers`), 목적 "
        "미달성이면 후속 개선 조치 필수",
    ),
    (
        "`notice RFC --to AGENCY..`",
        "records the prior notice to linked agencies (REL-NOTICE)",
        "연계기관 사전 공지 기록(REL-NOTICE). 변경요청서가 적은 관련 기관마다 공지해야 함",
    ),
    (
        "`release accept\\|review\\|close DEPLOYMENT ..`",
        "closes a release after its deployment: the requester's acceptance test, the consistency review, "
        'the closure (see "Closing a release and its change"); `evidence add --deployment ID` records the '
        "production tests",
        '배포 후 요청자 인수테스트, 일치성 검토, 배포·변경 종료 기록("배포와 변경의 종료" 참조). '
        "운영환경 테스트는 `evidence add --deployment ID`",
    ),
    (
        "`delegate --to LOGIN --steps STEP.. --from T --until T [--note]` \\| `delegate --revoke ID`",
        "a holder of a step's role hands the step to a deputy for a period (a manager on leave), or "
        "withdraws that; refused, writing nothing, when it would not count (to oneself, by a non-holder, "
        "unsigned where attestation is required, overlapping an earlier delegation of the same step). A "
        "deputy's approval counts in the period and is marked in the forms and the audit (`lee (대리: "
        "park)`)",
        "단계 역할 보유자가 기간을 정해 대리인에게 승인 단계를 위임(부재 시)하거나 위임을 철회. 인정되지 "
        "않을 위임(자기 자신에게, 역할 없는 사람이, 증명 필수 등급에서 서명 없이, 같은 단계의 이전 위임과 "
        "기간 중복)은 기록하지 않고 거부. 대리 승인은 기간 안에서 인정되며 양식과 감사에 `lee (대리: "
        "park)`로 표시",
    ),
    (
        "`evidence add --kind KIND FILE..`",
        "records test evidence (counts, file digests, commit)",
        "테스트 증적 기록(건수, 파일 다이제스트, 커밋)",
    ),
    (
        "`incident open \\| update ID \\| close ID \\| list`",
        "the incident records (SOP INC) with the 장애보고서's fields — symptom, scope, service impact, a "
        "timeline with intermediate reports (`update --report`), cause type, actions, corrective and "
        "preventive actions; the grade lowered by time (at close), region and service priority, at most "
        "two grades; only holders of `incidents.openers` roles write them",
        "장애 기록(장애보고서 항목: 증상, 영향 범위, 서비스 영향도, 시간대별 경과와 중간보고, 원인 유형, "
        "처리 내역, 시정·예방 조치). `incidents.openers` 역할 보유자만 기록",
    ),
    (
        "`problem open [--incident ID] --title T`",
        "registers a problem for root-cause analysis (SOP PRB): an incident closed with its cause unknown",
        "원인 불명 장애를 문제관리에 등록",
    ),
    (
        "`window [--at T] [--type normal] [--next]`",
        "is a deployment allowed at T, and when next",
        "T에 배포할 수 있는지, 다음 가능한 시각은 언제인지",
    ),
    (
        "`calendar [--from D] [--to D] [--system ID..\\|all] [-o FILE.html\\|FILE.ics]`",
        "the change calendar (변경 일정): the active RFCs placed by `schedule.window` / "
        "`schedule.requested_at`, holidays, freezes and business hours, the deployments the ledger "
        "records, and collisions (`calendar.collision`: one system, one configuration item, or linked "
        "systems at the same time); text, JSON, an HTML month view, or iCalendar to subscribe to. It reads "
        "this repository's RFC store (every system its RFCs name) and the shared ledger's deployment "
        "records of any system; other repositories' RFCs appear once an RFC here names their system or "
        "they deploy",
        "변경 일정: 변경요청서의 작업 시간, 휴일·동결 기간·업무시간, 원장의 배포 기록, 일정 "
        "충돌(`calendar.collision`). 텍스트, JSON, HTML 월별 보기, iCalendar",
    ),
    (
        "`gate [--env E] [--rfc ID..] [--at T] [--evidence GLOB..] [--artifact [NAME=]FILE..]`",
        "evaluates every rule for a deployment; writes nothing. `--artifact`: the builds deployed, "
        "compared with those the release approvals named (`approval.other-artifact`)",
        "배포에 대한 모든 규칙 평가. 기록하지 않음. `--artifact`: 배포하는 빌드를 배포 승인이 지정한 "
        "빌드와 비교(`approval.other-artifact`)",
    ),
    (
        "`deploy start [--env E] [--rfc ID..] [--artifact [NAME=]FILE..]`",
        "gate, then on allow records `deployment.started` (the system's lock, and the artefacts' digests) "
        "and prints the deployment id",
        "게이트 통과 시 `deployment.started`(시스템 잠금, 산출물 다이제스트)를 기록하고 배포 ID 출력. 여러 "
        "시스템에 걸친 변경은 변경요청서의 시스템 순서대로(`deploy.sequence`)",
    ),
    (
        "`deploy finish ID --result success\\|failure\\|rolled-back\\|aborted [--artifact [NAME=]FILE..]`",
        "records the result and the SHA-256 of each deployed artefact, releases the lock; failure or "
        "rollback opens an incident",
        "결과와 배포 산출물의 SHA-256 기록, 잠금 해제. 실패·원상복구는 장애를 엶",
    ),
    (
        "`ledger verify [--anchor SEQ:HASH..] [--anchors F] [--anchors-from github\\|gitlab] "
        "[--attestations] \\| head \\| log \\| export`",
        "verify the hash chain (names the first bad `seq`), that the ledger still holds what this machine "
        "verified before, and heads recorded outside it; print the head to record; list; export JSONL/CSV",
        "해시 체인 검증(첫 손상 seq 표시), 이 머신이 이전에 검증한 내용과 원장 밖에 고정한 head(플랫폼 "
        "커밋 상태 포함) 대조, 플랫폼 서명 재검증; head 출력; 목록; JSONL/CSV 내보내기",
    ),
    (
        "`baseline create \\| diff [REV] \\| verify`",
        "a baseline of the configuration items (`baseline.items`: git files by glob, artefact files on "
        "disk) and the deployed artefacts; what changed since, with the commits, deployments and RFCs "
        "behind each change; drift is a change no RFC explains",
        "형상항목과 배포 산출물의 베이스라인, 그 뒤의 변경과 변경마다의 커밋·배포·변경요청. 변경요청 없는 "
        "변경은 형상 이탈",
    ),
    (
        "`audit [--since D] [--until D] [--system ID..\\|all] [--html F] [--hwpx F]`",
        "the SOP checklist, 적합/부적합 per item, with evidence; `--html F` and `--hwpx F` also write the "
        "report (`--hwpx`: a 한글 document with the ledger head it was made from, one system only); with "
        "`--system`, the organisation report over a shared ledger (see *Portfolio views*)",
        "SOP 점검표, 항목별 적합/부적합과 근거; `--html F`와 `--hwpx F`는 보고서도 씁니다(`--hwpx`: 만든 "
        "시점의 원장 기준이 적힌 한글 문서, 한 시스템만); `--system`이면 공유 원장의 조직 보고서"
        "(*포트폴리오 보기* 참고)",
    ),
    (
        "`kpi [--since D] [--until D] [--system ID..\\|all]`",
        "SOP KPIs and DORA metrics against the pack's targets; with `--system`, a row per system and totals",
        "SOP KPI와 DORA 지표, 정책 팩의 목표와 비교; `--system`이면 시스템별 행과 합계",
    ),
    (
        "`report form KIND ID`",
        "the SOP forms (변경요청서, 배포계획서, 배포결과서, 장애보고서) in Markdown, HTML, PDF (`--pdf "
        "-o FILE`, A4 through headless Chromium) or HWPX (`--hwpx -o FILE.hwpx`, 한글 with real tables, "
        "needs `sop-gatekeeper[hwpx]`): times in the system's zone, the agency and system, a "
        "결재란 from the approvals that count, each approval marked counted or not, and the ledger head "
        "the form was made from",
        "SOP 서식(변경요청서, 배포계획서, 배포결과서, 장애보고서)을 Markdown, HTML, PDF(`--pdf -o "
        "FILE`, headless Chromium으로 A4) 또는 HWPX(`--hwpx -o FILE.hwpx`, 표와 결재란이 있는 한글 문서, "
        "`sop-gatekeeper[hwpx]` 필요)로",
    ),
    (
        "`report register -o FILE.xlsx`",
        "the registers (변경이력·배포·장애 관리대장; the incident register with the SOP's example columns) "
        "of a period as one workbook",
        "기간의 관리대장(변경이력·배포·장애)을 한 통합문서로",
    ),
    (
        "`init [--ci github\\|gitlab]`, `schema config\\|rfc\\|policy`, `demo`",
        "scaffold a repository; JSON Schemas for editors; the demo",
        "저장소 준비, 편집기용 JSON Schema, 데모",
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
            hint=f"use --format {shown}" + (f"; {own[0]}" if own else ""),
            hint_ko=f"--format {shown} 중 하나를 쓰십시오" + (f". {own[1]}" if own else ""),
        )


# Commands whose own option chooses what they write, which the global --format does not.
OWN_FORMAT = {
    "ledger export": (
        "the file's format is the subcommand's own: `gatekeeper ledger export --format jsonl|csv`",
        "파일 형식은 하위 명령의 옵션으로 고릅니다: `gatekeeper ledger export --format jsonl|csv`",
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
