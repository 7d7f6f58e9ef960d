"""`gatekeeper demo`: a whole governed release of the bundled sample system, told step by step.

The story runs in a throw-away workspace: a bare `origin` repository and a working clone of
`examples/sample-system`, with the embedded default ledger (the `gatekeeper/ledger` branch of origin).
Every step is a real gatekeeper command — in-process, with the clock and the CI identity of the person
acting injected — or a real `git commit` going through the installed commit-msg hook.
"""

from __future__ import annotations

import io
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO, TypeVar
from zoneinfo import ZoneInfo

from gatekeeper.adapters.localissuer import LocalIssuer, github_claims
from gatekeeper.config.language import ENV_VARIABLE
from gatekeeper.errors import GatekeeperError
from gatekeeper.messages import Message, msg, tr
from gatekeeper.resources import sample_system_dir
from gatekeeper.runtime import Runtime

KST = ZoneInfo("Asia/Seoul")
RFC_ID = "RFC-2026-0001"
DEVELOPER = ("dev", "dev@minwon.example.go.kr")
REPOSITORY = "minwon/minwon-portal"

# What the sample agency's people write in its commits and records: Korean, whatever language the
# reader chose (the records are theirs; the demo's narration is what follows the reader's language).
HANDOVER_SUBJECT = "Hand-over of 민원포털 1.0 (baseline)"  # korean-by-design: the sample's own data
RFC_TITLE = "민원 신청 화면 전화번호 검증 추가"  # korean-by-design: the sample's own data
DOCS_LINE = "- 전화번호 검증 오류 문의는 민원과로 안내한다.\n"  # korean-by-design: the sample's own data
REVIEWED = "검토 완료"  # korean-by-design: the sample's own data
REVIEWED_AGAIN = "재검토 완료"  # korean-by-design: the sample's own data
TEST_RESULT = "인수테스트 5건 통과"  # korean-by-design: the sample's own data
MONITORING = "오류율 0.0%"  # korean-by-design: the sample's own data
ACCEPTANCE_NOTE = "인수테스트 시나리오 5건 통과"  # korean-by-design: the sample's own data
REVIEW_NOTE = "변경계획·배포계획·배포결과 일치"  # korean-by-design: the sample's own data
IMPROVEMENTS = "검증계 배포 리허설 시간을 계획서에 적는다"  # korean-by-design: the sample's own data
FAILURE_ERRORS = "로그인 세션 만료 오류 급증"  # korean-by-design: the sample's own data
FAILURE_MONITORING = "19:12 롤백 완료, 정합성 점검 이상 없음"  # korean-by-design: the sample's own data
CAUSE = "세션 만료 시간 단축으로 작성 중인 민원 세션이 만료됨"  # korean-by-design: the sample's own data
ACTION = "이전 릴리스로 원상복구, 세션·신청 데이터 정합성 점검"  # korean-by-design: the sample's own data
FOLLOW_UP = (
    "세션 설정 변경 시 장시간 작성 시나리오를 인수테스트에 추가"  # korean-by-design: the sample's own data
)
PIR_NOTE = "오입력 민원 40건 → 2건, 세션 설정 롤백 원인 분석 중"  # korean-by-design: the sample's own data


def kst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=KST)


class DemoFailed(GatekeeperError):
    """A step of the story did not end the way the story says it must."""


