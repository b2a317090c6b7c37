"""HTML to PDF, for locality packs and payment statements.

Two engines print the same self-contained HTML (its ``@page`` rules set A4, margins and the
page footer):

* **Chromium** (headless, the Debian ``chromium`` package that ``make test`` and
  ``make demo`` install for the browser tests), used when it is there: a 31-page locality
  pack prints in about 3 s, as a tagged PDF that screen readers can follow.
* **WeasyPrint**, otherwise: pure Python on Pango, no browser needed, but it lays out SVG chart
  text letter by letter, so the same pack takes about 30 s.

``CAREPATH_PDF_ENGINE`` (``chromium`` or ``weasyprint``) chooses one; ``CAREPATH_CHROMIUM``
names the browser if it is not on the usual paths. See docs/decisions/0007.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path

from carepath.errors import CarepathError, writing

ENGINES = ("chromium", "weasyprint")
ENGINE_ENV = "CAREPATH_PDF_ENGINE"
CHROMIUM_ENV = "CAREPATH_CHROMIUM"
CHROMIUM_NAMES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
# A pack prints in seconds; a browser that hangs must not hang a batch.
CHROMIUM_TIMEOUT_S = 180
# Lines of Chromium's own log that say nothing about the print (no session bus in a
# container, GPU probing on a headless machine).
_NOISE = ("dbus", "bus.cc", "gpu", "unexpected operator", "Fontconfig")


def chromium_path() -> str | None:
    named = os.environ.get(CHROMIUM_ENV)
    if named:
        return named if Path(named).is_file() else None
    for name in CHROMIUM_NAMES:
        found = shutil.which(name)
        if found:
            return found
    return None


def engine() -> str:
    """The engine that will print: the one asked for, else Chromium when installed."""
    asked = os.environ.get(ENGINE_ENV)
    if asked:
        if asked not in ENGINES:
            raise CarepathError(f"{ENGINE_ENV}={asked!r} is not an engine; use "
                                f"{' or '.join(ENGINES)}")
        return asked
    return "chromium" if chromium_path() else "weasyprint"


def write_pdf(html: str, path: Path) -> None:
    """Print ``html`` to ``path``. The file appears whole or not at all."""
    path = Path(path)
    # The draft sits beside the target, so the final rename is atomic.
    draft = path.with_name(f".{path.name}.part")
    try:
        with writing(path):
            if engine() == "chromium":
                with tempfile.TemporaryDirectory(prefix="carepath-pdf-") as tmp:
                    _chromium(html, draft, Path(tmp))
            else:
                from weasyprint import HTML

                HTML(string=html, base_url=str(path.parent)).write_pdf(str(draft))
            os.replace(draft, path)
    finally:
        draft.unlink(missing_ok=True)


# What a printed page may load: its own inline styles and data: images and fonts. No
# scripts and no network, whatever text reached the page (defence in depth: the templates
# escape everything, and Chromium runs without its sandbox when run as root).
PRINT_POLICY = ("default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "font-src data:")


def _with_policy(html: str) -> str:
    meta = f'<meta http-equiv="Content-Security-Policy" content="{PRINT_POLICY}">'
    head = re.search(r"<head(\s[^>]*)?>", html, flags=re.IGNORECASE)
    if head is None:
        return meta + html
    return html[:head.end()] + meta + html[head.end():]


def _chromium(html: str, out: Path, tmp: Path) -> None:
    browser = chromium_path()
    if browser is None:
        raise CarepathError(f"{ENGINE_ENV}=chromium but no Chromium was found; install the "
                            f"Debian package chromium or set {CHROMIUM_ENV}")
    page = tmp / "page.html"
    page.write_text(_with_policy(html), encoding="utf-8")
    command = [browser, "--headless", "--disable-gpu", "--no-first-run",
               "--disable-extensions", "--disable-background-networking",
               "--disable-dev-shm-usage", "--no-pdf-header-footer",
               f"--user-data-dir={tmp / 'profile'}", f"--print-to-pdf={out}",
               page.as_uri()]
    if os.geteuid() == 0:
        # Chromium's sandbox refuses to run as root (containers, CI). The page is our own
        # HTML with no scripts or remote resources.
        command.insert(1, "--no-sandbox")
    # Its own process group, so a hung browser is stopped with all its helper processes.
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)
    try:
        _, stderr = proc.communicate(timeout=CHROMIUM_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.communicate()
        raise CarepathError(f"Chromium did not finish printing within {CHROMIUM_TIMEOUT_S} s",
                            where=str(browser)) from None
    if proc.returncode != 0 or not out.is_file() or out.stat().st_size == 0:
        said = [ln for ln in stderr.splitlines()
                if ln.strip() and not any(n in ln for n in _NOISE)]
        raise CarepathError("Chromium could not print the PDF: "
                            + (" / ".join(said[-3:]) or f"exit code {proc.returncode}"),
                            where=str(browser))
