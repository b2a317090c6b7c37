"""A person's path through the economics pages in headless Chromium: sign in, read the CBA
with its charts drawn, record a PBMA decision through the form and see it listed."""

from __future__ import annotations

import shutil
import socket
import threading
import time

import pytest

from carepath.workspace import Workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow]
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
PASSWORD = "correct-horse-battery"
START_TIMEOUT_S = 20


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def base_url(tmp_path_factory):
    import uvicorn

    from carepath.web import users
    from carepath.web.app import create_app

    ws = Workspace.init(tmp_path_factory.mktemp("econ-browser") / "ws")
    users.add_user(ws, by="test", username="commish", password=PASSWORD, role="commissioner")
    port = _free_port()
    server = uvicorn.Server(uvicorn.Config(create_app(ws), host="127.0.0.1", port=port,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + START_TIMEOUT_S
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert server.started, "server did not start"
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=START_TIMEOUT_S)


@pytest.mark.skipif(CHROMIUM is None, reason="Debian chromium is not installed")
def test_commissioner_reads_cba_and_records_a_decision(base_url):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox"])
        page = browser.new_page()
        page.goto(f"{base_url}/login")
        page.fill("input[name=username]", "commish")
        page.fill("input[name=password]", PASSWORD)
        page.click("button[type=submit]")
        page.click("text=Economics")
        page.click("text=Hospice at home and rapid-response night nursing, Wessex")
        page.wait_for_selector("#tornado-chart .chart__canvas svg, "
                               "#tornado-chart .chart__canvas canvas")
        assert "Probability that NPV is above zero" in page.content()
        page.goto(f"{base_url}/economics/pbma/wessex-lwbc-2025")
        page.click("text=Record a decision")
        page.select_option("#option-id", "psfu")
        page.check("input[name=decision][value=disinvest]")
        page.fill("#rationale", "Panel agreed: supported self-management is safe.")
        page.click("text=Record the decision")
        page.wait_for_selector("#decision-list")
        assert "supported self-management is safe" in page.inner_text("#decision-list")
        browser.close()
