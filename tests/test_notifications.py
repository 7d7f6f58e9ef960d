"""Notifications (issue 19 item 4) against real local receivers: an HTTP server on 127.0.0.1 and an SMTP
server (aiosmtpd). Each event is raised by the command that makes it happen, in a real git repository."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

import tests.acceptance as cases
from gatekeeper.config import load_config
from gatekeeper.ledger.backends import open_ledger
from tests.helpers import GitRepo, pipeline_job, run_cli
from tests.receivers import http_receiver, smtp_receiver

CASES = Path(__file__).parent / "cases"
FAST = {"timeout_seconds": 2, "retries": 2, "backoff_seconds": 0}


def _case(rule: str, name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((CASES / rule / "fail" / f"{name}.yaml").read_text("utf-8"))
    return loaded


def _hook(url: str, **extra: Any) -> dict[str, Any]:
    return {"notifications": {**FAST, "webhooks": [{"name": "ops", "url": url, **extra}]}}


def _with(case: dict[str, Any], config: dict[str, Any]) -> dict[str, Any]:
    return {**case, "config": {**case.get("config", {}), **config}}


def _records(repo: GitRepo, kind: str) -> list[Any]:
    config = load_config(repo.path / ".gatekeeper.yml")
    ledger = open_ledger(config, repo.path, {})
    try:
        return list(ledger.find(kind=kind))
    finally:
        ledger.close()


def _gate(repo: GitRepo, at: Any, env: dict[str, str] | None = None) -> Any:
    return run_cli(["--format", "json", "gate", "--rfc", cases.RFC_ID], cwd=repo.path, now=at, env=env)


# ---------------------------------------------------------------------------------------------- events


def test_a_blocked_gate_asks_each_missing_approval_once(repo: GitRepo) -> None:
    with http_receiver(200) as hook:
        at, _ = cases.build(repo, _with({"approvals": []}, _hook(hook.url)))
        first = _gate(repo, at)
        again = _gate(repo, at)
    assert first.code == again.code == 1
    assert first.stdout == again.stdout  # the decision does not depend on the notifications
    bodies = [r.json() for r in hook.requests]
    assert {b["event"] for b in bodies} == {"approval-requested"}
    steps = sorted(b["subject"].split()[1] for b in bodies)
    assert steps == sorted(["change-review", "cab", "change-approval", "release-first", "release-second"])
    assert len(hook.requests) == 5  # the second gate run asked nobody again (the journal)
    first_body = bodies[0]
    assert first_body["title"].startswith("승인 요청 / Approval requested: RFC-2026-0042")
    assert first_body["summary"]["ko"].startswith("변경요청 RFC-2026-0042의")
    assert {"ko": "제목", "en": "Title", "value": "RFC-2026-0042 민원 신청 화면 개선"} in first_body["lines"]
    keys = [r.headers["Idempotency-Key"] for r in hook.requests]
    assert len(set(keys)) == 5 and all(k == b["key"] for k, b in zip(keys, bodies, strict=True))
    assert "warning" not in first.stderr


def test_an_rfc_edited_after_the_request_asks_again(repo: GitRepo) -> None:
    with http_receiver(200) as hook:
        at, _ = cases.build(repo, _with({"approvals": []}, _hook(hook.url, events=["approval-requested"])))
        _gate(repo, at)
        rfc = repo.path / "changes" / f"{cases.RFC_ID}.yml"
        rfc.write_text(rfc.read_text("utf-8").replace("검증을 강화한다", "검증을 더 강화한다"), "utf-8")
        _gate(repo, at)
    assert len(hook.requests) == 10
    assert len({r.headers["Idempotency-Key"] for r in hook.requests}) == 10


@pytest.mark.parametrize(
    ("rule", "name", "event", "subject"),
    [
        ("deploy.pir-overdue", "pir-missing-after-14-days", "debts-overdue", "RFC-2026-0041"),
        ("deploy.retro-review-overdue", "emergency-without-retro-approval", "debts-overdue", None),
        ("integration.notice-missing", "no-notice", "notice-due", "RFC-2026-0042"),
        ("incident.report-missing", "grade-1-unreported", "incident-report-due", "INC-2026-0009"),
    ],
)
def test_the_gate_tells_of_notices_due_and_debts_overdue(
    repo: GitRepo, rule: str, name: str, event: str, subject: str | None
) -> None:
    with http_receiver(200) as hook:
        at, _ = cases.build(repo, _with(_case(rule, name), _hook(hook.url)))
        result = _gate(repo, at)
    found = [r.json() for r in hook.requests if r.json()["event"] == event]
    assert found, [r.json()["event"] for r in hook.requests]
    assert any(b["data"]["rule"] == rule for b in found)
    if subject is not None:
        assert any(b["subject"] == subject for b in found)
    assert result.code == 1


def test_a_gate_asked_about_another_time_tells_nobody(repo: GitRepo) -> None:
    with http_receiver(200) as hook:
        at, _ = cases.build(repo, _with({"approvals": []}, _hook(hook.url)))
        args = [
            "--format",
            "json",
            "gate",
            "--rfc",
            cases.RFC_ID,
            "--at",
            (at + timedelta(days=1)).isoformat(),
        ]
        result = run_cli(args, cwd=repo.path, now=at)
    assert result.code == 1 and hook.requests == []


def test_deploy_start_blocked_and_a_failed_deployment_notify(repo: GitRepo) -> None:
    with http_receiver(200) as hook:
        at, _ = cases.build(repo, {"config": _hook(hook.url)})
        started = run_cli(
            ["--format", "json", "deploy", "start", "--rfc", cases.RFC_ID], cwd=repo.path, now=at
        )
        assert started.code == 0, started.stderr
        deployment = json.loads(started.stdout)["deployment_id"]
        finished = run_cli(
            ["deploy", "finish", deployment, "--result", "failure", "--errors", "500 on /apply"],
            cwd=repo.path,
            now=at + timedelta(minutes=10),
        )
        assert finished.code == 0, finished.stderr
    bodies = [r.json() for r in hook.requests]
    assert [b["event"] for b in bodies] == ["incident-opened"]
    (incident,) = _records(repo, "incident.opened")
    assert bodies[0]["key"] == incident.hash
    assert bodies[0]["data"]["record_hash"] == incident.hash


def test_incident_open_notifies_by_mail_and_webhook(repo: GitRepo) -> None:
    with smtp_receiver() as smtp, http_receiver(200) as hook:
        mail = {
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": "none",
            "from": "gatekeeper@agency.go.kr",
            "to": {
                "incident-opened": ["ops@agency.go.kr", "head@agency.go.kr"],
                "approval-given": ["x@a.kr"],
            },
        }
        config = {"notifications": {**FAST, "mail": [mail], "webhooks": [{"name": "chat", "url": hook.url}]}}
        at, _ = cases.build(repo, {"config": config})
        opened = run_cli(
            ["incident", "open", "--id", "INC-2026-0100", "--title", "민원 조회 지연"],
            cwd=repo.path,
            env=pipeline_job(repo, "han"),
            now=at,
        )
    assert opened.code == 0, opened.stderr
    (message,) = smtp.messages
    assert smtp.envelopes == [("gatekeeper@agency.go.kr", ["ops@agency.go.kr", "head@agency.go.kr"])]
    assert str(message["Subject"]).startswith("[gatekeeper] 장애 등록 / Incident opened: INC-2026-0100")
    (record,) = _records(repo, "incident.opened")
    assert record.hash[:48] in str(message["Message-ID"])
    assert str(message["X-Gatekeeper-Key"]).strip() == record.hash
    body = message.get_body().get_content()  # type: ignore[union-attr]
    assert body.index("장애 INC-2026-0100이(가) 등록되었습니다") < body.index("was opened")  # Korean first
    assert "장애명 / Title: 민원 조회 지연" in body
    assert [r.json()["event"] for r in hook.requests] == ["incident-opened"]


def test_an_approval_given_is_told(repo: GitRepo) -> None:
    with http_receiver(200) as hook:
        at, _ = cases.build(repo, {"system": {"grade": 3}, "approvals": [], "config": _hook(hook.url)})
        approved = run_cli(
            [
                "approve",
                cases.RFC_ID,
                "--step",
                "change-review",
                "--decision",
                "approve",
                "--comment",
                "좋습니다",
            ],
            cwd=repo.path,
            env=pipeline_job(repo, "kim"),
            now=at,
        )
        assert approved.code == 0, approved.stderr
        rejected = run_cli(
            ["approve", cases.RFC_ID, "--step", "release-first", "--decision", "reject"],
            cwd=repo.path,
            env=pipeline_job(repo, "han"),
            now=at,
        )
    bodies = [r.json() for r in hook.requests]
    assert [b["event"] for b in bodies] == ["approval-given"], rejected.stderr
    (record,) = [r for r in _records(repo, "approval") if r.data["decision"] == "approve"]
    assert bodies[0]["key"] == record.hash and bodies[0]["subject"] == f"{cases.RFC_ID} change-review"
    assert {"ko": "의견", "en": "Comment", "value": "좋습니다"} in bodies[0]["lines"]


def test_an_audit_tells_of_overdue_debts(repo: GitRepo) -> None:
    with http_receiver(200) as hook:
        case = _with(_case("deploy.pir-overdue", "pir-missing-after-14-days"), _hook(hook.url))
        at, _ = cases.build(repo, case)
        dry = run_cli(["--format", "json", "audit", "--no-record"], cwd=repo.path, now=at)
        assert hook.requests == []
        audited = run_cli(["--format", "json", "audit"], cwd=repo.path, now=at)
    assert dry.code == audited.code == 1
    bodies = [r.json() for r in hook.requests]
    assert any(b["event"] == "debts-overdue" and b["subject"] == "change.pir" for b in bodies), bodies


# ---------------------------------------------------------------------------------------------- failures


def test_a_webhook_that_hangs_is_a_warning_and_the_decision_stands(repo: GitRepo, tmp_path: Path) -> None:
    from tests.receivers import HANG

    quiet = GitRepo.create(tmp_path / "quiet")
    at, _ = cases.build(quiet, {"approvals": []})
    baseline = _gate(quiet, at)
    with http_receiver(HANG) as hook:
        slow = {"name": "slow", "url": hook.url}
        quick = {
            "notifications": {"timeout_seconds": 0.3, "retries": 1, "backoff_seconds": 0, "webhooks": [slow]}
        }
        cases.build(repo, {"approvals": [], "config": quick})
        blocked = _gate(repo, at)
    assert baseline.code == blocked.code == 1 and baseline.stderr == ""
    assert json.loads(blocked.stdout)["findings"] == json.loads(baseline.stdout)["findings"]
    assert len(hook.requests) == 2 * 5  # two attempts for each of the five requests, then a warning each
    assert blocked.stderr.count("warning: notify:") == 5
    assert "no answer within 0.3 s" in blocked.stderr and "(2 attempt(s))" in blocked.stderr
    assert "판정과 기록은 바뀌지 않습니다" in blocked.stderr


def test_a_webhook_that_fails_then_answers_is_retried_with_the_same_key(repo: GitRepo) -> None:
    with http_receiver(500, 200) as hook:
        at, _ = cases.build(repo, {"config": _hook(hook.url)})
        started = run_cli(
            ["--format", "json", "deploy", "start", "--rfc", cases.RFC_ID], cwd=repo.path, now=at
        )
        deployment = json.loads(started.stdout)["deployment_id"]
        finished = run_cli(["deploy", "finish", deployment, "--result", "rolled-back"], cwd=repo.path, now=at)
    assert finished.code == 0 and "warning: notify" not in finished.stderr
    assert len(hook.requests) == 2
    assert hook.requests[0].body == hook.requests[1].body
    assert hook.requests[0].headers["Idempotency-Key"] == hook.requests[1].headers["Idempotency-Key"]


def test_retries_are_bounded_and_a_client_error_is_not_retried(repo: GitRepo) -> None:
    with http_receiver(503) as down, http_receiver(404) as missing:
        hooks = [{"name": "down", "url": down.url}, {"name": "gone", "url": missing.url}]
        config = {"notifications": {**FAST, "retries": 3, "webhooks": hooks}}
        at, _ = cases.build(repo, {"config": config})
        opened = run_cli(
            ["incident", "open", "--id", "INC-1", "--title", "t"],
            cwd=repo.path,
            env=pipeline_job(repo, "han"),
            now=at,
        )
    assert opened.code == 0
    assert len(down.requests) == 4 and len(missing.requests) == 1
    assert "HTTP 503" in opened.stderr and "HTTP 404" in opened.stderr
    assert len(_records(repo, "incident.opened")) == 1


def test_a_failed_send_is_tried_again_by_the_next_run(repo: GitRepo) -> None:
    with http_receiver(500, 500, 500, 500, 500, 200) as hook:
        at, _ = cases.build(repo, _with({"approvals": []}, _hook(hook.url, events=["approval-requested"])))
        config = yaml.safe_load((repo.path / ".gatekeeper.yml").read_text("utf-8"))
        config["notifications"]["retries"] = 0
        repo.write(".gatekeeper.yml", yaml.safe_dump(config, allow_unicode=True))
        first = _gate(repo, at)
        second = _gate(repo, at)
        third = _gate(repo, at)
    assert first.stderr.count("warning: notify:") == 5
    assert second.stderr.count("warning: notify:") == 0 and third.stderr == ""
    # 5 failures, then 5 successes (the 4th scripted answer stays 200); the third run sends nothing
    assert len(hook.requests) == 10


def test_a_budget_bounds_the_time_spent(repo: GitRepo) -> None:
    from tests.receivers import HANG

    with http_receiver(HANG) as hook:
        config = {"notifications": {"timeout_seconds": 0.2, "retries": 5, "budget_seconds": 0.5}}
        config["notifications"]["webhooks"] = [{"name": "slow", "url": hook.url}]  # type: ignore[index]
        at, _ = cases.build(repo, _with({"approvals": []}, config))
        blocked = _gate(repo, at)
    assert blocked.code == 1
    assert len(hook.requests) <= 4  # 0.5 s of 0.2 s attempts, whatever the number of events
    assert "budget is spent" in blocked.stderr


def test_an_smtp_server_refusing_the_login(repo: GitRepo) -> None:
    secret = "pw-Zq8!-never-shown"
    with smtp_receiver(user="gatekeeper", password=secret, refuse_logins=True) as smtp:
        mail = {
            "host_env": "GATEKEEPER_NOTIFY_SMTP_HOST",
            "port": smtp.port,
            "security": "none",
            "from": "gatekeeper@agency.go.kr",
            "username": "gatekeeper",
            "password_env": "GATEKEEPER_NOTIFY_SMTP_PASSWORD",
            "to": {"incident-opened": ["ops@agency.go.kr"]},
        }
        at, _ = cases.build(repo, {"config": {"notifications": {**FAST, "mail": [mail]}}})
        env = {
            **pipeline_job(repo, "han"),
            "GATEKEEPER_NOTIFY_SMTP_PASSWORD": secret,
            "GATEKEEPER_NOTIFY_SMTP_HOST": "127.0.0.1",
        }
        opened = run_cli(
            ["incident", "open", "--id", "INC-7", "--title", "t"], cwd=repo.path, env=env, now=at
        )
    assert opened.code == 0
    assert set(smtp.logins) == {"gatekeeper"} and smtp.messages == []
    assert "SMTP 535: the server refused the login (1 attempt(s))" in opened.stderr  # a refusal: no retry
    assert secret not in opened.stdout + opened.stderr
    assert len(_records(repo, "incident.opened")) == 1


def test_smtp_with_login_delivers(repo: GitRepo) -> None:
    with smtp_receiver(user="gatekeeper", password="right-password") as smtp:
        mail = {
            "host_env": "GATEKEEPER_NOTIFY_SMTP_HOST",
            "port": smtp.port,
            "security": "none",
            "from": "gatekeeper@agency.go.kr",
            "username": "gatekeeper",
            "password_env": "GATEKEEPER_NOTIFY_SMTP_PASSWORD",
            "to": {"approval-requested": ["officer@agency.go.kr"]},
        }
        at, _ = cases.build(repo, {"approvals": [], "config": {"notifications": {**FAST, "mail": [mail]}}})
        _gate(
            repo,
            at,
            {"GATEKEEPER_NOTIFY_SMTP_PASSWORD": "right-password", "GATEKEEPER_NOTIFY_SMTP_HOST": "localhost"},
        )
    assert len(smtp.messages) == 5
    assert all(
        str(m["Subject"]).startswith("[gatekeeper] 승인 요청 / Approval requested") for m in smtp.messages
    )


def test_a_missing_secret_variable_is_a_warning_naming_it(repo: GitRepo) -> None:
    at, _ = cases.build(
        repo,
        {
            "approvals": [],
            "config": {
                "notifications": {
                    "webhooks": [
                        {"name": "chat", "format": "slack", "url_env": "GATEKEEPER_NOTIFY_SLACK_URL"}
                    ]
                }
            },
        },
    )
    blocked = _gate(repo, at)
    assert blocked.code == 1
    assert "the environment variable GATEKEEPER_NOTIFY_SLACK_URL is not set" in blocked.stderr


# ---------------------------------------------------------------------------------------------- units


def _event(key: str = "k" * 64) -> Any:
    from datetime import UTC, datetime

    from gatekeeper.domain.notification import Event, EventKind

    return Event(
        EventKind.INCIDENT_OPENED, key, "sys", "INC-1", "요약", "summary", datetime(2026, 1, 1, tzinfo=UTC)
    )


class _Flaky:
    """A channel failing `failures` times (transiently), then succeeding."""

    def __init__(self, failures: int) -> None:
        self.name, self.events, self.calls, self.failures = (
            "flaky",
            frozenset({"incident-opened"}),
            0,
            failures,
        )
        self.timeouts: list[float] = []

    def send(self, event: Any, timeout: float) -> None:
        from gatekeeper.adapters.notify import Transient

        self.calls += 1
        self.timeouts.append(timeout)
        if self.calls <= self.failures:
            raise Transient("HTTP 503")


def _notifier(tmp_path: Path, channel: Any, **settings: Any) -> tuple[Any, list[float]]:
    from gatekeeper.adapters.notify import Journal, Notifier
    from gatekeeper.config.models import NotificationsConfig

    now = [0.0]
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    config = NotificationsConfig.model_validate_json(json.dumps(settings))
    notifier = Notifier(config, {}, journal=Journal(tmp_path / "j"), sleep=sleep, monotonic=lambda: now[0])
    notifier.channels = [channel]
    return notifier, waits


def test_backoff_doubles_and_retries_stop_at_the_limit(tmp_path: Path) -> None:
    channel = _Flaky(failures=10)
    notifier, waits = _notifier(tmp_path, channel, retries=3, backoff_seconds=0.5)
    (delivery,) = notifier.deliver([_event()])
    assert delivery.status == "failed" and delivery.attempts == 4 == channel.calls
    assert waits == [0.5, 1.0, 2.0]
    assert delivery.reason == "HTTP 503"


def test_the_budget_caps_waits_and_timeouts(tmp_path: Path) -> None:
    channel = _Flaky(failures=10)
    notifier, waits = _notifier(
        tmp_path, channel, retries=5, backoff_seconds=4, budget_seconds=6, timeout_seconds=5
    )
    delivery, later = notifier.deliver([_event(), _event("m" * 64)])  # one command, one budget
    assert delivery.status == "failed" and "budget is spent" in delivery.reason
    assert sum(waits) <= 6 and all(t <= 6 for t in channel.timeouts)
    assert later.status == "skipped" and later.attempts == 0


def test_the_journal_sends_a_key_once_and_releases_a_failure(tmp_path: Path) -> None:
    channel = _Flaky(failures=1)
    notifier, _ = _notifier(tmp_path, channel, retries=0)
    assert [d.status for d in notifier.deliver([_event(), _event()])] == ["failed"]  # one key, one delivery
    assert [d.status for d in notifier.deliver([_event()])] == ["sent"]  # the failure released its claim
    assert [d.status for d in notifier.deliver([_event()])] == ["duplicate"]
    assert channel.calls == 2


def test_escaping_for_each_markup() -> None:
    from gatekeeper.adapters.notify import markdown_text, plain, slack_text

    assert (
        slack_text("<!channel> a&b <https://x.example|y>")
        == "&lt;!channel&gt; a&amp;b &lt;https[:]//x.example|y&gt;"
    )
    assert "@\u200bhere" in slack_text("@here") and "@\u200bkim" in markdown_text("@kim")
    assert markdown_text("[a](https://x.example)") == "\\[a\\]\\(https\\[:\\]//x\\.example\\)"
    assert plain("a\r\nBcc: b\u202e") == "a  Bcc: b "
    assert len(plain("가" * 5000)) == 1001