@dataclass
class Story:
    workspace: Path
    out: TextIO
    total: int
    now: datetime = field(default_factory=lambda: kst("2026-11-20T09:00:00"))  # the story's clock
    step_no: int = 0
    events: int = 0
    # The CI platform's OIDC issuer, played by a local one: approval jobs get ID tokens from it.
    issuer: LocalIssuer | None = None
    # The language the reader chose (--lang, GATEKEEPER_LANG); None: the sample's own (`kr-ap-sop`: Korean).
    lang: str | None = None

    @property
    def repo(self) -> Path:
        return self.workspace / "minwon-portal"

    @property
    def origin(self) -> Path:
        return self.workspace / "origin.git"

    def step(self, title: str) -> None:
        self.step_no += 1
        self.say(f"\n[{self.step_no}/{self.total}] {title}")

    def at(self, text: str) -> None:
        """Move the story's clock (KST); git commits and gatekeeper's records take their time from it."""
        self.now = kst(text)

    def _dated(self, env: dict[str, str]) -> dict[str, str]:
        stamp = self.now.isoformat()
        return {**env, "GIT_AUTHOR_DATE": stamp, "GIT_COMMITTER_DATE": stamp}

    @property
    def speaks(self) -> str:
        """The story's language: the reader's choice, else the sample's pack's (Korean)."""
        return "en" if self.lang == "en" else "ko"

    def say(self, text: str) -> None:
        self.out.write(text + "\n")
        self.out.flush()

    def show(self, text: str, limit: int = 14) -> None:
        lines = [line for line in text.rstrip().splitlines() if line.strip()]
        for line in lines[:limit]:
            self.say(f"    │ {line}")
        if len(lines) > limit:
            self.say(f"    │ … ({len(lines) - limit} more lines)")

    # -- running things ------------------------------------------------------------------------------

    def git(
        self, *args: str, cwd: Path | None = None, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        env = self._dated(dict(os.environ))
        env.update(
            GIT_AUTHOR_NAME=DEVELOPER[0],
            GIT_AUTHOR_EMAIL=DEVELOPER[1],
            GIT_COMMITTER_NAME=DEVELOPER[0],
            GIT_COMMITTER_EMAIL=DEVELOPER[1],
            GIT_CONFIG_NOSYSTEM="1",
        )
        result = subprocess.run(
            ["git", *args], cwd=cwd or self.repo, capture_output=True, text=True, env=env, check=False
        )
        if check and result.returncode != 0:
            raise DemoFailed(
                msg("git {args} failed: {error}", args=" ".join(args), error=result.stderr.strip()),
                hint=msg("check that git is installed and run the demo again"),
            )
        return result

    def gatekeeper(
        self,
        args: Sequence[str],
        *,
        at: str,
        actor: str | None = None,
        event: dict[str, object] | None = None,
        expect: int | None = 0,
        show: bool = True,
    ) -> tuple[int, str]:
        """Run one gatekeeper command as `actor` (in a simulated GitHub Actions job) at `at` KST."""
        from gatekeeper.cli import main

        self.at(at)
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith(("GITHUB_", "GITLAB_", "CI_", "GATEKEEPER_"))
        }
        env.pop("CI", None)
        if self.lang is not None:
            env[ENV_VARIABLE] = self.lang
        # The story's own runner state (verification checkpoints): a second demo in the
        # same directory starts afresh instead of meeting the first one's checkpoint of a ledger it rebuilt.
        env["XDG_STATE_HOME"] = str(self.workspace / "runner-state")
        env = self._dated(env)  # the ledger branch's commits too
        if actor is not None:
            self.events += 1
            payload = self.workspace / f"event-{self.events}.json"
            payload.write_text(json.dumps(event or {"after": self.head()}), encoding="utf-8")
            env.update(
                CI="true",
                GITHUB_ACTIONS="true",
                GITHUB_ACTOR=actor,
                GITHUB_EVENT_NAME="push" if event else "workflow_dispatch",
                GITHUB_EVENT_PATH=str(payload),
                GITHUB_SHA=self.head(),
                GITHUB_REF="refs/heads/main",
                GITHUB_REPOSITORY=REPOSITORY,
                GITHUB_SERVER_URL="https://github.example.go.kr",
                GITHUB_RUN_ID=str(1000 + self.events),
            )
        moment = kst(at)
        if actor is not None and self.issuer is not None:
            # The job has `permissions: id-token: write`: its tokens say who ran it, signed.
            self.issuer.clock = lambda: moment
            env.update(self.issuer.actions_job(github_claims(REPOSITORY, actor, sha=env["GITHUB_SHA"])))
        out, err = io.StringIO(), io.StringIO()
        runtime = Runtime(env=env, cwd=self.repo, stdout=out, stderr=err, clock=lambda: moment)
        code = main(list(args), runtime)
        text = out.getvalue() + err.getvalue()
        who = f" as {actor}" if actor else ""
        if show:
            self.say(f"    $ gatekeeper {' '.join(args)}    # {at} KST{who} → exit {code}")
            self.show(text)
        if expect is not None and code != expect:
            raise DemoFailed(
                msg(
                    "`gatekeeper {args}` exited {code}, the story expects {expect}",
                    args=" ".join(args),
                    code=code,
                    expect=expect,
                ),
                hint=msg("read the output above and report this as a problem"),
            )
        return code, out.getvalue()

    def head(self) -> str:
        return self.git("rev-parse", "HEAD").stdout.strip()

    def edit(self, relative: str, change: Callable[[str], str]) -> None:
        path = self.repo / relative
        path.write_text(change(path.read_text(encoding="utf-8")), encoding="utf-8")


