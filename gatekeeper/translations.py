"""The Korean message catalogue, kept in step with the code: `python -m gatekeeper.translations` (`make
catalogue`).

Babel extracts every message the code says through `gatekeeper.messages` (`tr`, `ptr`, `msg`, `pmsg`);
the catalogue `gatekeeper/locale/ko/LC_MESSAGES/gatekeeper.po` keeps the Korean text of each (a new message
gets an empty one, for the translator; a message no longer said is dropped); the `.mo` the runtime reads is
compiled from it. Entries are sorted by message and carry no line numbers, so two branches that add
messages rarely touch the same lines. `--check` changes nothing and exits 1 when the files are not what this
would write or a message has no Korean. Babel is a development dependency (the `test` extra); the installed
package reads the `.mo` with the standard library alone.
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper.messages import DOMAIN, LOCALE_DIR

if TYPE_CHECKING:
    from babel.messages.catalog import Catalog

PACKAGE = Path(__file__).parent
TEMPLATES = PACKAGE.parent / "templates"  # a source checkout's: the catalogue is made there
# The functions whose literal arguments are messages (Babel's keyword specs): `tr(lang, message)`,
# `ptr(lang, context, message)`, `msg(message)`, `pmsg(context, message)`.
KEYWORDS: dict[str, tuple[object, ...]] = {
    "tr": (2,),
    "ptr": ((2, "c"), 3),
    "msg": (1,),
    "pmsg": ((1, "c"), 2),
}
LANGUAGE = "ko"


def po_path(lang: str = LANGUAGE) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def extracted() -> Iterator[tuple[str | None, str, str]]:
    """(context, message, file) of every message the package says, in file order."""
    from babel.messages.extract import extract_from_dir

    for filename, _lineno, message, _comments, context in extract_from_dir(
        str(PACKAGE),
        method_map=[("**.py", "python")],
        keywords=KEYWORDS,  # type: ignore[arg-type]
    ):
        if isinstance(message, str) and message:
            yield context, message, f"gatekeeper/{filename}"
    # The templates' words: `_()` calls, through jinja2's own Babel extractor.
    for filename, _lineno, message, _comments, context in extract_from_dir(
        str(TEMPLATES),
        method_map=[("**.j2", "jinja2.ext:babel_extract")],
        keywords={"_": None, "p_": ((1, "c"), 2)},
    ):
        if isinstance(message, str) and message:
            yield context, message, f"templates/{filename}"


def updated(current: Catalog | None) -> Catalog:
    """The catalogue for the code as it is: every extracted message, with the Korean `current` has for it."""
    from babel.messages.catalog import Catalog

    catalog = Catalog(locale=LANGUAGE, domain=DOMAIN, project="gatekeeper", fuzzy=False)
    found: dict[tuple[str | None, str], set[str]] = {}
    for context, message, filename in extracted():
        found.setdefault((context, message), set()).add(filename)
    for context, message in sorted(found, key=lambda key: (key[0] or "", key[1])):
        known = current.get(message, context) if current is not None else None
        catalog.add(
            message,
            string=known.string if known is not None and isinstance(known.string, str) else "",
            locations=[(name, 0) for name in sorted(found[(context, message)])],
            context=context,
        )
    return catalog


def read(path: Path) -> Catalog | None:
    from babel.messages.pofile import read_po

    if not path.exists():
        return None
    with path.open("rb") as handle:
        return read_po(handle, locale=LANGUAGE, domain=DOMAIN)


def po_bytes(catalog: Catalog) -> bytes:
    from babel.messages.pofile import write_po

    out = io.BytesIO()
    write_po(out, catalog, width=0, omit_header=False, include_lineno=False, sort_output=False)
    return out.getvalue()


def mo_bytes(catalog: Catalog) -> bytes:
    from babel.messages.mofile import write_mo

    out = io.BytesIO()
    write_mo(out, catalog, use_fuzzy=False)
    return out.getvalue()


def untranslated(catalog: Catalog) -> list[str]:
    """The messages the catalogue has no Korean for."""
    return [
        (f"[{message.context}] " if message.context else "") + str(message.id)
        for message in catalog
        if message.id and not message.string
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m gatekeeper.translations", description=__doc__)
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if out of date")
    args = parser.parse_args(argv)
    po = po_path()
    mo = po.with_suffix(".mo")
    catalog = updated(read(po))
    # The header's creation date would change on every run; the one already written is kept.
    current = read(po)
    if current is not None:
        catalog.creation_date = current.creation_date
        catalog.revision_date = current.revision_date
    want_po, want_mo = po_bytes(catalog), mo_bytes(catalog)
    missing = untranslated(catalog)
    stale = [
        str(path)
        for path, want in ((po, want_po), (mo, want_mo))
        if not path.exists() or path.read_bytes() != want
    ]
    if args.check:
        for path in stale:
            print(f"{path} is not up to date: run `make catalogue`", file=sys.stderr)
    else:
        po.parent.mkdir(parents=True, exist_ok=True)
        po.write_bytes(want_po)
        mo.write_bytes(want_mo)
    for message in missing:
        print(f"no Korean for: {message}", file=sys.stderr)
    print(f"{len(catalog)} messages, {len(missing)} without Korean")
    return 1 if missing or (args.check and stale) else 0


if __name__ == "__main__":
    sys.exit(main())
