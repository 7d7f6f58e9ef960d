"""The language of what gatekeeper says: decided here and nowhere else.

`--lang`, then GATEKEEPER_LANG, then the configuration's `lang`, then its policy pack's `lang` (`kr-ap-sop`:
Korean), then English. An error raised before the configuration is read follows the first two alone.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Literal

Language = Literal["en", "ko"]
LANGUAGES: tuple[Language, ...] = ("en", "ko")
ENV_VARIABLE = "GATEKEEPER_LANG"


def chosen_language(option: str | None, env: Mapping[str, str]) -> Language | None:
    """The language the user chose for this run: `--lang`, then GATEKEEPER_LANG; None if neither did."""
    for candidate in (option, env.get(ENV_VARIABLE)):
        if candidate == "en":
            return "en"
        if candidate == "ko":
            return "ko"
    return None


def language(
    option: str | None, env: Mapping[str, str], configured: Callable[[], str | None] | None = None
) -> Language:
    """The language of this run. `configured` answers the configuration's `lang`, else its pack's (None
    while they cannot be read); it is asked only when the user chose none."""
    chosen = chosen_language(option, env)
    if chosen is not None:
        return chosen
    found = configured() if configured is not None else None
    return "ko" if found == "ko" else "en"
