"""What gatekeeper says, in the run's language: one gettext catalogue for every message.

Messages are written in English in the code. Each is a `str.format` template with named fields, and the
template is the catalogue's msgid: `tr(lang, "{count} commits checked", count=n)`. The Korean text is the
msgstr in `gatekeeper/locale/ko/LC_MESSAGES/gatekeeper.po`, compiled to the `.mo` beside it that the
runtime reads with the standard library's `gettext`. Babel extracts the msgids (`make catalogue`), and
`tests/test_message_catalogue.py` fails when one has no Korean, when a Korean text uses a field the call
does not pass, or when the `.mo` is older than the `.po`.

A template without fields is returned as written, so its braces are literal; with fields, `{{` and `}}`
stand for braces, as in `str.format`.
"""

from __future__ import annotations

import gettext
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

DOMAIN = "gatekeeper"
LOCALE_DIR = Path(__file__).parent / "locale"


@cache
def _translations(lang: str) -> gettext.NullTranslations:
    if lang == "en":
        return gettext.NullTranslations()
    # The one file of the one language asked for, opened directly (gettext.translation would search the
    # environment's locale variables first). A missing catalogue is a broken installation, not a reason to
    # speak English to a Korean user: it raises.
    with (LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.mo").open("rb") as compiled:
        return gettext.GNUTranslations(compiled)


def template(lang: str, message: str) -> str:
    """`message`'s template in `lang`: the catalogue's text, or the English msgid itself."""
    return message if lang == "en" else _translations(lang).gettext(message)


def _filled(lang: str, said: str, fields: dict[str, Any]) -> str:
    # A field that is itself a message (or a text already said in both languages) is said in the same
    # language.
    if not fields:
        return said
    if any(isinstance(v, Message | Said) for v in fields.values()):
        fields = {k: v.said(lang) if isinstance(v, Message | Said) else v for k, v in fields.items()}
    return said.format(**fields)


def tr(lang: str, message: str, /, **fields: Any) -> str:
    """`message` said in `lang`, its `{fields}` filled in."""
    return _filled(lang, template(lang, message), fields)


def ptr(lang: str, context: str, message: str, /, **fields: Any) -> str:
    """`message` said in `lang` where the same English needs another word in another place (a form's
    "Type" is 변경유형 in one register and 장애유형 in another): gettext's message context."""
    return _filled(lang, _translations(lang).pgettext(context, message), fields)


@dataclass(frozen=True, slots=True)
class Said:
    """A text already said in both languages (a reason carried as data), to fill a message's field."""

    en: str
    ko: str

    def said(self, lang: str) -> str:
        return self.ko if lang == "ko" else self.en


def in_language(lang: str, en: str, ko: str) -> str:
    """Of a text already said in both languages (a `Message.pair`, a refusal carried as data), the one in
    `lang`."""
    return ko if lang == "ko" else en


@dataclass(frozen=True, slots=True)
class Message:
    """A message not yet said: what an error or a record's explanation carries until the run's language is
    known. `str()` is the English text (logs, JSON); `said(lang)` the text in a language."""

    text: str
    fields: dict[str, Any] = field(default_factory=dict)
    context: str | None = None  # gettext's message context (`ptr`), where one is needed

    def said(self, lang: str) -> str:
        if self.context is not None:
            return ptr(lang, self.context, self.text, **self.fields)
        return tr(lang, self.text, **self.fields)

    def filled(self, **fields: Any) -> Message:
        """The same message with more of its fields given (a table's message, filled where it is used)."""
        return Message(self.text, {**self.fields, **fields}, self.context)

    @property
    def en(self) -> str:
        return self.said("en")

    @property
    def ko(self) -> str:
        return self.said("ko")

    @property
    def pair(self) -> tuple[str, str]:
        """(English, Korean), for the values that carry both."""
        return self.en, self.ko

    def __str__(self) -> str:
        return self.en


def msg(message: str, /, **fields: Any) -> Message:
    """`message` with its fields, to be said later in whatever language the run speaks."""
    return Message(message, fields)


def pmsg(context: str, message: str, /, **fields: Any) -> Message:
    """`msg` with a gettext context (`ptr`)."""
    return Message(message, fields, context)