STEPS: list[tuple[Message, Callable[[Story], None]]] = []  # (title, what the step does)


StepFunction = TypeVar("StepFunction", bound=Callable[..., None])


def step(title: Message) -> Callable[[StepFunction], StepFunction]:
    def register(function: StepFunction) -> StepFunction:
        STEPS.append((title, function))
        return function

    return register


@step(msg("Set up: origin repository, a clone of the sample system, the hand-over baseline 1.0"))
def _setup(story: Story) -> None:
    story.git("init", "-q", "--bare", "-b", "main", str(story.origin), cwd=story.workspace)
    shutil.copytree(
        sample_system_dir(), story.repo, ignore=shutil.ignore_patterns("changes", "__pycache__", "reports")
    )
    story.git("init", "-q", "-b", "main")
    story.git("config", "user.name", DEVELOPER[0])
    story.git("config", "user.email", DEVELOPER[1])
    story.git("config", "commit.gpgsign", "false")
    story.git("remote", "add", "origin", str(story.origin))
    if story.issuer is not None:
        with (story.repo / ".gatekeeper.yml").open("a", encoding="utf-8") as config:
            config.write(f"platform:\n  github:\n    oidc: {{issuer: '{story.issuer.url}'}}\n")
    (story.repo / ".gitignore").write_text("reports/\n__pycache__/\n.pytest_cache/\n", encoding="utf-8")
    story.git("add", "-A")
    story.at("2026-11-20T16:30:00")
    story.git("commit", "-q", "-m", HANDOVER_SUBJECT)
    story.git("push", "-q", "origin", "main")
    story.say(tr(story.speaks, "    workspace: {workspace}", workspace=story.workspace))
    # Governance starts after the hand-over, as `gatekeeper init` records it in a repository with history.
    handover = story.head()
    with (story.repo / ".gatekeeper.yml").open("a", encoding="utf-8") as config:
        config.write(f"adoption: {{commit: '{handover}', at: '{story.now.isoformat()}'}}\n")
    story.say(
        tr(
            story.speaks,
            "    adoption point: {handover} (the hand-over and its history are exempt from commit checks)",
            handover=handover[:10],
        )
    )
    # The operator manager defines baseline 1.0 at the hand-over (seed 002 형상관리 1.2), in a pipeline job
    # of the protected default branch: a baseline anyone else records is not the baseline.
    story.gatekeeper(["baseline", "create", "--label", "1.0"], at="2026-11-20T17:00:00", actor="choi")


@step(msg("A commit without an RFC is refused by the commit-msg hook"))
def _refused(story: Story) -> None:
    story.gatekeeper(["hook", "install"], at="2026-11-23T09:30:00")
    story.edit(
        "app/complaints.py",
        lambda text: text.replace(
            'PHONE = re.compile(r"^01[016789]-?\\d{3,4}-?\\d{4}$")',
            'PHONE = re.compile(r"^01[016789]-?\\d{3,4}-?\\d{4}$")\nMAX_TITLE = 100',
        ),
    )
    story.git("add", "-A")
    story.at("2026-11-23T09:35:00")
    result = story.git("commit", "-q", "-m", "Validate phone numbers", check=False)
    story.say("    $ git commit -m 'Validate phone numbers'")
    story.show(result.stdout + result.stderr)
    if result.returncode == 0:
        raise DemoFailed(
            msg("the commit-msg hook accepted a commit without an RFC ID"),
            hint=msg("read the output above and report this as a problem"),
        )


@step(msg("The change request is written: gatekeeper rfc new, then the plan is filled in"))
def _rfc(story: Story) -> None:
    story.gatekeeper(
        [
            "rfc",
            "new",
            "--title",
            RFC_TITLE,
            "--requester",
            "lee",
        ],
        at="2026-11-23T09:40:00",
    )
    completed = (sample_system_dir() / "changes" / f"{RFC_ID}.yml").read_text(encoding="utf-8")
    (story.repo / "changes" / f"{RFC_ID}.yml").write_text(completed, encoding="utf-8")
    story.gatekeeper(["rfc", "validate", RFC_ID], at="2026-11-23T09:45:00")


