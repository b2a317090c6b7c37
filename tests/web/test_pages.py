"""What the pages say: charts with table alternatives, the three value states, helpful
answers to bad input, and escaping of names that look like markup."""

from __future__ import annotations

IND = "early_stage_all"


def test_indicator_page_has_charts_each_with_a_data_table(clients):
    page = clients["analyst"].get(f"/indicators/{IND}").text
    for chart in ("funnel", "ordered-bar", "trend"):
        assert f'id="{chart}"' in page
    assert page.count("Data table for") == 3
    assert "95% and 99.8% limits" in page
    assert "Definition and provenance" in page and "Wilson" in page
    assert "Suppressed" in page and "Gamma Health" in page  # shown, never as a zero
    # The bar's and funnel's colours are the table's "Compared with national" (their
    # legends said average); the funnel's shapes too, in the same legend
    assert page.replace(" ", "").count('"title":"Comparedwithnational"') == 3
    assert "Compared with average" not in page


def test_indicator_page_narrows_practices_to_a_locality(clients):
    page = clients["analyst"].get(f"/indicators/{IND}?level=practice&parent=L2").text
    assert "Delta Medical" in page and "Alpha Surgery" not in page
    bad = clients["analyst"].get(f"/indicators/{IND}?level=practice&parent=NOPE")
    assert bad.status_code == 404 and "not a parent area" in bad.text
    # The download is of the page's table: it held every practice (a walkthrough)
    assert "download.csv?level=practice&amp;period=2024%2F25&amp;parent=L2" in page or \
        "download.csv?level=practice&amp;period=2024/25&amp;parent=L2" in page
    csv = clients["analyst"].get(f"/indicators/{IND}/download.csv?level=practice"
                                 "&period=2024/25&parent=L2").text
    assert "Delta Medical" in csv and "Alpha Surgery" not in csv
    assert clients["analyst"].get(f"/indicators/{IND}/download.csv?level=practice"
                                  "&parent=NOPE").status_code == 404


def test_a_lead_is_offered_only_localities_they_see(clients):
    """A lead chose another locality from "Within" and got an empty page (a walkthrough)."""
    page = clients["northlead"].get(f"/indicators/{IND}?level=practice").text
    within = page.split('id="parent"')[1].split("</select>")[0]
    assert 'value="L1"' in within and 'value="L2"' not in within
    other = clients["northlead"].get(f"/indicators/{IND}?level=practice&parent=L2")
    assert other.status_code == 404 and "values you can see" in other.text


def test_bad_level_or_period_lists_the_valid_ones(clients):
    r = clients["analyst"].get(f"/indicators/{IND}?period=1999")
    assert r.status_code == 404 and "2023/24, 2024/25" in r.text
    r = clients["analyst"].get(f"/indicators/{IND}?level=galaxy")
    assert r.status_code == 404 and "practice" in r.text


def test_unknown_locality_lists_the_valid_ones(clients):
    r = clients["admin"].get("/localities/Nowhere")
    assert r.status_code == 404
    assert "North Locality (L1)" in r.text and "South Locality (L2)" in r.text


def test_locality_without_practices_says_why(clients, app):
    with app.state.db.cursor() as con:
        con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) VALUES "
                    "('L9', 'Empty Locality', 'locality', DATE '2015-01-01')")
    # The server sees a new organisation at its next data-version check; do not wait for it.
    app.state.cache.clear()
    try:
        page = clients["admin"].get("/localities/L9")
        assert page.status_code == 200 and "no practices" in page.text
        outliers = clients["admin"].get("/localities/L9/outliers")
        assert "No practice in this locality" in outliers.text
    finally:
        with app.state.db.cursor() as con:
            con.execute("DELETE FROM organisations WHERE org_code = 'L9'")
        app.state.cache.clear()


def test_rug_shows_states_and_significance_words(clients):
    page = clients["southlead"].get("/localities/L2").text
    assert 'class="rug-suppressed"' in page and "suppressed: count 1-7" in page
    north = clients["northlead"].get("/localities/L1").text
    assert 'class="rug-worse"' in north and "(worse)" in north
    assert "latest period 2024/25</span>" in north
    # Each column names its own period: the columns mix years and quarters (a check)
    head = north.split("<thead>")[1].split("</thead>")[0]
    assert head.count('<span class="hint">2024/25</span>') == head.count('scope="col" class')


