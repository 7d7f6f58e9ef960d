"""The SOP's forms and the audit report as HWPX (한글 문서, OWPML), the format Korean agencies file documents
in: written by python-hwpx (the `hwpx` extra) from the same `Form` model the Markdown and HTML templates
render, so what a form says is decided in `gatekeeper.reporters.forms` alone.

Fields and tables become real HWPX tables, the 결재란 a table of its own (roles, who signed, when); the
letterhead names the agency and system, and the last line the ledger head the document was made from.
Every value is untrusted text: python-hwpx escapes XML metacharacters, and control, bidi and zero-width
characters are made visible first (`sanitize.for_document`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from gatekeeper import __version__
from gatekeeper.messages import msg, ptr, tr
from gatekeeper.reporters.forms import Form, FormSection, Letterhead
from gatekeeper.reporters.sanitize import MAX_FIELD_CHARS, for_document

if TYPE_CHECKING:
    from collections.abc import Sequence

    from hwpx import HwpxDocument
    from hwpx.oxml.table import HwpxOxmlTable

# A plan (block field) is a form's substance: kept whole up to this size, as the HTML form keeps it.
MAX_BLOCK_CHARS = 50 * MAX_FIELD_CHARS
HEADER_SHADE = "#E7E6E6"


def require() -> None:
    """Stop before anything is read or recorded when the `hwpx` extra is not installed: the CLI turns the
    ImportError into exit 2 naming `sop-gatekeeper[hwpx]` (`errors.OPTIONAL_MODULES`)."""
    import hwpx  # noqa: F401


def render_hwpx(form: Form, *, lang: str, generated: str, letterhead: Letterhead | None = None) -> bytes:
    """The form as the bytes of an .hwpx file."""
    from hwpx import HwpxDocument

    letterhead = letterhead or Letterhead("")
    doc = HwpxDocument.new()
    title = doc.styles.ensure_run(bold=True, size=16)
    heading = doc.styles.ensure_run(bold=True, size=12)
    bold = doc.styles.ensure_run(bold=True)
    doc.add_paragraph(for_document(form.title), char_pr_id_ref=title, inherit_style=False)
    doc.add_paragraph(for_document(form.subtitle), inherit_style=False)
    if letterhead.agency:
        doc.add_paragraph(
            ptr(lang, "letterhead", "Agency: {agency}", agency=for_document(letterhead.agency)),
            inherit_style=False,
        )
    if letterhead.system:
        doc.add_paragraph(
            ptr(lang, "letterhead", "System: {system}", system=for_document(letterhead.system)),
            inherit_style=False,
        )
    if form.signoff:
        _signoff(doc, form, lang, bold)
    for section in form.sections:
        doc.add_paragraph(for_document(section.heading), char_pr_id_ref=heading, inherit_style=False)
        _section(doc, section)
    footer = f"gatekeeper {__version__} · {generated}"
    if letterhead.head:
        footer += " · " + ptr(lang, "letterhead", "ledger head {head}", head=letterhead.head)
    doc.add_paragraph(footer, inherit_style=False)
    report = doc.validate()  # python-hwpx's schema check: an invalid file is never written
    if not report.ok:
        raise ValueError(f"the HWPX document does not validate: {report.issues}")
    return doc.to_bytes()


def write_hwpx(
    form: Form, target: Path, *, lang: str, generated: str, letterhead: Letterhead | None = None
) -> None:
    """Write the form to `target`; an unwritable path is bad input (exit 2), said in English and Korean."""
    from gatekeeper.errors import InputError

    data = render_hwpx(form, lang=lang, generated=generated, letterhead=letterhead)
    try:
        target.write_bytes(data)
    except OSError as exc:
        raise InputError(
            msg(
                "{target}: cannot write the HWPX file: {reason}",
                target=target,
                reason=exc.strerror or exc,
            ),
            hint=msg("choose a writable path for --output"),
        ) from None


def _signoff(doc: HwpxDocument, form: Form, lang: str, bold: str) -> None:
    """결재란: a first column `결재` spanning three rows, then per box its role, who signed and when."""
    boxes = form.signoff
    table = doc.add_table(3, len(boxes) + 1, char_pr_id_ref=bold)
    for col, box in enumerate(boxes, start=1):
        table.cell(0, col).set_text(for_document(box.role))
        table.set_cell_shading(0, col, HEADER_SHADE)
        table.cell(1, col).set_text(for_document(box.name))
        table.cell(2, col).set_text(for_document(box.at))
    merged = table.merge_cells(0, 0, 2, 0)
    merged.set_text(tr(lang, "Sign-off"))
    table.set_cell_shading(0, 0, HEADER_SHADE)


def _section(doc: HwpxDocument, section: FormSection) -> None:
    if section.fields:
        table = doc.add_table(len(section.fields), 2)
        table.set_column_widths([26, 74])
        values = [
            (
                for_document(f.label),
                for_document(f.value, limit=MAX_BLOCK_CHARS if f.block else MAX_FIELD_CHARS) or "-",
            )
            for f in section.fields
        ]
        _fill(table, values)
        for row in range(len(values)):
            table.set_cell_shading(row, 0, HEADER_SHADE)
    if section.table:
        if len(section.table) < 2:
            doc.add_paragraph("–", inherit_style=False)
            return
        header = section.table[0]
        table = doc.add_table(len(section.table), len(header))
        _fill(table, [tuple(for_document(text) for text in row) for row in section.table])
        for col in range(len(header)):
            table.set_cell_shading(0, col, HEADER_SHADE)


def _fill(table: HwpxOxmlTable, rows: Sequence[Sequence[str]]) -> None:
    """Each cell's text, row by row (`table.cell(r, c)` maps the whole grid on every call: quadratic in a
    500-row deployment ledger); a line break starts a paragraph of the cell."""
    for row, values in zip(table.rows, rows, strict=True):
        for cell, text in zip(row.cells, values, strict=True):
            cell.set_text(text, split_paragraphs=True)