@step(msg("With the RFC ID and a reason, the commit is accepted"))
def _accepted(story: Story) -> None:
    story.git("add", "-A")
    message = (
        f"{RFC_ID} Validate mobile phone numbers in the complaint form\n\n"
        "Unreachable replies came from mistyped numbers."
    )
    story.at("2026-11-23T09:50:00")
    result = story.git("commit", "-q", "-m", message, check=False)
    story.say(f"    $ git commit -m '{RFC_ID} Validate mobile phone numbers in the complaint form'")
    story.show(result.stdout + result.stderr)
    if result.returncode != 0:
        raise DemoFailed(
            msg("the commit-msg hook refused a commit naming its RFC"),
            hint=msg("read the output above and report this as a problem"),
        )


@step(msg("A --no-verify commit still fails the pipeline's range check, until it is reworded"))
def _range(story: Story) -> None:
    before = story.git("rev-parse", "origin/main").stdout.strip()
    story.edit("docs/operations.md", lambda text: text + DOCS_LINE)
    story.git("add", "-A")
    story.at("2026-11-23T09:55:00")
    story.git("commit", "-q", "--no-verify", "-m", "docs tweak")
    story.say("    $ git commit --no-verify -m 'docs tweak'")
    event = {
        "before": before,
        "after": story.head(),
        "ref": "refs/heads/main",
        "forced": False,
        "created": False,
    }
    story.gatekeeper(["check-commits"], at="2026-11-23T10:00:00", actor="dev", event=event, expect=1)
    story.at("2026-11-23T10:02:00")
    story.git(
        "commit",
        "-q",
        "--amend",
        "--no-verify",
        "-m",
        f"{RFC_ID} Tell citizens where to ask about phone validation",
    )
    story.say(f"    $ git commit --amend -m '{RFC_ID} Tell citizens where to ask about phone validation'")
    event["after"] = story.head()
    story.gatekeeper(["check-commits"], at="2026-11-23T10:05:00", actor="dev", event=event)
    story.git("push", "-q", "origin", "main")


@step(msg("Tests run in the test environment and their JUnit results are recorded as evidence"))
def _tests(story: Story, at: str = "2026-11-23T11:00:00") -> None:
    for kind, folder, target in (
        ("unit", "unit", "tests/test_complaints.py"),
        ("integration", "it", "tests/test_integration.py"),
    ):
        report = story.repo / "reports" / folder / f"{kind}.xml"
        report.parent.mkdir(parents=True, exist_ok=True)
        # The sample's own runner (standard library only): the demo needs no test framework installed.
        result = subprocess.run(
            [sys.executable, "tests/run.py", "--junitxml", str(report), target],
            cwd=story.repo,
            capture_output=True,
            text=True,
            check=False,
            env={**os.environ, "PYTHONPATH": str(story.repo)},
        )
        story.say(f"    $ python tests/run.py --junitxml reports/{folder}/{kind}.xml {target}")
        story.show(
            result.stdout.strip().splitlines()[-1] if result.stdout.strip() else result.stderr, limit=2
        )
        if result.returncode != 0:
            raise DemoFailed(
                msg(
                    "the sample's {kind} tests failed:\n{output}",
                    kind=kind,
                    output=result.stdout + result.stderr,
                ),
                hint=msg("read the output above and report this as a problem"),
            )
        story.gatekeeper(
            ["evidence", "add", "--kind", kind, "--rfc", RFC_ID, f"reports/{folder}/{kind}.xml"],
            at=at,
            actor="ci-runner",
        )


@step(msg("Approvals by five distinct people, in the order the SOP requires"))
def _approvals(story: Story) -> None:
    story.gatekeeper(
        ["gate", "--rfc", RFC_ID, "--at", "2026-11-23T13:00:00+09:00"], at="2026-11-23T13:00:00", expect=1
    )
    _approve(
        story,
        ("change-review", "kim", "2026-11-23T13:10:00"),  # 담당자 검토
        ("cab", "jung", "2026-11-23T13:30:00"),  # 변경관리위원회 심의
        ("change-approval", "park", "2026-11-23T15:00:00"),  # 관리자 승인 (검토·심의 후)
        ("release-first", "choi", "2026-11-23T16:00:00"),  # 운영관리자 (통합테스트 후)
        ("release-second", "lee", "2026-11-23T16:30:00"),  # 담당자/요청자 (사전검증 후)
    )


