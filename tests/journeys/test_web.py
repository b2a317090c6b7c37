"""Journeys pages: counts for staff, person-level pages only for person-level roles, every
person-level view audited, trust rows scoped for providers."""

from __future__ import annotations

import json
import re
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient

from .conftest import build_journeys_workspace

PASSWORD = "correct-horse-battery"
ACCOUNTS = {"analyst": ("analyst", []), "commish": ("commissioner", []),
            "prov": ("provider", ["T1"]), "lead": ("locality_lead", ["L1"])}


def _login(client: TestClient, username: str) -> None:
    page = client.get("/login")
    csrf = page.text.split('name="csrf_token" value="')[1].split('"')[0]
    r = client.post("/login", data={"username": username, "password": PASSWORD,
                                     "csrf_token": csrf, "next": "/"}, follow_redirects=False)
    assert r.status_code == 303


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    from carepath.web import users
    from carepath.web.app import create_app

    ws = build_journeys_workspace(tmp_path_factory.mktemp("jweb") / "ws")
    for name, (role, scope) in ACCOUNTS.items():
        users.add_user(ws, by="test", username=name, password=PASSWORD, role=role, scope=scope)
    app = create_app(ws)
    clients = {}
    with TestClient(app) as anon:
        clients["public"] = anon
        for name in ACCOUNTS:
            c = TestClient(app)
            c.__enter__()
            _login(c, name)
            clients[name] = c
        yield ws, clients
        for name in ACCOUNTS:
            clients[name].__exit__(None, None, None)


def _audit(ws, action):
    # the server holds a read-write connection; this process may only open the same kind
    with ws.connect() as con:
        return con.execute("SELECT actor, target FROM audit_log WHERE action = ?",
                           [action]).fetchall()


PERIOD = "start=2024-01-01&end=2024-12-31"


def test_overview_shows_counts_to_staff_and_links_lists_for_analysts(site):
    _, c = site
    page = c["analyst"].get(f"/journeys?{PERIOD}&no_contact_days=150")
    assert page.status_code == 200
    assert "People who fell between services" in page.text
    assert "/journeys/fell-between?" in page.text
    assert "<svg" in page.text and "two_week_wait" in page.text  # flow diagram
    # Rules in words ('missing any rp element' was shown: a new user's walkthrough).
    gaps = page.text.split('id="gaps"')[1].split("</table>")[0]
    assert "<td>missing any Recovery Package element</td>" in gaps
    assert "_" not in gaps.replace('class="num"', "")
    commish = c["commish"].get(f"/journeys?{PERIOD}")
    assert commish.status_code == 200 and "/journeys/fell-between?" not in commish.text


def test_recovery_coverage_offers_the_year_every_element_is_due_for(site):
    """The page's year had most reviews not due, and showed them as '–' of 0 (a review);
    it says what counts and links the year every element has fallen due for."""
    ws, c = site
    from carepath.web.pages._care_common import period

    with ws.connect() as con:
        as_of = period(con, "contacts", None, None)[1]
    due_end = as_of - timedelta(days=365)
    page = c["analyst"].get(f"/journeys?{PERIOD}").text
    link = page.split('id="recovery-due-year"')[0].rsplit("<a ", 1)[1]
    assert f"end={due_end}" in link and f"by {as_of}, the data's end" in page
    early = c["analyst"].get(f"/journeys?start=2022-01-01&end={due_end}").text
    assert 'id="recovery-due-year"' not in early


def test_public_is_sent_to_login(site):
    _, c = site
    r = c["public"].get("/journeys", follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]


@pytest.mark.parametrize("who", ["commish", "prov", "lead"])
def test_person_level_pages_forbidden_without_authority(site, who):
    ws, c = site
    assert c[who].get("/journeys/person/A").status_code == 403
    assert c[who].get(f"/journeys/fell-between?{PERIOD}").status_code == 403
    assert all(actor != who for actor, _ in _audit(ws, "journey.view"))


def test_person_page_for_analyst_is_audited(site):
    ws, c = site
    page = c["analyst"].get("/journeys/person/E")
    assert page.status_code == 200
    assert "after death" in page.text
    assert ("analyst", "E") in _audit(ws, "journey.view")
    assert c["analyst"].get("/journeys/person/nobody").status_code == 400


