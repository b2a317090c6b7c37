"""Shared fixtures. Peer fixtures and public data are read from ../shared, never copied."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
PEER = SHARED / "peer"
PUBLIC_DATA = SHARED / "data" / "public"


@pytest.fixture
def empty_workspace(tmp_path):
    from carepath.workspace import Workspace

    return Workspace.init(tmp_path / "ws")


# ----- browser tests: one live-server helper and one Chromium for every suite ------------
CHROMIUM = "/usr/bin/chromium"  # the Debian package; `make test` installs it
SERVER_START_TIMEOUT_S = 20


@contextmanager
def _live_server(app) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 on a free port in a thread; stop it on exit."""
    import uvicorn

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while not server.started:
        assert time.monotonic() < deadline, "server did not start"
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=SERVER_START_TIMEOUT_S)


@pytest.fixture(scope="session")
def live_server():
    """``with live_server(app) as base_url: ...`` for module-scoped server fixtures."""
    return _live_server


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright, shared by every browser test."""
    if not Path(CHROMIUM).exists():
        pytest.skip("Debian chromium is not installed (make test installs it)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        launched = pw.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        yield launched
        launched.close()


def _signed_in(browser, base: str, username: str, password: str):
    """A new browser context signed in as ``username``: (context, page, console errors)."""
    context = browser.new_context(viewport={"width": 1200, "height": 900})
    page = context.new_page()
    errors: list[str] = []
    page.on("console", lambda m: m.type == "error" and errors.append(m.text))
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(base + "/login")
    page.fill("#username", username)
    page.fill("#password", password)
    page.keyboard.press("Enter")
    page.wait_for_url(base + "/")
    return context, page, errors


@pytest.fixture(scope="session")
def signed_in():
    """``signed_in(browser, base_url, username, password)`` -> (context, page, errors)."""
    return _signed_in