def _approve(story: Story, *steps: tuple[str, str, str], comment: str = REVIEWED) -> None:
    """Each (step, approver, local time) as an approval job run by the approver."""
    for step_name, actor, at in steps:
        story.gatekeeper(
            ["approve", RFC_ID, "--step", step_name, "--decision", "approve", "--comment", comment],
            at=at,
            actor=actor,
        )


@step(msg("The gate blocks the release at 10:00 KST on Tuesday (business hours) …"))
def _blocked(story: Story) -> None:
    story.gatekeeper(["gate", "--rfc", RFC_ID], at="2026-11-24T10:00:00", actor="choi", expect=1)
    story.gatekeeper(["window", "--next"], at="2026-11-24T10:00:00")


@step(msg("… and allows it at 19:00: deploy start takes the lock, deploy finish records the result"))
def _deployed(story: Story) -> None:
    story.gatekeeper(["gate", "--rfc", RFC_ID], at="2026-11-24T19:00:00", actor="choi")
    _, output = story.gatekeeper(
        ["--format", "json", "deploy", "start", "--rfc", RFC_ID], at="2026-11-24T19:00:00", actor="choi"
    )
    deployment = json.loads(output)["deployment_id"]
    story.gatekeeper(["deploy", "start", "--rfc", RFC_ID], at="2026-11-24T19:05:00", actor="lee", expect=1)
    story.gatekeeper(
        [
            "deploy",
            "finish",
            deployment,
            "--result",
            "success",
            "--worker",
            "choi",
            "--verifier",
            "lee",
            "--test-result",
            TEST_RESULT,
            "--monitoring",
            MONITORING,
        ],
        at="2026-11-24T19:20:00",
        actor="choi",
    )


@step(
    msg(
        "The release is closed: production tests, the requester's acceptance test, the "
        "consistency review, the closure"
    )
)
def _closed(story: Story) -> None:
    _, listed = story.gatekeeper(
        ["--format", "json", "ledger", "log", "--kind", "deployment.started"],
        at="2026-11-25T09:30:00",
        show=False,
    )
    deployment = str(json.loads(listed)[-1]["id"])
    # 배포관리 3.1–3.2, TST-P5: the unit and the integration (연계) tests run again in production.
    for kind, target in (("unit", "tests/test_complaints.py"), ("integration", "tests/test_integration.py")):
        report = story.repo / "reports" / "production" / f"{kind}.xml"
        report.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(
            [sys.executable, "tests/run.py", "--junitxml", str(report), target],
            cwd=story.repo,
            capture_output=True,
            text=True,
            check=True,
            env={**os.environ, "PYTHONPATH": str(story.repo)},
        )
        story.gatekeeper(
            ["evidence", "add", "--kind", kind, "--deployment", deployment, f"reports/production/{kind}.xml"],
            at="2026-11-25T09:40:00",
            actor="ci-runner",
        )
    # A developer cannot close their own release: refused, nothing written.
    story.gatekeeper(["release", "close", deployment], at="2026-11-25T09:50:00", actor="dev", expect=2)
    story.gatekeeper(
        ["release", "accept", deployment, "--result", "accepted", "--note", ACCEPTANCE_NOTE],
        at="2026-11-25T10:00:00",
        actor="lee",  # 운영기관 담당자 = 변경요청자
    )
    story.gatekeeper(
        [
            "release",
            "review",
            deployment,
            "--consistent",
            "--note",
            REVIEW_NOTE,
        ],
        at="2026-11-25T10:30:00",
        actor="choi",  # 운영관리자
    )
    story.gatekeeper(
        [
            "release",
            "close",
            deployment,
            "--improvements",
            IMPROVEMENTS,
        ],
        at="2026-11-25T11:00:00",
        actor="kim",  # 운영기관 담당자
    )


