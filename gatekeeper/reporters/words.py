"""The words for the enum values people read in registers and command output (`--lang ko`); the files
and the ledger keep the English value, which stays the one to type on the command line."""

from __future__ import annotations

from functools import cache

from gatekeeper.messages import ptr


@cache
def _values(lang: str) -> dict[str, str]:
    """Each value and its word in `lang` (the catalogue's context "value")."""
    return {
        # change type (RFC `type`)
        "normal": ptr(lang, "value", "normal"),
        "standard": ptr(lang, "value", "standard"),
        "emergency": ptr(lang, "value", "emergency"),
        # RFC status
        "draft": ptr(lang, "value", "draft"),
        "active": ptr(lang, "value", "active"),
        "closed": ptr(lang, "value", "closed"),
        "cancelled": ptr(lang, "value", "cancelled"),
        # deployment result
        "success": ptr(lang, "value", "success"),
        "failure": ptr(lang, "value", "failure"),
        "rolled-back": ptr(lang, "value", "rolled-back"),
        "aborted": ptr(lang, "value", "aborted"),
        "in-progress": ptr(lang, "value", "in-progress"),
        # incident status and type
        "open": ptr(lang, "value", "open"),
        "resolved": ptr(lang, "value", "resolved"),
        "service-outage": ptr(lang, "value", "service-outage"),
        "service-delay": ptr(lang, "value", "service-delay"),
        "service-malfunction": ptr(lang, "value", "service-malfunction"),
        "internal": ptr(lang, "value", "internal"),
        "external": ptr(lang, "value", "external"),
        "cyber": ptr(lang, "value", "cyber"),
        "deployment-failure": ptr(lang, "value", "deployment-failure"),
        "deployment-rolled-back": ptr(lang, "value", "deployment-rolled-back"),
        # approval steps and decisions
        "change-review": ptr(lang, "value", "change-review"),
        "cab": ptr(lang, "value", "cab"),
        "change-approval": ptr(lang, "value", "change-approval"),
        "release-first": ptr(lang, "value", "release-first"),
        "release-second": ptr(lang, "value", "release-second"),
        "approve": ptr(lang, "value", "approve"),
        "reject": ptr(lang, "value", "reject"),
        # RFC impact level
        "low": ptr(lang, "value", "low"),
        "medium": ptr(lang, "value", "medium"),
        "high": ptr(lang, "value", "high"),
    }


def word(value: object, lang: str) -> str:
    """`value` as people read it in `lang`: its word in the catalogue where it has one, else itself."""
    text = str(value)
    return _values(lang).get(text, text)


@cache
def _short_types(lang: str) -> dict[str, str]:
    """The change types as short as a table or a head line shows them."""
    return {
        "normal": ptr(lang, "change type, short", "normal"),
        "standard": ptr(lang, "change type, short", "standard"),
        "emergency": ptr(lang, "change type, short", "emergency"),
    }


def short_type(value: object, lang: str) -> str:
    """A change type in `lang`, in the short word tables and head lines show (`일반`, not `일반변경`)."""
    text = str(value)
    return _short_types(lang).get(text, text)
