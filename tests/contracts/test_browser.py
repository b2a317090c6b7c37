"""The contract dashboard in real headless Chromium: a commissioner opens a contract, the
SPC charts draw from the vendored bundle with no console errors, the icon summary and the
chance table are there; a provider's list holds only its own contract."""

from __future__ import annotations

import pytest

from .conftest import PASSWORD, build_web_workspace, cheap_password_hashes

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server(tmp_path_factory, live_server):
    from carepath.web.app import create_app

    with cheap_password_hashes():
        ws = build_web_workspace(tmp_path_factory.mktemp("contracts_browser"))
        with live_server(create_app(ws)) as base:
            yield base


def test_commissioner_opens_a_contract_and_charts_draw(browser, server, signed_in):
    context, page, errors = signed_in(browser, server, "commish", PASSWORD)
    page.get_by_role("link", name="Contracts", exact=True).first.click()
    page.wait_for_url("**/contracts")
    page.get_by_role("link", name="Test contract").click()
    page.wait_for_url("**/contracts/test_contract")
    assert "Contract year 3 of 7" in page.content()  # first year with value at risk
    page.get_by_role("link", name="4", exact=True).click()
    page.wait_for_url("**year=4")
    page.get_by_role("link", name="3", exact=True).click()
    page.wait_for_url("**year=3")
    figures = page.locator("figure.chart")
    assert figures.count() >= 1
    for i in range(figures.count()):
        figures.nth(i).locator("svg").first.wait_for(timeout=10_000)
    assert page.locator("figure.chart[data-rendered='error']").count() == 0
    assert page.locator("#icon-summary svg.mdc-icon").count() >= 2
    assert "£970,000.00" in page.locator("#statement-lines").inner_text()
    assert page.locator("#chance-table").is_visible()
    assert errors == [], errors
    context.close()


def test_provider_sees_only_its_own_contract(browser, server, signed_in):
    context, page, _errors = signed_in(browser, server, "prime_b", PASSWORD)
    page.goto(server + "/contracts")
    listing = page.locator("#contracts").inner_text()
    assert "Other contract" in listing and "Test contract" not in listing
    response = page.goto(server + "/contracts/test_contract")
    assert response.status == 403
    context.close()
