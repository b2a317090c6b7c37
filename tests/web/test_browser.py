"""Every page a user sees, in real headless Chromium (Debian package) through Playwright:
each role's main journey, keyboard access, charts drawn from the vendored bundle with no
console errors (so the Content Security Policy and offline assets hold)."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from carepath.web import users

from .conftest import PASSWORD, build_workspace, make_current
from .test_inequalities import _groups as groups

pytestmark = pytest.mark.browser
IND = "early_stage_all"
CHANGER = "changer"  # an account of its own: its password changes
SHOTS = Path(os.environ.get("CAREPATH_SCREENSHOTS", "/tmp/carepath-shots"))


@pytest.fixture(scope="module")
def server(tmp_path_factory, live_server):
    """A real uvicorn server on 127.0.0.1 and a free port, stopped at the end."""
    from carepath.web.app import create_app

    ws = build_workspace(tmp_path_factory.mktemp("browser") / "ws")
    with ws.transaction() as con:  # figures by group, for the inequalities page
        con.executemany(f"INSERT INTO indicator_values VALUES ({', '.join('?' * 30)})",
                        groups())
    make_current(ws)
    users.add_user(ws, by="test", username=CHANGER, password=PASSWORD, role="analyst")
    with live_server(create_app(ws)) as base:
        yield base


class Session:
    """A browser context for one user, collecting console errors."""

    def __init__(self, browser, base: str):
        self.base = base
        self.context = browser.new_context(viewport={"width": 1200, "height": 900})
        self.page = self.context.new_page()
        self.errors: list[str] = []
        # errors, and Vega's own warnings (a spec it had to change), fail the test
        self.page.on("console", lambda m: (m.type == "error" or m.text.startswith("WARN"))
                     and self.errors.append(m.text))
        self.page.on("pageerror", lambda e: self.errors.append(str(e)))

    def go(self, path: str, *, expect: int = 200):
        """Navigate; an expected error status is not a console error of the page."""
        response = self.page.goto(self.base + path)
        assert response.status == expect, (path, response.status)
        if expect >= 400:
            self.errors = [e for e in self.errors if f"status of {expect}" not in e]
        self.check_accessible_basics()
        return response

    def login_with_keyboard(self, username: str) -> None:
        self.go("/login")
        page = self.page
        page.keyboard.press("Tab")  # skip link first
        assert page.evaluate("document.activeElement.className") == "skip-link"
        page.focus("#username")
        page.keyboard.type(username)
        page.keyboard.press("Tab")
        assert page.evaluate("document.activeElement.id") == "password"
        page.keyboard.type(PASSWORD)
        page.keyboard.press("Enter")
        page.wait_for_url(self.base + "/")

    def check_accessible_basics(self) -> None:
        """WCAG basics every page must meet: one h1, a lang, a main landmark, every visible
        form control labelled, every image-like chart named, no positive tabindex."""
        problems = self.page.evaluate("""() => {
          const out = [];
          if (document.querySelectorAll('h1').length !== 1) out.push('h1 count');
          if (!document.documentElement.lang) out.push('no lang');
          if (!document.querySelector('main')) out.push('no main');
          for (const el of document.querySelectorAll(
              'input:not([type=hidden]), select, textarea')) {
            const named = el.labels && el.labels.length || el.getAttribute('aria-label')
              || el.getAttribute('aria-labelledby');
            if (!named) out.push('unlabelled ' + (el.name || el.id));
          }
          for (const svg of document.querySelectorAll('figure.chart svg')) {
            if (!svg.getAttribute('aria-label')) out.push('unnamed chart');
          }
          for (const el of document.querySelectorAll('[tabindex]')) {
            if (parseInt(el.getAttribute('tabindex'), 10) > 0) out.push('positive tabindex');
          }
          // Wide tables scroll in their own box; the page itself never scrolls sideways.
          const page = document.scrollingElement;
          if (page.scrollWidth > page.clientWidth + 1) out.push('page scrolls sideways');
          return out;
        }""")
        assert problems == [], (self.page.url, problems)

    def shot(self, name: str) -> None:
        self.check_accessible_basics()
        SHOTS.mkdir(parents=True, exist_ok=True)
        self.page.screenshot(path=str(SHOTS / f"{name}.png"), full_page=True)

    def charts_drawn(self) -> int:
        figures = self.page.locator("figure.chart")
        n = figures.count()
        for i in range(n):
            figures.nth(i).locator("svg").first.wait_for(timeout=10_000)
        assert self.page.locator("figure.chart[data-rendered='error']").count() == 0
        return n

    def close(self) -> None:
        self.context.close()


@pytest.fixture
def session(browser, server):
    opened: list[Session] = []

    def make() -> Session:
        s = Session(browser, server)
        opened.append(s)
        return s

    yield make
    for s in opened:
        assert s.errors == [], s.errors
        s.close()


def test_analyst_journey_indicator_page_charts_and_tables(session):
    s = session()
    s.login_with_keyboard("analyst")
    assert "Where to start" in s.page.content()
    s.shot("home")
    s.page.get_by_role("link", name="Indicators", exact=True).first.click()
    s.page.wait_for_url("**/indicators")
    s.page.get_by_role("link", name="Cancers diagnosed at stage 1 or 2").first.click()
    s.page.wait_for_url(f"**/indicators/{IND}")
    assert s.charts_drawn() == 3  # funnel, ordered bar, trend
    # the data-table alternative opens from the keyboard
    summary = s.page.locator("figure#funnel summary")
    summary.focus()
    s.page.keyboard.press("Enter")
    assert s.page.locator("figure#funnel table").is_visible()
    assert "Suppressed" in s.page.locator("#values + p + .table-wrap table").inner_text()
    s.shot("indicator")
    s.page.select_option("#level", "locality")
    s.page.get_by_role("button", name="Show").click()
    s.page.wait_for_url("**level=locality**")
    assert "North Locality" in s.page.content()


def test_inequalities_from_the_indicator_page_and_another_area(session):
    s = session()
    s.login_with_keyboard("analyst")
    s.go(f"/indicators/{IND}")
    s.page.locator("#inequalities-link a").click()
    s.page.wait_for_url(f"**/indicators/{IND}/inequalities**")
    assert s.charts_drawn() == 2  # by sex and by deprivation quintile
    assert "Slope index of inequality" in s.page.locator("#imd_quintile-gradient").inner_text()
    # the groups' own order on the chart's axis, most deprived first
    ticks = s.page.locator("figure#imd_quintile-chart svg").first.text_content()
    assert ticks.index("1 (most deprived)") < ticks.index("5 (least deprived)")
    s.shot("inequalities")
    s.page.select_option("#area", "locality:L1")
    s.page.get_by_role("button", name="Show").click()
    s.page.wait_for_url("**area=locality%3AL1**")
    assert "inequalities in North Locality" in s.page.content()
    assert s.charts_drawn() == 2


def test_lead_journey_rug_profile_outliers_and_review_form(session):
    s = session()
    s.login_with_keyboard("northlead")
    s.page.get_by_role("link", name="North Locality").first.click()
    s.page.wait_for_url("**/localities/L1")
    rug = s.page.locator("table.rug")
    assert rug.locator("tbody tr").count() == 2
    assert "worse" in rug.inner_text().lower()
    s.shot("locality")
    # Narrow enough that even this two-indicator rug is wider than the page (41 indicators
    # are on a laptop): it scrolls in its own box, and
    # the labels hidden in its cells must not widen the page (checked on every visit).
    s.page.set_viewport_size({"width": 150, "height": 800})
    s.go("/localities/L1")
    assert s.page.evaluate("document.querySelector('table.rug').scrollWidth") > 150
    s.page.set_viewport_size({"width": 1200, "height": 900})
    s.page.get_by_role("link", name="Alpha Surgery").first.click()
    s.page.wait_for_url("**/practices/P1")
    assert s.charts_drawn() == 1
    s.shot("practice")
    s.go("/localities/L1/outliers")
    s.page.locator("details.panel summary").first.focus()
    s.page.keyboard.press("Enter")
    s.page.fill("textarea[name=explanation]", "Two late stagings in a small list")
    s.page.check("input[name=accepted][value=no]")
    s.page.fill("textarea[name=action]", "Review staging with the trust")
    s.page.fill("input[name=owner]", "Dr Example")
    s.page.get_by_role("button", name="Save the record").first.click()
    s.page.wait_for_url("**/outliers#reviews")
    assert "Review staging with the trust" in s.page.locator("#reviews ~ .table-wrap").inner_text()
    s.shot("outliers")
    s.go("/localities/L2", expect=403)
    assert "outside" in s.page.content()


def test_public_journey_without_an_account(session):
    s = session()
    s.go("/")
    s.page.get_by_role("link", name="Published outcomes").first.click()
    s.page.wait_for_url("**/public")
    assert "suppressed" in s.page.content()
    s.page.get_by_role("link", name="Bowel screening coverage").first.click()
    s.page.wait_for_url("**/public/indicators/screening_bowel_60_74")
    body = s.page.locator("main table").last.inner_text()
    assert "0.0" in body and "No data" in body  # a true zero and a missing ICB value
    s.charts_drawn()
    s.shot("public-indicator")
    s.page.select_option("#period", "2023/24")
    s.page.get_by_role("button", name="Show").click()
    s.page.wait_for_url("**period=2023**")
    assert s.page.locator("main table").last.inner_text().count("Suppressed") == 2
    # Back: the Period menu says the period of the page shown, not the one last chosen
    # (it said 2021/22 Q3 over a table of 2024/25 Q4: a walkthrough).
    s.page.go_back()
    s.page.wait_for_load_state()
    shown = s.page.evaluate("document.querySelector('#period option[selected]').value")
    assert s.page.input_value("#period") == shown != "2023/24"
    s.go("/practices/P1")
    assert s.page.url.endswith("/login?next=/practices/P1")


def test_provider_and_admin_journeys_and_sign_out(session):
    s = session()
    s.login_with_keyboard("provider1")
    s.go(f"/indicators/{IND}?level=provider")
    assert "Wessex Hospitals" in s.page.content() and "Other Hospice" not in s.page.content()
    s.go("/practices", expect=403)
    s.page.get_by_role("button", name="Sign out").click()
    s.page.wait_for_url(s.base + "/")
    assert "Sign in" in s.page.content()
    admin = session()
    admin.login_with_keyboard("admin")
    admin.page.get_by_role("link", name="Audit").click()
    admin.page.wait_for_url("**/admin/audit")
    assert "login" in admin.page.locator("main table").first.inner_text()
    admin.shot("audit")
    admin.go("/no/such/page", expect=404)
    assert "There is no page at this address" in admin.page.content()


def test_skip_link_and_focus_are_visible(session):
    s = session()
    s.go("/public")
    s.page.keyboard.press("Tab")
    box = s.page.locator(".skip-link").bounding_box()
    assert box and box["x"] >= 0  # moved on screen when focused
    s.page.keyboard.press("Enter")
    assert s.page.evaluate("document.activeElement.id") == "main-content"


def test_changing_ones_own_password_from_the_header(session):
    s = session()
    s.login_with_keyboard(CHANGER)
    s.page.get_by_role("link", name="Change password").click()
    s.page.wait_for_url("**/account/password")
    s.page.get_by_label("Current password").fill("not it at all")
    s.page.get_by_label("New password", exact=True).fill("a new long passphrase")
    s.page.get_by_label("New password again").fill("a new long passphrase")
    s.page.get_by_role("button", name="Change password").click()
    s.page.wait_for_load_state()
    s.errors = [e for e in s.errors if "status of 400" not in e]
    s.check_accessible_basics()
    assert s.page.locator(".error-summary").inner_text().endswith(
        "Current password: that is not your current password")
    assert s.page.get_attribute("#current", "aria-invalid") == "true"
    s.page.get_by_label("Current password").fill(PASSWORD)
    s.page.get_by_label("New password", exact=True).fill("a new long passphrase")
    s.page.get_by_label("New password again").fill("a new long passphrase")
    s.page.get_by_role("button", name="Change password").click()
    s.page.wait_for_url("**/account/password?changed=1")
    assert "Your password has been changed" in s.page.content()
    s.shot("password-changed")


def test_errors_take_focus_and_narrow_screens_reflow(session):
    """From an accessibility audit: focus stayed on the page after a refused form; the
    funnel-limits menu made a 320 px page scroll sideways; the focused logo's name was
    white on yellow; a box scrolling sideways was a silent tab stop; and at 320 px the
    charts scrolled sideways in their boxes, their first view part of the axis."""
    s = session()
    s.go("/login")
    s.page.get_by_role("button", name="Sign in").click()
    s.page.wait_for_load_state()
    s.errors = [e for e in s.errors if "status of 400" not in e]
    assert s.page.evaluate("document.activeElement.className") == "error-summary"
    # Both empty boxes are said, each beside its field (only the first was: a walkthrough)
    summary = s.page.locator(".error-summary").inner_text()
    assert "Enter your user name" in summary and summary.endswith("Enter your password")
    assert s.page.get_attribute("#username", "aria-describedby") == "username-error"
    assert s.page.get_attribute("#password", "aria-describedby") == "password-error"
    s.page.focus("a.header__logo")
    assert s.page.evaluate("getComputedStyle(document.querySelector('.header__service'))"
                           ".color") == "rgb(33, 43, 50)"
    s.login_with_keyboard("analyst")
    s.page.set_viewport_size({"width": 320, "height": 800})
    s.go(f"/indicators/{IND}")  # the page must not scroll sideways (checked by go)
    s.charts_drawn()
    s.page.evaluate("window.carepathScrollable()")
    charts = s.page.evaluate("""() => [...document.querySelectorAll('figure.chart')]
        .map(f => [f.getAttribute('data-fitted'),
                   f.querySelector('.chart__canvas').scrollWidth
                   - f.querySelector('.chart__canvas').clientWidth])""")
    assert charts and all(fitted == "true" and over <= 1 for fitted, over in charts)
    scrollers = s.page.evaluate("""() => [...document.querySelectorAll('.table-wrap')]
        .filter(b => b.scrollWidth > b.clientWidth + 1)
        .map(b => [b.getAttribute('tabindex'), b.getAttribute('role'),
                   b.getAttribute('aria-label')])""")
    assert scrollers and all(t == "0" and r == "region" and label.endswith("(scrolls sideways)")
                             for t, r, label in scrollers)
    # A scrolling table's caption wraps within the screen (cut mid-word at 390 px: a
    # walkthrough)
    overhang = []
    for path in ("/journeys", "/eol", f"/indicators/{IND}"):
        s.go(path)
        overhang += s.page.evaluate("""() => [...document.querySelectorAll(
            '.table-wrap caption:not(.visually-hidden)')]
            .map(c => c.getBoundingClientRect().right - window.innerWidth)""")
    assert overhang and max(overhang) <= 0, overhang
