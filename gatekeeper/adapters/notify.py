"""Notifications: webhooks (generic JSON, Slack, Mattermost, Microsoft Teams) and SMTP mail.

One registry of channel kinds (`CHANNEL_KINDS`); each channel turns an `Event` (domain.notification) into
what its receiver reads and sends it once. The properties every channel keeps:

- **Bounded.** Each attempt has a short timeout (`notifications.timeout_seconds`); a failure that may pass
  (a timeout, a refused connection, HTTP 408/425/429/5xx, SMTP 4xx) is retried `retries` times with a
  doubling backoff; one command spends at most `budget_seconds` on all of them and skips the rest.
- **Never fatal.** A failure comes back as a `Delivery` that the command prints as a warning: no decision,
  exit code or record depends on it.
- **Secrets stay secret.** A URL holding a token, a bearer token and the SMTP password come from the
  environment variables the configuration names; nothing this module returns or raises contains them (every
  reason is built from status codes and error types, then redacted against their values), redirects are
  not followed (they would carry the token elsewhere), and the SMTP password is only sent over TLS (or to
  this machine).
- **Once per event.** The event's key goes out as `Idempotency-Key` / `Message-ID`, and a journal in the
  machine's state folder claims each (event, channel) before sending: a key sent already is not sent again;
  a send that failed releases its claim so a later run tries again.
- **No markup from the change.** Titles, comments and IDs are escaped for each receiver's markup: no
  `@channel` / `<!here>` mention, no masked link, no live URL.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import smtplib
import socket
import ssl
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from http.client import HTTPException
from pathlib import Path
from typing import Any, Literal
from urllib.parse import urlsplit

from gatekeeper.config.models import MailChannelConfig, NotificationsConfig, WebhookChannelConfig
from gatekeeper.domain.notification import Event
from gatekeeper.messages import Message, pmsg

Status = Literal["sent", "duplicate", "failed", "skipped"]
_MAX_TEXT = 1000  # characters of one untrusted value in a message
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u200b-\u200f\u202a-\u202e\u2028\u2029\u2060-\u2069\ufeff]")
_MENTION = re.compile(r"@(?=\w)")
_URL_SCHEME = re.compile(r"(?i)\b([a-z][a-z0-9+.-]*)://")
_MD_SPECIAL = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>])")


class Transient(Exception):
    """A failure that may pass: try again."""


class Permanent(Exception):
    """A failure that will not pass by trying again."""


@dataclass(frozen=True, slots=True)
class Delivery:
    channel: str
    event: Event
    status: Status
    attempts: int = 0
    reason: str = ""


# ---------------------------------------------------------------------------------------------- secrets


class Secrets:
    """The values of the secret variables the configuration names, to read and to redact."""

    def __init__(self, config: NotificationsConfig, env: Mapping[str, str]) -> None:
        names = [w.url_env for w in config.webhooks] + [w.token_env for w in config.webhooks]
        names += [m.password_env for m in config.mail]
        self.env = env
        self.values = sorted(
            {env[n] for n in names if n and env.get(n) and len(env[n]) >= 4}, key=len, reverse=True
        )

    def get(self, name: str) -> str:
        value = self.env.get(name, "")
        if not value:
            raise Permanent(f"the environment variable {name} is not set")
        return value

    def redact(self, text: str) -> str:
        for value in self.values:
            text = text.replace(value, "***")
            # A URL's token may appear quoted or percent-decoded in a library's message.
            for part in re.split(r"[/?&=#:@]", value):
                if len(part) >= 12:
                    text = text.replace(part, "***")
        return text


# ---------------------------------------------------------------------------------------------- escaping


def _both(label: str) -> str:
    """`label` in Korean, then in English: `시스템 / System`."""
    said = Message(label, context="notification mail")
    return f"{said.ko} / {said.en}"


# The words `_both` says (declared here, so that the catalogue extracts them).
MAIL_WORDS = (
    pmsg("notification mail", "System"),
    pmsg("notification mail", "At"),
    pmsg("notification mail", "Event key"),
    pmsg("notification mail", "An automatic notification from gatekeeper."),
)


def plain(text: str, limit: int = _MAX_TEXT) -> str:
    """One line of text: control, bidi and zero-width characters become spaces; at most `limit` chars."""
    text = _CONTROL.sub(" ", text)
    return text if len(text) <= limit else text[:limit] + "…"


def _defang(text: str) -> str:
    # A URL in untrusted text is shown, never made a link: `https[:]//evil.example`.
    return _URL_SCHEME.sub(lambda m: f"{m.group(1)}[:]//", text)


def _no_mentions(text: str) -> str:
    # `@channel`, `@here`, `@all`, `@kim`: a zero-width space after the @ stops every mention parser.
    return _MENTION.sub("@\u200b", text)


def slack_text(text: str) -> str:
    """Untrusted text inside Slack mrkdwn: `&`, `<`, `>` escaped (no `<!channel>`, `<url|masked link>`),
    no mention, no live URL."""
    text = _defang(plain(text)).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return _no_mentions(text)


def markdown_text(text: str) -> str:
    """Untrusted text inside Markdown (Mattermost, Teams): punctuation backslash-escaped (no `[x](url)`,
    no HTML), no mention, no live URL."""
    return _no_mentions(_MD_SPECIAL.sub(r"\\\1", _defang(plain(text))))


# ---------------------------------------------------------------------------------------------- payloads


def _lines(event: Event, escape: Callable[[str], str], bullet: str) -> list[str]:
    return [f"{bullet}{line.ko} / {line.en}: {escape(line.value)}" for line in event.lines if line.value]


def generic_payload(event: Event) -> dict[str, Any]:
    """Every field as data; the receiver escapes what it shows."""
    return {
        "event": str(event.kind),
        "key": event.key,
        "system": event.system,
        "subject": plain(event.subject),
        "title": plain(event.title()),
        "summary": {"ko": plain(event.summary_ko), "en": plain(event.summary_en)},
        "rfcs": list(event.rfcs),
        "at": event.at.isoformat(),
        "lines": [{"ko": x.ko, "en": x.en, "value": plain(x.value)} for x in event.lines],
        "data": {k: plain(v) for k, v in event.data.items()},
    }


def slack_payload(event: Event) -> dict[str, Any]:
    text = "\n".join(
        [
            f"*{slack_text(event.title())}*",
            slack_text(event.summary_ko),
            slack_text(event.summary_en),
            *_lines(event, slack_text, "• "),
        ]
    )
    return {"text": text, "mrkdwn": True, "link_names": False, "unfurl_links": False, "unfurl_media": False}


def mattermost_payload(event: Event) -> dict[str, Any]:
    text = "\n".join(
        [
            f"**{markdown_text(event.title())}**",
            markdown_text(event.summary_ko),
            markdown_text(event.summary_en),
            *_lines(event, markdown_text, "- "),
        ]
    )
    return {"text": text, "username": "gatekeeper"}


def teams_payload(event: Event) -> dict[str, Any]:
    """An Adaptive Card in the message envelope Teams incoming webhooks and Workflows both accept."""
    blocks: list[dict[str, Any]] = [
        {"type": "TextBlock", "text": markdown_text(event.title()), "weight": "Bolder", "wrap": True},
        {"type": "TextBlock", "text": markdown_text(event.summary_ko), "wrap": True},
        {"type": "TextBlock", "text": markdown_text(event.summary_en), "wrap": True, "isSubtle": True},
    ]
    facts = [{"title": f"{x.ko} / {x.en}", "value": markdown_text(x.value)} for x in event.lines if x.value]
    if facts:
        blocks.append({"type": "FactSet", "facts": facts})
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": blocks,
    }
    return {
        "type": "message",
        "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
    }


def mail_message(event: Event, channel: MailChannelConfig, to: Sequence[str]) -> EmailMessage:
    message = EmailMessage()
    message["Subject"] = f"[gatekeeper] {plain(event.title(), 200)}"
    message["From"] = channel.from_
    message["To"] = ", ".join(to)
    message["Date"] = formatdate(event.at.timestamp(), localtime=False)
    message["Message-ID"] = f"<{event.key[:48]}.{channel.name}@{event.system}.gatekeeper>"
    message["Auto-Submitted"] = "auto-generated"
    message["X-Gatekeeper-Event"] = str(event.kind)
    message["X-Gatekeeper-Key"] = event.key
    body = [
        plain(event.summary_ko),
        plain(event.summary_en),
        "",
        # Both languages, Korean first: one mail reaches readers of either.
        f"{_both('System')}: {event.system}",
        *(f"{x.ko} / {x.en}: {plain(x.value)}" for x in event.lines if x.value),
        f"{_both('At')}: {event.at.isoformat()}",
        f"{_both('Event key')}: {event.key}",
        "",
        _both("An automatic notification from gatekeeper."),
    ]
    message.set_content("\n".join(body) + "\n", charset="utf-8")
    return message


# ---------------------------------------------------------------------------------------------- channels


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None  # the 3xx then raises HTTPError: a redirect would carry the token to another URL


class Channel:
    """One configured destination. `send` raises `Transient` or `Permanent`; its messages hold no secret."""

    name: str
    events: frozenset[str]

    def send(self, event: Event, timeout: float) -> None:
        raise NotImplementedError


class WebhookChannel(Channel):
    def __init__(self, config: WebhookChannelConfig, secrets: Secrets, env: Mapping[str, str]) -> None:
        self.config = config
        self.name = config.name
        self.events = frozenset(config.events)
        self.secrets = secrets
        self.env = env

    def payload(self, event: Event) -> dict[str, Any]:
        return generic_payload(event)

    def _url(self) -> str:
        if self.config.url is not None:
            return self.config.url
        assert self.config.url_env is not None
        url = self.secrets.get(self.config.url_env)
        parts = urlsplit(url)
        loopback = parts.hostname in {"127.0.0.1", "localhost", "::1"}
        if parts.scheme != "https" and not (parts.scheme == "http" and loopback):
            raise Permanent(f"{self.config.url_env} holds no https:// URL")
        return url

    def _opener(self, url: str) -> urllib.request.OpenerDirector:
        host = urlsplit(url).hostname or ""
        proxies: dict[str, str] = {}
        if host not in {"127.0.0.1", "localhost", "::1"}:
            for scheme in ("http", "https"):
                found = self.env.get(f"{scheme}_proxy") or self.env.get(f"{scheme.upper()}_PROXY")
                if found:
                    proxies[scheme] = found
        return urllib.request.build_opener(urllib.request.ProxyHandler(proxies), _NoRedirects())

    def send(self, event: Event, timeout: float) -> None:
        url = self._url()
        body = json.dumps(self.payload(event), ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json; charset=utf-8",
            "Idempotency-Key": event.key,
            "X-Gatekeeper-Event": str(event.kind),
            "User-Agent": "gatekeeper-notify",
        }
        if self.config.token_env:
            headers["Authorization"] = f"Bearer {self.secrets.get(self.config.token_env)}"
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")  # noqa: S310
        try:
            with self._opener(url).open(request, timeout=timeout) as response:
                response.read(65536)
        except urllib.error.HTTPError as exc:
            code = exc.code
            exc.close()
            if code in {408, 425, 429} or code >= 500:
                raise Transient(f"HTTP {code}") from None
            if 300 <= code < 400:
                raise Permanent(f"HTTP {code}: redirects are not followed") from None
            raise Permanent(f"HTTP {code}") from None
        except TimeoutError:
            raise Transient(f"no answer within {timeout:g} s") from None
        except urllib.error.URLError as exc:
            if isinstance(exc.reason, TimeoutError | socket.timeout):
                raise Transient(f"no answer within {timeout:g} s") from None
            if isinstance(exc.reason, ssl.SSLError):
                raise Permanent(f"TLS: {type(exc.reason).__name__}") from None
            raise Transient(f"cannot connect ({_errno_text(exc.reason)})") from None
        except (HTTPException, ConnectionError, OSError) as exc:
            raise Transient(f"connection failed ({type(exc).__name__})") from None


class SlackChannel(WebhookChannel):
    def payload(self, event: Event) -> dict[str, Any]:
        return slack_payload(event)


class MattermostChannel(WebhookChannel):
    def payload(self, event: Event) -> dict[str, Any]:
        return mattermost_payload(event)


class TeamsChannel(WebhookChannel):
    def payload(self, event: Event) -> dict[str, Any]:
        return teams_payload(event)


class MailChannel(Channel):
    def __init__(self, config: MailChannelConfig, secrets: Secrets, env: Mapping[str, str]) -> None:
        self.config = config
        self.name = config.name
        self.events = frozenset(e for e, to in config.to.items() if to)
        self.secrets = secrets

    def _host(self) -> str:
        config = self.config
        if config.host is not None:
            return config.host
        assert config.host_env is not None
        host = self.secrets.get(config.host_env).strip()
        if not re.fullmatch(r"[A-Za-z0-9.:-]{1,253}", host):
            raise Permanent(f"{config.host_env} holds no host name")
        if config.security == "none" and host not in {"127.0.0.1", "localhost", "::1"}:
            raise Permanent("security: none sends mail in the clear; only to 127.0.0.1 or localhost")
        return host

    def send(self, event: Event, timeout: float) -> None:
        config = self.config
        to = config.to.get(str(event.kind), ())  # type: ignore[call-overload]
        message = mail_message(event, config, to)
        context = ssl.create_default_context()
        host = self._host()
        try:
            client: smtplib.SMTP
            if config.security == "ssl":
                client = smtplib.SMTP_SSL(host, config.port, timeout=timeout, context=context)
            else:
                client = smtplib.SMTP(host, config.port, timeout=timeout)
            with client:
                client.set_debuglevel(0)
                if config.security == "starttls":
                    client.starttls(context=context)
                if config.username and config.password_env:
                    client.login(config.username, self.secrets.get(config.password_env))
                client.send_message(message, config.from_, list(to))
        except smtplib.SMTPAuthenticationError as exc:
            raise Permanent(f"SMTP {exc.smtp_code}: the server refused the login") from None
        except smtplib.SMTPNotSupportedError:
            raise Permanent("the SMTP server does not offer STARTTLS or AUTH") from None
        except smtplib.SMTPRecipientsRefused as exc:
            raise Permanent(f"SMTP: {len(exc.recipients)} recipient(s) refused") from None
        except smtplib.SMTPResponseException as exc:
            if 400 <= exc.smtp_code < 500:
                raise Transient(f"SMTP {exc.smtp_code}") from None
            raise Permanent(f"SMTP {exc.smtp_code}") from None
        except ssl.SSLError as exc:
            raise Permanent(f"TLS: {type(exc).__name__}") from None
        except TimeoutError:
            raise Transient(f"no answer within {timeout:g} s") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise Transient(f"SMTP connection failed ({type(exc).__name__})") from None


def _errno_text(reason: object) -> str:
    if isinstance(reason, OSError):
        return type(reason).__name__ + (f" {reason.errno}" if reason.errno is not None else "")
    return type(reason).__name__


# The channel kinds, by the `format` of a webhook, and `smtp` for mail.
CHANNEL_KINDS: dict[str, type[Channel]] = {
    "generic": WebhookChannel,
    "slack": SlackChannel,
    "mattermost": MattermostChannel,
    "teams": TeamsChannel,
    "smtp": MailChannel,
}


def channels(config: NotificationsConfig, secrets: Secrets, env: Mapping[str, str]) -> list[Channel]:
    out: list[Channel] = []
    for hook in config.webhooks:
        out.append(CHANNEL_KINDS[hook.format](hook, secrets, env))  # type: ignore[call-arg]
    for mail in config.mail:
        out.append(CHANNEL_KINDS["smtp"](mail, secrets, env))  # type: ignore[call-arg]
    return out


# ---------------------------------------------------------------------------------------------- journal


@dataclass(frozen=True, slots=True)
class Journal:
    """Which (event, channel) pairs this machine sent: one file each, created exclusively (of two
    processes, one sends). None: nowhere to keep it; the receivers' idempotency keys remain."""

    folder: Path | None

    @classmethod
    def for_env(cls, env: Mapping[str, str]) -> Journal:
        base = env.get("XDG_STATE_HOME") or (
            str(Path(env["HOME"]) / ".local" / "state") if env.get("HOME") else ""
        )
        if not base or not Path(base).is_absolute():
            return cls(None)
        return cls(Path(base) / "gatekeeper" / "notified")

    def _path(self, key: str, channel: str) -> Path | None:
        if self.folder is None:
            return None
        name = hashlib.sha256(f"{key}\0{channel}".encode()).hexdigest()[:48]
        return self.folder / name

    def claim(self, key: str, channel: str) -> bool:
        path = self._path(key, channel)
        if path is None:
            return True
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o600))
        except FileExistsError:
            return False
        except OSError:
            return True  # cannot keep a journal here: send, the receiver's key still deduplicates
        return True

    def release(self, key: str, channel: str) -> None:
        path = self._path(key, channel)
        if path is not None:
            with contextlib.suppress(OSError):
                path.unlink()


