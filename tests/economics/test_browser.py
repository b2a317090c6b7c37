"""A person's path through the economics pages in headless Chromium: sign in, read the CBA
with its charts drawn, record a PBMA decision through the form and see it listed."""

from __future__ import annotations

import pytest

from carepath.workspace import Workspace

pytestmark = [pytest.mark.browser, pytest.mark.slow]
PASSWORD = "correct-horse-battery"


@pytest.fixture(scope="module")
def base_url(tmp_path_factory, live_server):
    from carepath.web import users
    from carepath.web.app import create_app

    ws = Workspace.init(tmp_path_factory.mktemp("econ-browser") / "ws")
    users.add_user(ws, by="test", username="commish", password=PASSWORD, role="commissioner")
    with live_server(create_app(ws)) as base:
        yield base


def test_commissioner_reads_cba_and_records_a_decision(base_url, browser):
    context = browser.new_context()
    try:
        page = context.new_page()
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
        assert page.inner_text("#decision-recorded").strip() == "Recorded: disinvest psfu."
    finally:
        context.close()