def test_practice_profile_spine_and_values(clients):
    page = clients["northlead"].get("/practices/P1").text
    assert 'id="spine"' in page and "Compared with national" in page
    assert "Worse" in page and "55.0" in page


def test_public_pages_show_the_policy_and_reasons(clients):
    home = clients["public"].get("/public").text
    assert "Counts from 1 to 7 are suppressed" in home
    page = clients["public"].get(
        "/public/indicators/screening_bowel_60_74?period=2023/24").text
    assert page.count("Suppressed") >= 2
    # one note for both hidden cells (South's 5 and North's 20 hidden for it)
    assert page.count("or a figure that would let one be worked out") >= 2
    assert "secondary suppression" not in page
    assert "standardised rate" not in page  # the policy box says what its statistic needs
    assert "Alpha Surgery" not in page  # practices are never on the public view
    # Each side says its judgements are made on its own figures (a walkthrough found
    # public labels differing from the commissioners' with no word why)
    assert 'id="judged-on-published"' in page
    # What "national" and the periods mean, and why a locality is not drawn (a walkthrough)
    assert 'id="terms"' in page and 'id="terms"' in home and "not England" in home
    assert "localities are not drawn" in " ".join(page.split())
    staff = clients["analyst"].get("/indicators/screening_bowel_60_74?level=locality").text
    assert 'id="public-differs"' in staff
    practices = clients["analyst"].get("/indicators/screening_bowel_60_74?level=practice")
    assert 'id="public-differs"' not in practices.text
    # Judged again on the published figures: North's true zero of 40 (stored as "similar")
    # is below national's 69-71 on its published interval, and says so in table and chart.
    latest = clients["public"].get(
        "/public/indicators/screening_bowel_60_74?period=2024/25").text
    assert "Compared with national" in latest and 'class="tag tag--worse"' in latest
    assert '"significance":"Worse"' in latest.replace(" ", "")  # the chart's data
    # and the chart's legend says what the table says (it read "Compared with average")
    assert '"title":"Comparedwithnational"' in latest.replace(" ", "")
    # The axis titled as on the analysts' pages: the unit apart, no word cut (it read
    # "New cancers per 100,000 registered patients per 100,000 per year").
    assert "Bowel screening coverage, people aged 60-74 (%)" in latest
    # Signed in, the header says so (it offered "Sign in"); the figures are the same.
    signed_in = clients["northlead"].get(
        "/public/indicators/screening_bowel_60_74?period=2023/24").text
    assert "Sign out" in signed_in and "Sign in<" not in signed_in
    assert "Sign out" not in page
    assert _main(signed_in) == _main(page)
    assert "Sign out" in clients["northlead"].get("/public").text


def test_names_that_look_like_markup_are_escaped(clients, app):
    with app.state.db.cursor() as con:
        con.execute("UPDATE indicator_values SET area_name = '<script>alert(1)</script>' "
                    "WHERE area_code = 'P2'")
    app.state.cache.clear()
    try:
        page = clients["admin"].get(f"/indicators/{IND}?level=practice").text
        assert "<script>alert(1)</script>" not in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
        csv = clients["admin"].get(f"/indicators/{IND}/download.csv?level=practice").text
        assert "<script>" in csv  # data is data in a CSV...
        formula = "=HYPERLINK(\"http://x\")"
        with app.state.db.cursor() as con:
            con.execute("UPDATE indicator_values SET area_name = ? WHERE area_code = 'P2'",
                        [formula])
        app.state.cache.clear()
        csv = clients["admin"].get(f"/indicators/{IND}/download.csv?level=practice").text
        assert "'=HYPERLINK" in csv  # ...but never a spreadsheet formula
    finally:
        with app.state.db.cursor() as con:
            con.execute("UPDATE indicator_values SET area_name = 'Beta Practice' "
                        "WHERE area_code = 'P2'")
        app.state.cache.clear()