# ---------------------------------------------------------------------------------------------- notifier


class Notifier:
    def __init__(
        self,
        config: NotificationsConfig,
        env: Mapping[str, str],
        *,
        journal: Journal | None = None,
        sleep: Callable[[float], None] = time.sleep,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.config = config
        self.secrets = Secrets(config, env)
        self.channels = channels(config, self.secrets, env)
        self.journal = journal if journal is not None else Journal.for_env(env)
        self.sleep = sleep
        self.monotonic = monotonic

    def deliver(self, events: Sequence[Event]) -> list[Delivery]:
        """Send each event to every channel that takes it; never raises for a channel's failure."""
        deadline = self.monotonic() + self.config.budget_seconds
        seen: set[str] = set()
        out: list[Delivery] = []
        for event in events:
            if event.key in seen:
                continue
            seen.add(event.key)
            for channel in self.channels:
                if str(event.kind) in channel.events:
                    out.append(self._one(channel, event, deadline))
        return out

    def _one(self, channel: Channel, event: Event, deadline: float) -> Delivery:
        if self.monotonic() >= deadline:
            return Delivery(channel.name, event, "skipped", 0, "the notification time budget is spent")
        if not self.journal.claim(event.key, channel.name):
            return Delivery(channel.name, event, "duplicate")
        attempts, wait, reason = 0, self.config.backoff_seconds, ""
        while True:
            remaining = deadline - self.monotonic()
            if remaining <= 0:
                reason = f"{reason}; the notification time budget is spent".lstrip("; ")
                break
            attempts += 1
            try:
                channel.send(event, min(self.config.timeout_seconds, remaining))
                return Delivery(channel.name, event, "sent", attempts)
            except Permanent as exc:
                reason = self.secrets.redact(str(exc))
                break
            except Transient as exc:
                reason = self.secrets.redact(str(exc))
            if attempts > self.config.retries:
                break
            self.sleep(min(wait, max(0.0, deadline - self.monotonic())))
            wait *= 2
        self.journal.release(event.key, channel.name)  # a later run may try again
        return Delivery(channel.name, event, "failed", attempts, reason)
