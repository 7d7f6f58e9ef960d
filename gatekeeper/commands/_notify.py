"""Telling people (`notifications:` of `.gatekeeper.yml`): what `approve`, `gate`, `deploy`, `incident open`
and `audit` call once their decision is printed and their record stored.

Nothing here changes an exit code or a record: a channel that fails, or anything else that goes wrong
while notifying, is one warning on stderr, in Korean and English, without the channel's secrets.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from gatekeeper.commands import Context
from gatekeeper.domain import Finding
from gatekeeper.domain.notification import Event, finding_events
from gatekeeper.errors import GatekeeperError
from gatekeeper.messages import msg, tr
from gatekeeper.reporters.sanitize import for_log


def configured(ctx: Context) -> bool:
    notifications = ctx.config.notifications
    return bool(notifications.webhooks or notifications.mail)


def notify(ctx: Context, events: Callable[[], Iterable[Event]]) -> None:
    """Send the events `events()` builds (only called when a channel is configured)."""
    if not configured(ctx):
        return
    from gatekeeper.adapters.notify import Notifier, Secrets

    config = ctx.config.notifications
    secrets = Secrets(config, ctx.runtime.env)
    try:
        built = list(events())
        if not built:
            return
        deliveries = Notifier(config, ctx.runtime.env).deliver(built)
    except Exception as exc:
        reason = secrets.redact(f"{type(exc).__name__}: {exc}")
        failed = msg("could not notify: {reason}", reason=reason)
        _warn(ctx, failed.ko, failed.en)
        return
    for delivery in deliveries:
        if delivery.status not in {"failed", "skipped"}:
            continue
        event = delivery.event
        what = for_log(f"{event.subject}")
        reason = for_log(delivery.reason)
        tried = f"{delivery.attempts}" if delivery.attempts else "0"
        said = {
            lang: tr(
                lang,
                "could not send '{name}' ({what}) to channel {channel}: {reason} ({tried} attempt(s))",
                name=name,
                what=what,
                channel=delivery.channel,
                reason=reason,
                tried=tried,
            )
            for lang, name in (("ko", event.name_ko), ("en", event.name_en))
        }
        _warn(ctx, said["ko"], said["en"])


def _warn(ctx: Context, ko: str, en: str) -> None:
    unchanged = msg("the decision and the records are unchanged")
    ctx.runtime.stderr.write(f"warning: notify: {ko}\n  {en}\n  {unchanged.ko} / {unchanged.en}\n")


def rfc_facts(ctx: Context, rfc_ids: Iterable[str]) -> tuple[dict[str, str], dict[str, str]]:
    """(digests, titles) of the RFCs that exist and are valid."""
    from gatekeeper.adapters.rfcstore import open_store

    store = open_store(ctx.repo_root, ctx.config, ctx.runtime.env)
    digests: dict[str, str] = {}
    titles: dict[str, str] = {}
    for rfc_id in dict.fromkeys(rfc_ids):
        try:
            entry = store.get(rfc_id)
        except GatekeeperError:  # not an RFC ID (an incident's): nothing to add
            continue
        if entry is not None and entry.rfc is not None:
            digests[rfc_id] = entry.digest
            titles[rfc_id] = entry.rfc.title
    return digests, titles


def notify_findings(ctx: Context, findings: Iterable[Finding]) -> None:
    """The events among a gate's findings: approvals requested, notices due, debts and reports overdue."""
    chosen = tuple(findings)

    def events() -> list[Event]:
        from gatekeeper.domain.notification import FINDING_EVENTS

        relevant = [f for f in chosen if f.rule in FINDING_EVENTS]
        if not relevant:
            return []
        digests, titles = rfc_facts(ctx, (f.subject.partition(" ")[0] for f in relevant))
        return finding_events(
            relevant, system=ctx.config.system.id, at=ctx.runtime.now(), digests=digests, titles=titles
        )

    notify(ctx, events)
