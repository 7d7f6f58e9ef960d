"""Printing HTML to PDF with headless Chromium (Debian's `chromium`), the browser the HTML reports are
checked in: forms and reports on A4 as a person would print them, with Korean fonts the system has."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Mapping
from pathlib import Path

from gatekeeper.errors import InputError, UsageError
from gatekeeper.messages import msg

FLAGS = (
    "--headless",
    "--no-sandbox",  # runners are containers without user namespaces; the page is our own, local HTML
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)
TIMEOUT = 180  # seconds: a cold start on a loaded 2-core runner takes a while


def chromium(env: Mapping[str, str]) -> str:
    """The Chromium to print with: $GATEKEEPER_CHROMIUM, else `chromium` / `chromium-browser` on PATH."""
    named = env.get("GATEKEEPER_CHROMIUM", "")
    path = env.get("PATH")
    if named:  # a Chromium named explicitly is the one used, or none
        found = shutil.which(named, path=path)
    else:
        found = next(
            (p for p in (shutil.which(n, path=path) for n in ("chromium", "chromium-browser")) if p), None
        )
    if found is None:
        hint = msg(
            "install it (`apt-get install chromium`) or set GATEKEEPER_CHROMIUM to its path; "
            "or write --html and print that"
        )
        if named:
            raise UsageError(
                msg(
                    "PDF output needs Chromium, and none was found (GATEKEEPER_CHROMIUM={named!r})",
                    named=named,
                ),
                hint=hint.en,
                hint_ko=hint.ko,
            )
        raise UsageError(
            msg("PDF output needs Chromium, and none was found on PATH"),
            hint=msg(
                "install it (`apt-get install chromium`) or set GATEKEEPER_CHROMIUM to its path; "
                "or write --html and print that"
            ),
        )
    return found


def print_pdf(html: str, target: Path, env: Mapping[str, str]) -> None:
    """Write `html` as a PDF to `target` (page size and margins from its CSS `@page`)."""
    browser = chromium(env)
    with tempfile.TemporaryDirectory(prefix="gatekeeper-pdf-") as work:
        page = Path(work) / "page.html"
        page.write_text(html, encoding="utf-8")
        command = [
            browser,
            *FLAGS,
            f"--user-data-dir={Path(work) / 'profile'}",
            f"--print-to-pdf={target}",
            page.as_uri(),
        ]
        try:
            done = subprocess.run(command, capture_output=True, timeout=TIMEOUT, check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise InputError(
                msg("Chromium could not print {name}: {exc}", name=target.name, exc=exc),
                hint=msg("check that Chromium starts (`chromium --headless --version`)"),
            ) from None
    if done.returncode != 0 or not target.is_file() or target.stat().st_size == 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        raise InputError(
            msg(
                "Chromium could not print {name} (exit {returncode}): {detail}",
                name=target.name,
                returncode=done.returncode,
                detail=detail[0][:300],
            ),
            hint=msg("check that Chromium starts (`chromium --headless --version`)"),
        )