@step(
    msg(
        "A second release, approved for its own commit, fails and is rolled back: the "
        "failure opens an incident"
    )
)
def _failure(story: Story) -> None:
    story.edit(
        "config/production.env",
        lambda text: text.replace("PORTAL_SESSION_MINUTES=30", "PORTAL_SESSION_MINUTES=20"),
    )
    story.git("add", "-A")
    story.at("2026-11-25T16:00:00")
    story.git("commit", "-q", "-m", f"{RFC_ID} Shorten idle sessions to 20 minutes as planned")
    story.git("push", "-q", "origin", "main")
    _tests(story, at="2026-11-25T17:00:00")
    # REL-P1: the release plan's approvals certify one tested commit; the new release is approved again.
    _approve(
        story,
        ("release-first", "choi", "2026-11-25T17:30:00"),  # 운영관리자 (통합테스트 후)
        ("release-second", "lee", "2026-11-25T18:00:00"),  # 담당자/요청자 (사전검증 후)
        comment=REVIEWED_AGAIN,
    )
    _, output = story.gatekeeper(
        ["--format", "json", "deploy", "start", "--rfc", RFC_ID], at="2026-11-25T19:00:00", actor="choi"
    )
    deployment = json.loads(output)["deployment_id"]
    _, finished = story.gatekeeper(
        [
            "--format",
            "json",
            "deploy",
            "finish",
            deployment,
            "--result",
            "rolled-back",
            "--worker",
            "choi",
            "--verifier",
            "lee",
            "--errors",
            FAILURE_ERRORS,
            "--monitoring",
            FAILURE_MONITORING,
        ],
        at="2026-11-25T19:15:00",
        actor="choi",
        show=False,
    )
    incident = json.loads(finished)["incident"]["id"]
    story.say(
        tr(story.speaks, "    incident {incident} opened by the rollback (장애 접수)", incident=incident)
    )
    # The operator manager closes the incident with its report (SOP INC 장애보고서): one recovery time,
    # 19:00 → 19:15, which the KPIs' MTTR reads too.
    story.gatekeeper(
        [
            "incident",
            "close",
            incident,
            "--resolved-at",
            "2026-11-25T19:15:00+09:00",
            "--cause-type",
            "software",
            "--cause",
            CAUSE,
            "--action",
            ACTION,
            "--follow-up",
            FOLLOW_UP,
        ],
        at="2026-11-25T19:40:00",
        actor="choi",
    )
    story.gatekeeper(
        ["--lang", "ko", "report", "form", "incident-report", incident], at="2026-11-25T19:45:00"
    )


@step(msg("The post-implementation review of the CAB-reviewed change"))
def _pir(story: Story) -> None:
    story.gatekeeper(
        [
            "pir",
            RFC_ID,
            "--result",
            "achieved",
            "--note",
            PIR_NOTE,
        ],
        at="2026-11-27T10:00:00",
        actor="kim",
    )


@step(msg("The auditor's view: baseline drift, KPIs and the audit report"))
def _audit(story: Story) -> None:
    period = ["--since", "2026-11-01", "--until", "2026-12-01"]
    # In the auditor's job, as the audit below: the platform's signatures (the baseline's, the deploying
    # jobs') verify there.
    story.gatekeeper(["baseline", "diff"], at="2026-11-30T10:00:00", actor="auditor", expect=None)
    story.gatekeeper(["kpi", *period], at="2026-11-30T10:00:00", actor="auditor", expect=None)
    _, kpis = story.gatekeeper(
        ["--format", "json", "kpi", *period],
        at="2026-11-30T10:00:00",
        actor="auditor",
        expect=None,
        show=False,
    )
    report = story.workspace / "audit-report.html"
    story.gatekeeper(
        ["audit", *period, "--html", str(report)], at="2026-11-30T10:05:00", actor="auditor", expect=None
    )
    if not report.is_file():
        raise DemoFailed(
            msg("the audit report {report} was not written", report=report),
            hint=msg("read the output above and report this as a problem"),
        )
    _, audit = story.gatekeeper(
        ["--format", "json", "audit", *period, "--no-record"],
        at="2026-11-30T10:05:00",
        actor="auditor",  # the same auditor's run: the checklist it summarises is the one shown above
        expect=None,
        show=False,
    )
    story.say(checklist_and_kpis(json.loads(audit), json.loads(kpis), story.speaks))


