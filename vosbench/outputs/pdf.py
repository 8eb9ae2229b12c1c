"""Printing an HTML page to PDF with headless Chromium, the browser kaleido already needs.

The page styles its own paper (``@page`` size, margins and margin boxes with page
numbers), so Chromium's own header and footer are turned off. Chromium is found as
kaleido finds it: ``BROWSER_PATH``, else ``chromium``, ``chromium-browser`` or
``google-chrome`` on the PATH.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from vosbench.core.errors import VosbenchError

_BROWSERS = ("chromium", "chromium-browser", "google-chrome")
_TIMEOUT_SECONDS = 120


class PdfUnavailable(VosbenchError):
    """No browser to print with, or it failed; the message says what to install or check."""


def browser() -> str:
    """The Chromium/Chrome executable to print with."""
    named = os.environ.get("BROWSER_PATH")
    if named:
        return named
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise PdfUnavailable("PDF needs Chromium: install it (apt-get install chromium) or set BROWSER_PATH "
                         "to a Chrome/Chromium executable; xlsx and csv need no browser")


def html_to_pdf(html: Path, pdf: Path, *, wait_ms: int = 0) -> Path:
    """Print ``html`` to ``pdf``; ``wait_ms`` gives scripts (plotly) time to draw before printing."""
    pdf = Path(pdf).resolve()
    pdf.unlink(missing_ok=True)
    with tempfile.TemporaryDirectory(prefix="vosbench-chromium-") as profile:
        command = [browser(), "--headless", "--no-sandbox", "--disable-gpu", "--no-pdf-header-footer",
                   "--disable-background-networking", "--disable-component-update", "--no-first-run",
                   f"--user-data-dir={profile}", f"--print-to-pdf={pdf}"]
        if wait_ms:
            command.append(f"--virtual-time-budget={wait_ms}")
        command.append(Path(html).resolve().as_uri())
        try:
            done = subprocess.run(command, capture_output=True, text=True, timeout=_TIMEOUT_SECONDS)
        except subprocess.TimeoutExpired:
            raise PdfUnavailable(f"Chromium did not print {html} within {_TIMEOUT_SECONDS} s") from None
    if not pdf.exists() or pdf.stat().st_size == 0:
        raise PdfUnavailable(f"Chromium did not print {html} (exit {done.returncode}): "
                             f"{done.stderr.strip()[-300:]}")
    return pdf
