"""Journeys, EoL, experience and co-production pages in headless Chromium: charts drawn from
the vendored bundle with no console errors, the person-level path for an analyst, and the
refusal for a commissioner."""

from __future__ import annotations

import pytest

from .conftest import build_journeys_workspace

pytestmark = pytest.mark.browser
PASSWORD = "correct-horse-battery"
PERIOD = "start=2024-01-01&end=2024-12-31&no_contact_days=150"


@pytest.fixture(scope="module")
def server(tmp_path_factory, live_server):
    from carepath.web import users
    from carepath.web.app import create_app

    ws = build_journeys_workspace(tmp_path_factory.mktemp("jbrowser") / "ws")
    for name, role in (("analyst", "analyst"), ("commish", "commissioner")):
        users.add_user(ws, by="test", username=name, password=PASSWORD, role=role, scope=[])
    with live_server(create_app(ws)) as base:
        yield base


def _charts_drawn(page) -> int:
    figures = page.locator("figure.chart[data-chart]")
    for i in range(figures.count()):
        figures.nth(i).locator("svg").first.wait_for(timeout=10_000)
    assert page.locator("figure.chart[data-rendered='error']").count() == 0
    return figures.count()


def test_analyst_follows_fell_between_to_a_journey(browser, server, signed_in):
    context, page, errors = signed_in(browser, server, "analyst", PASSWORD)
    page.get_by_role("link", name="Journeys", exact=True).first.click()
    page.wait_for_url("**/journeys")
    page.goto(f"{server}/journeys?{PERIOD}")
    assert _charts_drawn(page) == 1  # HNA by trust
    assert page.locator("svg.flow-diagram").count() == 1
    # On a phone the routes keep legible labels and scroll sideways, reached from the
    # keyboard (shrunk to 390 px its labels were 4 px high: a walkthrough)
    page.set_viewport_size({"width": 390, "height": 800})
    page.reload()
    assert page.locator("svg.flow-diagram").bounding_box()["width"] >= 600
    canvas = page.locator(".flow-canvas")
    assert canvas.get_attribute("role") == "region" and canvas.get_attribute("tabindex") == "0"
    page.set_viewport_size({"width": 1280, "height": 800})
    page.reload()
    page.get_by_role("link", name="list the people").click()
    page.wait_for_url("**/journeys/fell-between**")
    page.get_by_role("link", name="C", exact=True).first.click()
    page.wait_for_url("**/journeys/person/C")
    assert "diagnosis" in page.locator("#timeline").inner_text()
    page.goto(f"{server}/eol?start=2024-04-01&end=2025-03-31")
    assert _charts_drawn(page) == 1
    for path in ("/experience", "/coproduction"):
        assert page.goto(server + path).status == 200
    assert errors == [], errors
    context.close()


def test_commissioner_sees_counts_but_not_people(browser, server, signed_in):
    context, page, errors = signed_in(browser, server, "commish", PASSWORD)
    page.goto(f"{server}/journeys?{PERIOD}")
    assert "lists of people are for roles" in page.content()
    response = page.goto(f"{server}/journeys/person/C")
    assert response.status == 403
    errors[:] = [e for e in errors if "status of 403" not in e]
    assert errors == [], errors
    context.close()


def test_a_search_that_finds_no_one_shows_its_error_with_the_focus(browser, server, signed_in):
    """The form came back below its error summary, which had lost the focus to the page's
    jump to the form (an accessibility re-check); its link shows the field's label."""
    context, page, errors = signed_in(browser, server, "analyst", PASSWORD)
    page.goto(f"{server}/journeys?{PERIOD}")
    page.fill("#pseudonym", "nobody-here")
    page.get_by_role("button", name="Open journey").click()
    page.wait_for_url("**/journeys?find=nobody-here")
    page.wait_for_timeout(300)  # after the browser has done with the page's load
    assert page.evaluate("document.activeElement.className") == "error-summary"
    top = page.evaluate("document.querySelector('.error-summary').getBoundingClientRect().top")
    assert 0 <= top < 900
    page.locator(".error-summary a").click()
    assert page.evaluate("document.activeElement.id") == "pseudonym"
    label = page.evaluate("document.querySelector(\"label[for='pseudonym']\")"
                          ".getBoundingClientRect().top")
    assert label >= 0  # the label is on screen, not above it
    errors[:] = [e for e in errors if "status of 4" not in e]
    assert errors == [], errors
    context.close()