def test_fell_between_list_for_analyst_is_audited(site):
    ws, c = site
    page = c["analyst"].get(f"/journeys/fell-between?{PERIOD}&no_contact_days=150")
    assert page.status_code == 200 and "/journeys/person/C" in page.text
    assert ("analyst", None) in _audit(ws, "fell_between.list")
    only = c["analyst"].get(f"/journeys/fell-between?{PERIOD}&rule=death_without_eol_register")
    people = only.text.split('id="people"')[1]
    assert "/journeys/person/B" in people and "/journeys/person/C" not in people
    # Rules in words, not codes (death_without_eol_register was shown: a walkthrough)
    assert "death without an end-of-life register entry" in people
    assert "death_without_eol_register</td>" not in people
    assert c["analyst"].get("/journeys/fell-between?rule=drop_table").status_code == 422


def test_provider_sees_only_its_own_trust(site):
    _, c = site
    page = c["prov"].get(f"/journeys?{PERIOD}").text
    chart = page.split('id="hna-by-trust"')[1].split("</figure>")[0]
    # Trusts by name (their codes were shown: a new user's walkthrough).
    assert '"Wessex General"' in chart and '"Solent Hospitals"' not in chart
    analyst = c["analyst"].get(f"/journeys?{PERIOD}").text
    assert '"Solent Hospitals"' in analyst.split('id="hna-by-trust"')[1].split("</figure>")[0]


@pytest.mark.parametrize("page", ["/journeys", "/eol", "/experience",
                                  "/journeys/fell-between"])
@pytest.mark.parametrize("query, said", [
    ("start=yesterday", "From: 'yesterday' is not a date like 2025-03-31"),
    ("start=2025-03-01&end=2024-04-01", "period start 2025-03-01 is after its end 2024-04-01"),
    ("start=2031-01-01&end=2031-12-31", "From: 2031-01-01 is after the latest date in the data"),
])
def test_bad_dates_are_said_above_the_form_of_the_latest_year(site, page, query, said):
    """A 422 about 'query.start' or a bare 400, with no form to mend it (a walkthrough)."""
    import html

    _, c = site
    r = c["analyst"].get(f"{page}?{query}")
    assert r.status_code == 200 and 'id="period-error"' in r.text
    text = html.unescape(r.text)
    assert said in text and "; showing the latest year" in text
    # Only the field the message is about is marked (both when From is after To); the
    # message on its own line above them (a walkthrough found neither field outlined)
    marked = {f for f in ("start", "end") if re.search(
        rf'id="{f}"[^>]*aria-invalid="true"', r.text)}
    assert marked == ({"start"} if said.startswith("From") else {"start", "end"})


def test_empty_date_fields_are_no_choice(site):
    _, c = site
    r = c["analyst"].get("/journeys?start=&end=")
    assert r.status_code == 200 and 'id="period-error"' not in r.text


def test_eol_page_shows_progress_by_locality(site):
    _, c = site
    page = c["commish"].get("/eol?start=2024-04-01&end=2025-03-31")
    assert page.status_code == 200
    assert "3</span> deaths" in page.text
    assert 'id="choice-by-locality"' in page.text
    assert "50.0%</span> of those died where they chose" in page.text
    # Localities by name and places in words (codes were shown: a walkthrough).
    by_locality = page.text.split('id="by-locality"')[1].split("</table>")[0]
    assert "<td>North</td>" in by_locality and "<td>L1</td>" not in by_locality
    assert "<td>home</td>" in page.text.split('id="places"')[1]


def test_experience_page_keeps_suppressed_missing_and_published_apart(site):
    ws, c = site
    with ws.connect() as con:
        con.execute("""INSERT INTO survey_responses (survey, respondent_id, org_code,
                       question_id, positive, response_date)
                       SELECT 'cpes', 'r' || i, CASE WHEN i < 30 THEN 'T1' WHEN i < 35
                              THEN 'T2' ELSE 'T3' END,
                              'Q1', i % 3 > 0, DATE '2024-06-01' FROM range(60) r(i)""")
    def scores(who):
        page = c[who].get("/experience?survey=cpes").text
        return page.split('id="scores"')[1].split("</table>")[0]

    seen = scores("commish")
    # T2 has 5 respondents; T3 (25) goes with it, or T2 would be all less T1 and T3
    assert seen.count("Suppressed") == 2
    assert "66.7" in seen  # T1: 20 of 30
    assert "Wessex General (T1)" in seen  # named, not a bare code
    assert "All organisations in the data" in seen  # the total is not called national
    # Scoped as the journeys pages are: a provider its own trust, a lead none (every
    # provider's scores were shown to both: a red team).
    own = scores("prov")
    assert "Wessex General (T1)" in own and "(T2)" not in own
    lead = scores("lead")
    assert "(T1)" not in lead and "(T2)" not in lead
    assert "All organisations in the data" in own and "All organisations in the data" in lead
    assert c["lead"].get("/experience?survey=gallup").status_code == 422


