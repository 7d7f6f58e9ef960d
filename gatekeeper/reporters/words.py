"""The words for the enum values people read in registers and command output (`--lang ko`); the files
and the ledger keep the English value, which stays the one to type on the command line."""

from __future__ import annotations

from gatekeeper.messages import ptr

# Each value said in English, so the catalogue holds its Korean word (context "value").
VALUES: tuple[str, ...] = (
    # change type (RFC `type`)
    ptr("en", "value", "normal"),
    ptr("en", "value", "standard"),
    ptr("en", "value", "emergency"),
    # RFC status
    ptr("en", "value", "draft"),
    ptr("en", "value", "active"),
    ptr("en", "value", "closed"),
    ptr("en", "value", "cancelled"),
    # deployment result
    ptr("en", "value", "success"),
    ptr("en", "value", "failure"),
    ptr("en", "value", "rolled-back"),
    ptr("en", "value", "aborted"),
    ptr("en", "value", "in-progress"),
    # incident status and type
    ptr("en", "value", "open"),
    ptr("en", "value", "resolved"),
    ptr("en", "value", "service-outage"),
    ptr("en", "value", "service-delay"),
    ptr("en", "value", "service-malfunction"),
    ptr("en", "value", "internal"),
    ptr("en", "value", "external"),
    ptr("en", "value", "cyber"),
    ptr("en", "value", "deployment-failure"),
    ptr("en", "value", "deployment-rolled-back"),
    # approval steps and decisions
    ptr("en", "value", "change-review"),
    ptr("en", "value", "cab"),
    ptr("en", "value", "change-approval"),
    ptr("en", "value", "release-first"),
    ptr("en", "value", "release-second"),
    ptr("en", "value", "approve"),
    ptr("en", "value", "reject"),
    # RFC impact level
    ptr("en", "value", "low"),
    ptr("en", "value", "medium"),
    ptr("en", "value", "high"),
)


def word(value: object, lang: str) -> str:
    """`value` as people read it in `lang`: its word in the catalogue where it is one of VALUES, else
    itself."""
    text = str(value)
    return ptr(lang, "value", text) if text in VALUES else text


# The change types as short as a table or a head line shows them.
SHORT_TYPES: tuple[str, ...] = (
    ptr("en", "change type, short", "normal"),
    ptr("en", "change type, short", "standard"),
    ptr("en", "change type, short", "emergency"),
)


def short_type(value: object, lang: str) -> str:
    """A change type in `lang`, in the short word tables and head lines show (`일반`, not `일반변경`)."""
    text = str(value)
    return ptr(lang, "change type, short", text) if text in SHORT_TYPES else text