@step(msg("ledger verify: the hash chain is intact; then a tampered record is detected"))
def _tamper(story: Story) -> None:
    story.gatekeeper(["ledger", "verify"], at="2026-11-30T10:10:00")
    scratch = story.workspace / "tamper"
    story.git(
        "clone", "-q", "--branch", "gatekeeper/ledger", str(story.origin), str(scratch), cwd=story.workspace
    )
    victims = sorted((scratch / "records").rglob("*.json"))
    if len(victims) < 3:
        raise DemoFailed(
            msg("the ledger has fewer records than the story wrote"),
            hint=msg("read the output above and report this as a problem"),
        )
    victim = victims[2]
    record = json.loads(victim.read_text(encoding="utf-8"))
    record["actor"] = "mallory"
    victim.write_text(
        json.dumps(record, ensure_ascii=False, sort_keys=True, separators=(",", ":")), encoding="utf-8"
    )
    story.at("2026-11-30T10:12:00")
    story.git("commit", "-q", "-am", "edit a record by hand", cwd=scratch)
    story.git("push", "-q", "origin", "gatekeeper/ledger", cwd=scratch)
    story.say(
        tr(
            story.speaks,
            "    (someone rewrote {relative_to_scratch} on the ledger branch: actor → mallory)",
            relative_to_scratch=victim.relative_to(scratch),
        )
    )
    story.gatekeeper(["ledger", "verify"], at="2026-11-30T10:15:00", expect=1)


def checklist_and_kpis(audit: dict[str, Any], kpis: dict[str, Any], lang: str = "en") -> str:
    """Why the checklist can be conform while KPIs are not met: they answer different questions."""
    ko = lang == "ko"
    items = audit.get("items", [])
    conform = sum(1 for item in items if item.get("result") == "conform")
    nonconform = [item["id"] for item in items if item.get("result") == "nonconform"]
    unmet = [k for k in kpis.get("kpis", []) if k.get("met") is False]
    why = tr(
        lang,
        "Reading the two together: the checklist asks whether the SOP's procedure was followed for every "
        "change (RFC, approvals, test evidence, rollback plan, an incident for each failure); the KPIs "
        "measure outcomes against the pack's targets. A release that failed and was rolled back by the "
        "book keeps the checklist conform and still counts against the deployment KPIs.",
    )
    summary = tr(
        lang,
        "checklist: {conform} conform, {nonconform} nonconform",
        conform=conform,
        nonconform=len(nonconform),
    )
    # Korean is about twice as wide per character: the paragraph is wrapped shorter.
    reading = [*textwrap.wrap(why, 60 if ko else 100, initial_indent="    ", subsequent_indent="    ")]
    reading.append("    " + summary)
    if nonconform:
        reading[-1] += f" ({', '.join(nonconform)})"
    lines = ["", *reading]
    for kpi in unmet:
        ratio = f" ({kpi['numerator']}/{kpi['denominator']})" if kpi.get("denominator") else ""
        value = f"{kpi['id']} = {kpi['value']:g} {kpi.get('unit', '')}".rstrip()
        lines.append(
            "    "
            + tr(
                lang,
                "KPI not met: {value}, target {target}{ratio} [{sop}]",
                value=value,
                target=kpi["target"],
                ratio=ratio,
                sop=kpi["sop"],
            )
        )
    if any(k["id"] == "audit-execution-rate" for k in unmet):
        later = tr(
            lang,
            "(the audit execution rate counts audit.run records: the audit above is the month's\n"
            "first, recorded after these KPIs were computed; the next KPI report counts it)",
        )
        lines.extend("    " + line for line in later.splitlines())
    return "\n".join(lines)


def run_demo(workspace: Path, out: TextIO, lang: str | None = None) -> Path:
    if workspace.exists():
        shutil.rmtree(workspace)
    workspace.mkdir(parents=True)
    story = Story(workspace.resolve(), out, total=len(STEPS), lang=lang)
    story.say(
        tr(
            story.speaks,
            "gatekeeper demo — a governed release of 민원포털 (grade 1, kr-ap-sop) from commit to audit",
        )
    )
    with LocalIssuer() as issuer:
        story.issuer = issuer
        for title, function in STEPS:
            story.step(title.said(story.speaks))
            function(story)
    report = story.workspace / "audit-report.html"
    story.say(tr(story.speaks, "\nDone. The audit report is {report}", report=report))
    story.say(tr(story.speaks, "The ledger is the gatekeeper/ledger branch of {origin}", origin=story.origin))
    return report
