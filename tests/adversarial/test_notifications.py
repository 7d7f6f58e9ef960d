"""Notifications attacked (issue 19 item 4): hostile text in RFC and incident titles aimed at chat markup
and mail headers, secrets aimed at the output, receivers that hang, fail, redirect or refuse, and a
configuration that writes its secrets inline or names another variable. Whatever happens, the decision and
the records stay what they would be without notifications."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
import yaml

import tests.acceptance as cases
from gatekeeper.config import load_config
from gatekeeper.ledger.backends import open_ledger
from tests.adversarial.conftest import Recorder
from tests.helpers import GitRepo, pipeline_job, run_cli
from tests.receivers import HANG, http_receiver, smtp_receiver

FAST = {"timeout_seconds": 2, "retries": 1, "backoff_seconds": 0}
HOSTILE_TITLE = (
    "<!channel> <!here|here> @channel @here @everyone @all @park 긴급 "
    "<https://evil.example/steal|결재하기> [승인](https://evil.example/x) "
    "**bold** `code` <b>html</b> &amp; http://evil.example/raw"
)


def _records(repo: GitRepo) -> list[Any]:
    config = load_config(repo.path / ".gatekeeper.yml")
    ledger = open_ledger(config, repo.path, {})
    try:
        return list(ledger.find())
    finally:
        ledger.close()


def _gate(repo: GitRepo, at: Any, env: dict[str, str] | None = None) -> Any:
    return run_cli(["--format", "json", "gate", "--rfc", cases.RFC_ID], cwd=repo.path, now=at, env=env)


# ---------------------------------------------------------------------------------------------- markup


def _chat_texts(body: dict[str, Any], fmt: str) -> str:
    if fmt == "teams":
        card = body["attachments"][0]["content"]
        parts = [b.get("text", "") for b in card["body"]]
        parts += [f["value"] for b in card["body"] for f in b.get("facts", [])]
        return "\n".join(parts)
    text: str = body["text"]
    return text


@pytest.mark.parametrize("fmt", ["slack", "mattermost", "teams"])
def test_hostile_rfc_titles_reach_chat_markup_inert(repo: GitRepo, reliability: Recorder, fmt: str) -> None:
    with http_receiver(200) as hook:
        config = {"notifications": {**FAST, "webhooks": [{"name": "chat", "format": fmt, "url": hook.url}]}}
        at, _ = cases.build(repo, {"approvals": [], "rfc": {"title": HOSTILE_TITLE}, "config": config})
        blocked = _gate(repo, at)
    assert blocked.code == 1 and hook.requests
    for request in hook.requests:
        text = _chat_texts(request.json(), fmt)
        assert "결재하기" in text and "긴급" in text  # the title is shown ...
        for live in ("<!channel>", "<!here", "<https://", "](https://", "<b>", "://evil"):
            assert live not in text, (live, text)  # ... but nothing in it acts
        for mention in ("@channel", "@here", "@everyone", "@all", "@park"):
            assert mention not in text, (mention, text)
        if fmt == "slack":
            assert request.json()["link_names"] is False and request.json()["unfurl_links"] is False
            assert "&lt;!channel&gt;" in text
        else:
            assert "\\[승인\\]" in text and "\\*\\*bold\\*\\*" in text
    reliability.row(
        "RFC title with <!channel>, @here/@channel/@all/@login, a masked link, a Markdown link, HTML and "
        f"a bare URL, sent to a {fmt} webhook",
        "markup injection",
        "escaped: no mention, no masked or Markdown link, no live URL; decision block unchanged",
    )


def test_hostile_incident_titles_cannot_add_mail_headers(repo: GitRepo, reliability: Recorder) -> None:
    with smtp_receiver() as smtp:
        mail = {
            "host": "127.0.0.1",
            "port": smtp.port,
            "security": "none",
            "from": "gatekeeper@agency.go.kr",
            "to": {"incident-opened": ["ops@agency.go.kr"]},
        }
        at, _ = cases.build(repo, {"config": {"notifications": {**FAST, "mail": [mail]}}})
        title = "장애\r\nBcc: thief@evil.example\r\nSubject: 승인 완료\n\n본문 위조"
        opened = run_cli(
            ["incident", "open", "--id", "INC-9", "--title", title],
            cwd=repo.path,
            env=pipeline_job(repo, "han"),
            now=at,
        )
    assert opened.code == 0
    (message,) = smtp.messages
    assert smtp.envelopes == [("gatekeeper@agency.go.kr", ["ops@agency.go.kr"])]
    assert message["Bcc"] is None and len(message.get_all("Subject") or []) == 1
    body = message.get_body().get_content()  # type: ignore[union-attr]
    (line,) = [x for x in body.splitlines() if x.startswith("장애명 / Title:")]
    assert "Bcc: thief@evil.example" in line and "본문 위조" in line  # shown on its own line, inert
    reliability.row(
        "incident title with CR/LF, a Bcc: header, a second Subject: and a forged body",
        "mail header injection",
        "one Subject, no Bcc, envelope recipients only those configured; record written",
    )


# ---------------------------------------------------------------------------------------------- secrets


SECRET_TOKEN = "tok-7Qe9-SECRET-bearer-value"
SECRET_PATH = "T0000/B1111/hook-SECRET-in-url-path-xyz"
SECRET_PASSWORD = "pw-SECRET-smtp-Zq8!"


def test_secrets_never_reach_any_output_stream(
    repo: GitRepo,
    reliability: Recorder,
    tmp_path: Path,
    capfd: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.DEBUG)
    with (
        http_receiver(500) as failing,
        http_receiver(200) as working,
        smtp_receiver(user="gatekeeper", password="other", refuse_logins=True) as smtp,
    ):
        hooks = [
            {
                "name": "down",
                "format": "slack",
                "url_env": "GATEKEEPER_NOTIFY_DOWN_URL",
                "token_env": "GATEKEEPER_NOTIFY_TOKEN",
            },
            {
                "name": "up",
                "format": "generic",
                "url_env": "GATEKEEPER_NOTIFY_UP_URL",
                "token_env": "GATEKEEPER_NOTIFY_TOKEN",
            },
            {"name": "nowhere", "url_env": "GATEKEEPER_NOTIFY_NOWHERE_URL"},
        ]
        mail = {
            "host_env": "GATEKEEPER_NOTIFY_SMTP_HOST",
            "port": smtp.port,
            "security": "none",
            "from": "gatekeeper@agency.go.kr",
            "username": "gatekeeper",
            "password_env": "GATEKEEPER_NOTIFY_SMTP_PASSWORD",
            "to": {event: ["ops@agency.go.kr"] for event in ("approval-requested", "incident-opened")},
        }
        config = {"notifications": {**FAST, "webhooks": hooks, "mail": [mail]}}
        at, _ = cases.build(repo, {"approvals": [], "config": config})
        env = {
            "GATEKEEPER_NOTIFY_DOWN_URL": f"{failing.url}/{SECRET_PATH}",
            "GATEKEEPER_NOTIFY_UP_URL": f"{working.url}/{SECRET_PATH}",
            "GATEKEEPER_NOTIFY_NOWHERE_URL": f"http://127.0.0.1:9/{SECRET_PATH}",
            "GATEKEEPER_NOTIFY_TOKEN": SECRET_TOKEN,
            "GATEKEEPER_NOTIFY_SMTP_PASSWORD": SECRET_PASSWORD,
            "GATEKEEPER_NOTIFY_SMTP_HOST": "127.0.0.1",
        }
        outputs = []
        for args in (
            ["gate", "--rfc", cases.RFC_ID],
            ["--format", "json", "gate", "--rfc", cases.RFC_ID],
            ["--lang", "ko", "incident", "open", "--id", "INC-5", "--title", "t"],
        ):
            result = run_cli(args, cwd=repo.path, env={**env, **pipeline_job(repo, "han")}, now=at)
            outputs += [result.stdout, result.stderr]
        exported = run_cli(["ledger", "export", "--format", "jsonl"], cwd=repo.path, now=at)
        outputs += [exported.stdout, exported.stderr]
    captured = capfd.readouterr()
    outputs += [captured.out, captured.err, caplog.text]
    state = Path(str(Path.home())) / ".local" / "state" / "gatekeeper"
    outputs += [str(p) + (p.read_text("utf-8", "replace") if p.is_file() else "") for p in state.rglob("*")]
    everything = "\n".join(outputs)
    assert "warning: notify:" in everything  # the failures were reported ...
    assert (
        len(working.requests) >= 5
        and working.requests[0].headers["Authorization"] == f"Bearer {SECRET_TOKEN}"
    )
    for secret in (SECRET_TOKEN, SECRET_PATH, SECRET_PASSWORD, "SECRET"):
        assert secret not in everything, secret  # ... without a secret
    reliability.row(
        "a URL token, a bearer token and an SMTP password in GATEKEEPER_NOTIFY_* variables; channels "
        "answering 500, refusing the login, unreachable, and working",
        "secret disclosure",
        "stdout, stderr (text, JSON, Korean), fd-level output, logging, the ledger export and the journal "
        "hold no secret",
    )


# ---------------------------------------------------------------------------------------------- receivers


def test_a_hanging_webhook_changes_no_decision_and_loses_no_record(
    repo: GitRepo, reliability: Recorder, tmp_path: Path
) -> None:
    notice_due = {"system": {"grade": 3}, "rfc": {"impact": {"systems": ["gov24"]}}}
    quiet = GitRepo.create(tmp_path / "quiet")
    at, _ = cases.build(quiet, notice_due)
    args = ["--format", "json", "deploy", "start", "--rfc", cases.RFC_ID]
    expected = run_cli(args, cwd=quiet.path, now=at)
    with http_receiver(HANG) as hook:
        config = {
            "notifications": {
                "timeout_seconds": 0.3,
                "retries": 1,
                "backoff_seconds": 0,
                "webhooks": [{"name": "slow", "url": hook.url}],
            }
        }
        cases.build(repo, {**notice_due, "config": config})
        started = run_cli(args, cwd=repo.path, now=at)
        deployment = json.loads(started.stdout)["deployment_id"]
        finished = run_cli(["deploy", "finish", deployment, "--result", "failure"], cwd=repo.path, now=at)
    assert expected.code == started.code == 0
    findings = json.loads(started.stdout)["findings"]
    assert findings == json.loads(expected.stdout)["findings"]
    assert [f["rule"] for f in findings] == ["integration.notice-missing"]
    assert finished.code == 0
    kinds = [r.kind for r in _records(repo)]
    assert kinds.count("deployment.started") == kinds.count("deployment.finished") == 1
    assert kinds.count("incident.opened") == 1
    assert started.stderr.count("warning: notify:") == finished.stderr.count("warning: notify:") == 1
    assert "no answer within 0.3 s" in started.stderr + finished.stderr
    assert len(hook.requests) == 4  # notice due, incident opened: two attempts each
    reliability.row(
        "webhook that accepts the connection and never answers, during deploy start (allowed, notice due) "
        "and deploy finish --result failure",
        "receiver hangs",
        "timeout after 2 bounded attempts, one warning each; allow unchanged, findings identical",
        lost=0,
    )


def test_a_redirect_does_not_carry_the_token_elsewhere(repo: GitRepo, reliability: Recorder) -> None:
    with http_receiver(302) as redirecting, http_receiver(200) as thief:
        redirecting.location = thief.url
        hook = {"name": "r", "url_env": "GATEKEEPER_NOTIFY_URL", "token_env": "GATEKEEPER_NOTIFY_TOKEN"}
        at, _ = cases.build(repo, {"config": {"notifications": {**FAST, "webhooks": [hook]}}})
        env = {
            **pipeline_job(repo, "han"),
            "GATEKEEPER_NOTIFY_TOKEN": SECRET_TOKEN,
            "GATEKEEPER_NOTIFY_URL": redirecting.url,
        }
        opened = run_cli(
            ["incident", "open", "--id", "INC-3", "--title", "t"], cwd=repo.path, env=env, now=at
        )
    assert opened.code == 0 and thief.requests == [] and len(redirecting.requests) == 1
    assert "redirects are not followed" in opened.stderr
    reliability.row(
        "webhook answering 302 to another server, with a bearer token configured",
        "redirect",
        "not followed, not retried; the other server receives nothing; warning",
    )


def test_a_crash_while_notifying_is_a_warning(
    repo: GitRepo, reliability: Recorder, monkeypatch: pytest.MonkeyPatch
) -> None:
    from gatekeeper.adapters import notify

    def broken(self: object, events: object) -> None:
        raise RuntimeError(f"unexpected {SECRET_TOKEN}")

    monkeypatch.setattr(notify.Notifier, "deliver", broken)
    hook = {"name": "x", "url_env": "GATEKEEPER_NOTIFY_URL", "token_env": "GATEKEEPER_NOTIFY_TOKEN"}
    at, _ = cases.build(repo, {"approvals": [], "config": {"notifications": {"webhooks": [hook]}}})
    env = {"GATEKEEPER_NOTIFY_TOKEN": SECRET_TOKEN, "GATEKEEPER_NOTIFY_URL": "http://127.0.0.1:9/h"}
    blocked = _gate(repo, at, env)
    assert blocked.code == 1 and json.loads(blocked.stdout)["decision"] == "block"
    assert "could not notify: RuntimeError: unexpected ***" in blocked.stderr
    assert SECRET_TOKEN not in blocked.stderr + blocked.stdout
    reliability.row(
        "an exception inside the notifier whose message holds a secret",
        "crash",
        "one redacted warning; exit 1 (block) unchanged, no traceback",
    )


def test_one_event_is_sent_once_across_runs_and_channels(repo: GitRepo, reliability: Recorder) -> None:
    with http_receiver(200) as a, http_receiver(200) as b:
        hooks = [{"name": "a", "url": a.url}, {"name": "b", "url": b.url, "format": "mattermost"}]
        case = {"approvals": [], "config": {"notifications": {**FAST, "webhooks": hooks}}}
        at, _ = cases.build(repo, case)
        for _ in range(3):
            assert _gate(repo, at).code == 1
    assert len(a.requests) == len(b.requests) == 5
    keys = [r.headers["Idempotency-Key"] for r in a.requests]
    assert sorted(keys) == sorted(r.headers["Idempotency-Key"] for r in b.requests) and len(set(keys)) == 5
    reliability.row(
        "the same blocked gate run three times with two webhooks",
        "repetition",
        "each approval request sent once per channel, with one idempotency key per event",
    )


# ---------------------------------------------------------------------------------------------- config


@pytest.mark.parametrize(
    ("body", "needle"),
    [
        (
            {"webhooks": [{"name": "s", "url": "https://hooks.slack.com/services/T0/B1/secret?x=1"}]},
            "url_env",
        ),
        ({"webhooks": [{"name": "s", "url": "https://user:pw@hooks.example.go.kr/x"}]}, "url_env"),
        ({"webhooks": [{"name": "s", "url": "http://hooks.example.go.kr/x"}]}, "https://"),
        ({"webhooks": [{"name": "s", "url_env": "GATEKEEPER_LEDGER_DSN"}]}, "GATEKEEPER_NOTIFY_"),
        (
            {"webhooks": [{"name": "s", "url_env": "GATEKEEPER_NOTIFY_U", "token_env": "GITHUB_TOKEN"}]},
            "GATEKEEPER_NOTIFY_",
        ),
        (
            {"webhooks": [{"name": "s", "url": "https://h.example", "url_env": "GATEKEEPER_NOTIFY_X"}]},
            "either",
        ),
        ({"webhooks": [{"name": "s", "url": "https://h.example", "token": "abc"}]}, "unknown key"),
        (
            {
                "mail": [
                    {
                        "host": "smtp.example.go.kr",
                        "security": "none",
                        "from": "a@b.kr",
                        "to": {"incident-opened": ["c@d.kr"]},
                    }
                ]
            },
            "in the clear",
        ),
        (
            {
                "mail": [
                    {
                        "host": "smtp.example.go.kr",
                        "from": "a@b.kr",
                        "username": "u",
                        "password": "p",
                        "to": {"incident-opened": ["c@d.kr"]},
                    }
                ]
            },
            "unknown key",
        ),
        (
            {
                "mail": [
                    {
                        "host": "smtp.example.go.kr",
                        "from": "a@b.kr",
                        "to": {"incident-opened": ["c@d.kr\nBcc: x@y"]},
                    }
                ]
            },
            "notifications.mail[0].to.incident-opened[0]",
        ),
        (
            {"webhooks": [{"name": "s", "url": "https://h.example", "events": ["approval-sought"]}]},
            "approval-requested",
        ),
        (
            {
                "webhooks": [
                    {"name": "s", "url": "https://evil.example", "token_env": "GATEKEEPER_NOTIFY_TOKEN"}
                ]
            },
            "a token goes only to a URL from the environment",
        ),
        (
            {
                "mail": [
                    {
                        "host": "smtp.evil.example",
                        "from": "a@b.kr",
                        "username": "u",
                        "password_env": "GATEKEEPER_NOTIFY_SMTP_PASSWORD",
                        "to": {"incident-opened": ["c@d.kr"]},
                    }
                ]
            },
            "a password goes only to a host from the environment",
        ),
        (
            {
                "webhooks": [
                    {"name": "s", "url": "https://h.example"},
                    {"name": "s", "url": "https://i.example"},
                ]
            },
            "twice",
        ),
    ],
)
def test_a_configuration_cannot_write_or_borrow_secrets(
    repo: GitRepo, reliability: Recorder, body: dict[str, Any], needle: str
) -> None:
    config = yaml.safe_load((repo.path / ".gatekeeper.yml").read_text("utf-8"))
    config["notifications"] = body
    repo.write(".gatekeeper.yml", yaml.safe_dump(config, allow_unicode=True))
    result = run_cli(["gate", "--rfc", "RFC-2026-0001"], cwd=repo.path)
    assert result.code == 2, result.stderr
    assert ".gatekeeper.yml:" in result.stderr and "notifications" in result.stderr
    assert needle in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
    for secret in ("/secret?", "user:pw", "pw@"):
        assert secret not in result.stderr
    reliability.row(
        f"notifications: {json.dumps(body, ensure_ascii=False)[:110]}",
        "inline secret / borrowed variable / clear-text mail / bad value",
        "exit 2 naming the file, line and key path; the secret is not echoed",
    )


@pytest.mark.parametrize("server", ["no-starttls", "untrusted-certificate", "clear-text-to-a-remote-host"])
def test_the_smtp_password_goes_only_over_verified_tls(
    repo: GitRepo, reliability: Recorder, tmp_path: Path, server: str
) -> None:
    from tests.receivers import self_signed_context

    tls = self_signed_context(tmp_path) if server == "untrusted-certificate" else None
    host = "mail.example.go.kr" if server.startswith("clear") else "127.0.0.1"
    with smtp_receiver(user="gatekeeper", password=SECRET_PASSWORD, tls=tls) as smtp:
        mail = {
            "host_env": "GATEKEEPER_NOTIFY_SMTP_HOST",
            "port": smtp.port,
            "security": "none" if server.startswith("clear") else "starttls",
            "from": "gatekeeper@agency.go.kr",
            "username": "gatekeeper",
            "password_env": "GATEKEEPER_NOTIFY_SMTP_PASSWORD",
            "to": {"incident-opened": ["ops@agency.go.kr"]},
        }
        at, _ = cases.build(repo, {"config": {"notifications": {**FAST, "mail": [mail]}}})
        env = {
            **pipeline_job(repo, "han"),
            "GATEKEEPER_NOTIFY_SMTP_PASSWORD": SECRET_PASSWORD,
            "GATEKEEPER_NOTIFY_SMTP_HOST": host,
        }
        opened = run_cli(
            ["incident", "open", "--id", "INC-4", "--title", "t"], cwd=repo.path, env=env, now=at
        )
    assert opened.code == 0 and len(_records(repo)) > 0
    assert smtp.logins == [] and smtp.messages == []  # the password was never offered
    reason = {
        "no-starttls": "does not offer STARTTLS",
        "untrusted-certificate": "TLS: SSLCertVerificationError",
        "clear-text-to-a-remote-host": "only to 127.0.0.1 or localhost",
    }[server]
    assert reason in opened.stderr and "(1 attempt(s))" in opened.stderr
    assert SECRET_PASSWORD not in opened.stdout + opened.stderr
    reliability.row(
        f"security: starttls against a server with {server.replace('-', ' ')}",
        "TLS downgrade / interception",
        "no login, no mail, no retry; one warning; the incident is recorded",
    )