def test_excel_download_opens_with_the_states(clients):
    import io

    import openpyxl

    r = clients["admin"].get(f"/indicators/{IND}/download.xlsx?level=practice")
    assert r.headers["content-type"].startswith("application/vnd.openxmlformats")
    sheet = openpyxl.load_workbook(io.BytesIO(r.content)).active
    header = [c.value for c in sheet[1]]
    states = {row[header.index("area_code")]: row[header.index("value_state")]
              for row in sheet.iter_rows(min_row=2, values_only=True)}
    assert states["P3"] == "suppressed" and states["P1"] == "published"


def test_practice_profile_has_peers_list_size_and_small_practice_flag(clients):
    page = clients["admin"].get("/practices/P4").text
    assert "Small practice" in page and "600" in page
    assert "Most similar practices" in page and "How similarity is measured" in page
    assert "not used: no data in this workspace" in page  # no IMD in the fixture
    lead = clients["northlead"].get("/practices/P1").text
    assert 'href="/practices/P3"' not in lead  # a peer outside the lead's scope: no link


def test_indicator_page_states_opportunity_with_an_interval(clients):
    page = clients["admin"].get(f"/indicators/{IND}?level=practice").text
    assert "If every practice matched the top quartile of its peers" in page
    assert "95% interval" in page and "adding up raw gaps would claim" in page
    # what it counts, by the indicator's title ("189 fewer events": a walkthrough)
    assert "more would be counted in “Cancers diagnosed at stage 1 or 2: 10 common" in page


def test_opportunity_is_the_same_for_whoever_looks_at_the_same_practices(clients):
    """Estimated over every practice and summed over those shown: a lead's and a
    commissioner's view of one locality said different figures (a walkthrough)."""
    import re

    def said(who, query):
        page = clients[who].get(f"/indicators/{IND}?level=practice&{query}").text
        return re.search(r"If (each of these \d+ practices|every practice) matched[^<]*", page)

    lead, commish = said("northlead", "period=2024/25"), said("commish",
                                                             "period=2024/25&parent=L1")
    assert lead and commish and lead.group(0) == commish.group(0)
    assert "each of these 2 practices" in lead.group(0)


def test_indicator_page_offers_overdispersed_limits(clients):
    page = clients["admin"].get(f"/indicators/{IND}?od=additive").text
    assert "allowing for overdispersion" in page and "Spiegelhalter" in page
    assert clients["admin"].get(f"/indicators/{IND}?od=magic").status_code == 404


def test_overdispersed_funnel_colours_areas_against_its_own_limits():
    """Areas inside the limits allowing for overdispersion are 'similar' there, whatever
    their chance-only comparison with national said ('Better' inside the lines: a
    walkthrough); outside, the side and the polarity say better or worse."""
    from carepath.web.benchmarking import overdispersed_limits

    def row(code, x, n, compared):
        return {"area_code": code, "value_state": "published", "numerator": x,
                "denominator": n, "value": 100 * x / n, "compared_to_national": compared}

    rows = [row("A", 300, 1000, "better"), row("B", 200, 1000, "worse"),
            row("C", 260, 1000, "similar"), row("D", 240, 1000, "similar"),
            row("E", 600, 1000, "better")]
    _, facts = overdispersed_limits(rows, "multiplicative", higher_is_better=True)
    judged = facts["judged"]
    assert judged["A"] == judged["B"] == "similar"  # within the wider lines
    assert judged["E"] == "better"
    _, low = overdispersed_limits(rows, "multiplicative", higher_is_better=False)
    assert low["judged"]["E"] == "worse"
    # Estimated over every area, whoever looks: a lead shown two areas judges them as the
    # analyst shown all does (an area's colour depended on who looked: a review).
    _, some = overdispersed_limits(rows[3:], "multiplicative", higher_is_better=True,
                                   every=rows)
    assert some["judged"] == {k: judged[k] for k in ("D", "E")}
    assert some["phi"] == facts["phi"]