def test_coproduction_page(site):
    from datetime import date

    from carepath.domain.coproduction.records import record_codesigned_outcome, record_event

    ws, c = site
    record_event(ws, by="test", title="Listening event", event_date=date(2024, 3, 1),
                 stage="needs_assessment", participants={"patients": 6, "carers": 2})
    page = c["prov"].get("/coproduction").text
    assert "Listening event" in page and "No pledges recorded yet." in page
    events = page.split("Listening event")[0].rsplit("<tr>", 1)[1]
    assert "2024-03-01" in events and "00:00" not in events  # the day, not a midnight time
    stage = page.split("Listening event")[1].split("</tr>")[0]
    assert "needs assessment" in stage and "needs_assessment" not in stage
    # An outcome named by an indicator id reads as the indicator's title
    with ws.connect() as con:
        event_id = con.execute("SELECT event_id FROM coproduction_events WHERE title = "
                               "'Listening event'").fetchone()[0]
    record_codesigned_outcome(ws, by="test", outcome="care_plan_offered", event_id=event_id)
    outcomes = c["prov"].get("/coproduction").text.split('id="outcomes"')[1]
    assert "Personalised care and support plan offered" in outcomes
    assert ">care_plan_offered<" not in outcomes


def test_find_person_form_redirects_for_analysts_only(site):
    _, c = site
    r = c["analyst"].get("/journeys/person?pseudonym=E", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/journeys/person/E"
    # in another letter case too, where one person has it (a walkthrough)
    r = c["analyst"].get("/journeys/person?pseudonym=e", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"] == "/journeys/person/E"
    assert c["commish"].get("/journeys/person?pseudonym=E").status_code == 403
    assert 'id="pseudonym"' in c["analyst"].get(f"/journeys?{PERIOD}").text


@pytest.mark.parametrize("typed, says", [
    ("", "Enter the pseudonym of the person whose journey you want to see"),
    ("nobody-here", "No one in this workspace has the pseudonym &#39;nobody-here&#39;"),
])
def test_a_search_that_finds_no_one_comes_back_to_the_form_saying_why(site, typed, says):
    """A blank search was a 422 about 'query.pseudonym', an unknown one a 'Bad request'
    page, the form and what was typed lost (an accessibility audit)."""
    _, c = site
    r = c["analyst"].get(f"/journeys/person?pseudonym={typed}", follow_redirects=False)
    assert r.status_code == 303 and r.headers["location"].startswith("/journeys?find=")
    page = c["analyst"].get(r.headers["location"]).text
    assert f'<a href="#pseudonym" id="find-error">{says}</a>' in page
    assert f'value="{typed}" aria-invalid="true" aria-describedby="find-error"' in page
    assert page.split("<title>")[1].startswith("Error: ")


def test_a_search_is_audited_and_the_page_does_not_look_again(site):
    """Whether a pseudonym exists is person-level: the search was an unaudited existence
    check, and so was the page it came back to (a review)."""
    ws, c = site
    c["analyst"].get("/journeys/person?pseudonym=E", follow_redirects=False)
    c["analyst"].get("/journeys/person?pseudonym=nobody", follow_redirects=False)
    with ws.connect() as con:
        rows = con.execute("SELECT target, detail FROM audit_log WHERE action = "
                           "'journey.search' AND actor = 'analyst' ORDER BY \"at\"").fetchall()
    assert [(t, json.loads(d)["found"]) for t, d in rows[-2:]] == [("E", True),
                                                                  ("nobody", False)]
    # Asked of the page directly, a known pseudonym reads as not found: it does not look.
    page = c["analyst"].get("/journeys?find=E").text
    assert "No one in this workspace has the pseudonym" in page


@pytest.mark.parametrize("typed", ["9434765919", "943 476 5919", "943-476-5919"])
def test_an_nhs_number_searched_for_is_never_logged_looked_up_or_echoed(site, typed):
    """It went into the audit log, the redirect's address and the page (a review)."""
    ws, c = site
    with ws.connect() as con:
        before = con.execute("SELECT count(*) FROM audit_log").fetchone()[0]
    r = c["analyst"].get("/journeys/person", params={"pseudonym": typed},
                         follow_redirects=False)
    assert r.status_code == 303
    digits = typed.replace(" ", "").replace("-", "")
    assert digits not in r.headers["location"].replace("+", "").replace("%20", "")
    page = c["analyst"].get(r.headers["location"]).text
    assert "looks like an NHS number" in page and digits[:6] not in page.replace(" ", "")
    with ws.connect() as con:
        logged = con.execute("SELECT target, detail FROM audit_log").fetchall()[before:]
    assert not any(digits[:6] in str(row).replace(" ", "").replace("-", "") for row in logged)


def test_p_values_are_never_shown_as_zero():
    from carepath.web.render import ENV

    macro = ENV.from_string('{% import "_care_tables.html" as t %}'
                            '{{ t.td(row, "p_value", "p") }}')
    assert "&lt; 0.001" in macro.render(row={"p_value": 1e-9})
    assert "0.042" in macro.render(row={"p_value": 0.0421})
    assert macro.render(row={"p_value": None}) == '<td class="num"></td>'


def test_codes_in_tables_read_as_words():
    from carepath.web.render import ENV

    macro = ENV.from_string('{% import "_care_tables.html" as t %}'
                            '{{ t.td(row, "status", "code") }}')
    assert macro.render(row={"status": "significantly_below_target"}) == \
        "<td>significantly below target</td>"


def test_a_rule_with_nothing_due_says_so():
    """'0 of 0' and a blank read as missing data (a walkthrough)."""
    from carepath.web.render import ENV

    cell = ENV.from_string('{% import "_care_tables.html" as t %}'
                           '{{ t.td(row, "value", "pct_due") }}')
    assert "none due yet" in cell.render(row={"denominator": 0, "value": None})
    assert ">50.0<" in cell.render(row={"denominator": 4, "value": 0.5})


def test_the_eol_page_of_a_period_without_deaths_says_so(site):
    """It was a 500 (a review)."""
    _, c = site
    r = c["analyst"].get("/eol?start=2031-01-01&end=2031-12-31")
    assert r.status_code == 200


def test_bars_judge_by_polarity_where_the_measure_has_one():
    """Died in preferred place read Higher/Lower on /eol and Better/Worse on its indicator
    page (a walkthrough)."""
    import pandas as pd

    from carepath.web.pages._care_common import bars

    frame = pd.DataFrame({"group": ["A", "B", "C"], "value": [0.8, 0.3, 0.5],
                          "lower": [0.7, 0.2, 0.4], "upper": [0.9, 0.4, 0.6]})
    said = {r["name"]: r["significance"] for r in bars(frame, name="group", overall=0.5)}
    assert said == {"A": "higher", "B": "lower", "C": "similar"}
    good = {r["name"]: r["significance"] for r in bars(frame, name="group", overall=0.5,
                                                        higher_is_better=True)}
    assert good == {"A": "better", "B": "worse", "C": "similar"}
    bad = {r["name"]: r["significance"] for r in bars(frame, name="group", overall=0.5,
                                                       higher_is_better=False)}
    assert bad == {"A": "worse", "B": "better", "C": "similar"}


def test_eol_localities_are_in_name_order_unknown_last():
    """Progress by locality was in code order (a walkthrough)."""
    import pandas as pd

    from carepath.web.pages.eol import UNKNOWN_LOCALITY, _named

    frame = pd.DataFrame({"group": ["L2", UNKNOWN_LOCALITY, "L1", "L3"], "v": [1, 2, 3, 4]})
    named = _named(frame, {"L1": "Weyford", "L2": "Anglebury", "L3": "Melchester"})
    assert list(named["group"]) == ["Anglebury", "Melchester", "Weyford", "No locality known"]
    assert list(named["v"]) == [1, 4, 3, 2]