def test_home_offers_each_role_only_what_it_may_open(clients):
    provider = clients["provider1"].get("/").text
    assert 'href="/practices"' not in provider and 'href="/localities"' not in provider
    lead = clients["northlead"].get("/").text
    assert "Your localities" in lead and 'href="/localities/L1/outliers"' in lead
    assert 'href="/localities/L2/outliers"' not in lead  # only the lead's own localities
    assert 'href="/admin/audit"' not in lead and 'href="/admin/audit"' in clients[
        "admin"].get("/").text


def test_cached_page_bodies_never_cross_users_or_scopes(clients):
    url = f"/indicators/{IND}?level=practice"
    for _ in range(2):  # the second round is served from the cache
        north = clients["northlead"].get(url).text
        south = clients["southlead"].get(url).text
        analyst = clients["analyst"].get(url).text
        commish = clients["commish"].get(url).text
        assert "Alpha Surgery" in north and "Delta Medical" not in north
        assert "Delta Medical" in south and "Alpha Surgery" not in south
        assert "northlead (Locality lead)" in north and "southlead" not in north
        assert "analyst (Analyst)" in analyst and "commish" not in analyst
        assert "commish (Commissioner)" in commish and "Delta Medical" in commish
        for client, page in ((clients["northlead"], north), (clients["analyst"], analyst)):
            token = client.get("/login").text.split('name="csrf_token" value="')[1][:20]
            assert token in page  # the sign-out form carries this user's own token


def _main(page: str) -> str:
    return page.split("<main", 1)[1].split("</main>", 1)[0]


def test_intervals_shown_are_those_the_comparison_is_made_at(clients, tmp_path):
    """95% intervals beside judgements made at 99.8% (the referral ratio, screening's
    funnels) excluded national yet read "Similar" (an independent check)."""
    import yaml
    from fastapi.testclient import TestClient

    from carepath.indicators.library import LIBRARY_DIR
    from carepath.web.app import create_app

    from .conftest import build_workspace, login

    page = clients["analyst"].get(f"/indicators/{IND}").text
    assert "Areas are compared with national by 95% intervals." in page
    assert ">Lower 95%<" in page and ">Lower 99.8%<" not in page
    ws = build_workspace(tmp_path / "ws")
    data = yaml.safe_load((LIBRARY_DIR / f"{IND}.yaml").read_text())
    data["comparator"] = {"method": "ci_overlap", "confidence": 0.998}
    (ws.definitions_dir("indicators") / f"{IND}.yaml").write_text(yaml.safe_dump(data))
    with TestClient(create_app(ws)) as c:
        assert login(c, "analyst").status_code == 303
        page = c.get(f"/indicators/{IND}").text
        profile = c.get("/practices/P1").text
    row = profile.split(f'href="/indicators/{IND}"')[1].split("</tr>")[0]
    assert "<td>99.8%</td>" in row  # the practice profile's interval too (a review)
    assert ("Areas are compared with national by 99.8% intervals, and their intervals "
            "shown at 99.8%.") in page
    before_trend = page.split('id="trend"')[0]
    assert ">Lower 99.8%<" in before_trend and ">Lower 95%<" not in before_trend


def test_titles_name_the_workspace_and_tell_the_public_page_apart(clients, app):
    """Both pages of an indicator were titled the same, the exact and the published
    figures; no title named the workspace, as docs/web.md says (an accessibility audit)."""
    name = app.state.workspace_name

    def title(client, path):
        return client.get(path).text.split("<title>")[1].split("</title>")[0]

    staff = title(clients["analyst"], f"/indicators/{IND}")
    public = title(clients["public"], f"/public/indicators/{IND}")
    assert staff.endswith(f" – {name} – Carepath") and public.endswith(f" – {name} – Carepath")
    assert "(published)" in public and "(published)" not in staff


def test_home_leads_to_every_page_the_role_may_open(clients):
    """A provider's home led to neither its contracts nor its experience scores (a
    walkthrough)."""
    start = clients["provider1"].get("/").text.split("Where to start")[1]
    assert 'href="/contracts"' in start and 'href="/experience"' in start
    assert 'href="/localities"' not in start
    lead = clients["northlead"].get("/").text.split("Where to start")[1]
    assert 'href="/contracts"' not in lead and 'href="/journeys"' in lead
