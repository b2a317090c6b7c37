"""Security properties: CSRF, session fixation and expiry, logout, throttling, open redirects,
injection in query parameters, path traversal in downloads, oversized bodies, audit."""

from __future__ import annotations

import re
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from carepath.web import users
from carepath.web.app import create_app
from carepath.web.security import (
    COOKIE,
    MAX_LOGIN_FAILURES,
    SessionCodec,
    Throttled,
    new_session,
)

from .conftest import PASSWORD, csrf_of, login, post_form

IND = "early_stage_all"


@pytest.fixture
def fresh(web_ws):
    """A new app (own throttle) and client, for tests that change session state."""
    with TestClient(create_app(web_ws)) as client:
        yield client


def test_forms_without_or_with_a_wrong_csrf_token_are_refused(fresh):
    r = fresh.post("/login", data={"username": "admin", "password": PASSWORD},
                   follow_redirects=False)
    assert r.status_code == 403 and "expired" in r.text
    r = fresh.post("/login", data={"username": "admin", "password": PASSWORD,
                                   "csrf_token": "forged"}, follow_redirects=False)
    assert r.status_code == 403
    assert login(fresh, "northlead").status_code == 303
    r = fresh.post("/localities/L1/reviews", data={"indicator_id": IND, "area_code": "P1",
                                                   "period": "2024/25"})
    assert r.status_code == 403
    r = fresh.post("/logout", data={"csrf_token": "x" * 32}, follow_redirects=False)
    assert r.status_code == 403


def test_login_issues_a_new_session_and_the_old_cookie_stays_anonymous(fresh):
    fresh.get("/login")
    before = fresh.cookies.get(COOKIE)
    assert login(fresh, "admin").status_code == 303
    after = fresh.cookies.get(COOKIE)
    assert after != before
    with TestClient(fresh.app, cookies={COOKIE: before}) as attacker:
        assert attacker.get("/indicators", follow_redirects=False).status_code == 303


def test_logout_ends_the_session_even_for_a_copied_cookie(fresh):
    login(fresh, "analyst")
    stolen = fresh.cookies.get(COOKIE)
    assert post_form(fresh, "/logout", {}, page="/").status_code == 303
    with TestClient(fresh.app, cookies={COOKIE: stolen}) as thief:
        r = thief.get("/indicators", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"].endswith("&ended=1")
        assert "Your session has ended" in thief.get(r.headers["location"]).text
    assert login(fresh, "analyst").status_code == 303  # can sign in again


def test_a_session_unused_for_an_hour_ends_but_one_in_use_lasts_the_day(fresh, web_ws,
                                                                       monkeypatch):
    """Eight hours with no idle limit was too long on a shared PC (a red team); a session
    in use is signed again now and then, and still ends 8 hours after signing in."""
    from carepath.web.security import SESSION_IDLE, SESSION_MAX_AGE, SESSION_REFRESH

    codec = SessionCodec(web_ws.secret())
    with fresh.app.state.db.cursor() as con:
        _, epoch = users.lookup(con, "admin")
    real = time.time

    def cookie_at(seconds_ago: float, signed_in_ago: float) -> str:
        monkeypatch.setattr(time, "time", lambda: real() - signed_in_ago)
        data = new_session("admin", epoch)
        monkeypatch.setattr(time, "time", lambda: real() - seconds_ago)
        out = codec.dumps(data)
        monkeypatch.setattr(time, "time", real)
        return out

    idle = cookie_at(SESSION_IDLE + 60, SESSION_IDLE + 60)
    with TestClient(fresh.app, cookies={COOKIE: idle}) as c:
        assert c.get("/api/v1/indicators").status_code == 401
    busy = cookie_at(SESSION_REFRESH + 60, 3 * 3600)  # in use, signed in 3 hours ago
    with TestClient(fresh.app, cookies={COOKIE: busy}) as c:
        r = c.get("/api/v1/indicators")
        assert r.status_code == 200 and COOKIE in r.headers.get("set-cookie", "")
    too_long = cookie_at(60, SESSION_MAX_AGE + 60)  # in use, but signed in 8 hours ago
    with TestClient(fresh.app, cookies={COOKIE: too_long}) as c:
        assert c.get("/api/v1/indicators").status_code == 401


def test_expired_or_tampered_sessions_are_anonymous(fresh, web_ws, monkeypatch):
    codec = SessionCodec(web_ws.secret())
    with fresh.app.state.db.cursor() as con:
        _, epoch = users.lookup(con, "admin")
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() - 9 * 3600)
    old = codec.dumps(new_session("admin", epoch))
    monkeypatch.setattr(time, "time", real)
    with TestClient(fresh.app, cookies={COOKIE: old}) as c:
        r = c.get("/indicators", follow_redirects=False)
        assert r.status_code == 303 and "ended=1" in r.headers["location"]
        assert c.get("/api/v1/indicators").status_code == 401
    good = codec.dumps(new_session("admin", epoch))
    with TestClient(fresh.app, cookies={COOKIE: good[:-2] + "xx"}) as c:
        assert c.get("/api/v1/indicators").status_code == 401


def test_login_throttling_locks_after_repeated_failures(fresh):
    for _ in range(MAX_LOGIN_FAILURES):
        r = login(fresh, "commish", "wrong-password-123")
        assert r.status_code == 401 and "not right" in r.text
    r = login(fresh, "commish")  # even the right password waits now
    assert r.status_code == 429 and int(r.headers["retry-after"]) > 0


def test_failures_from_one_address_do_not_lock_the_account_elsewhere(fresh):
    """Keyed by the name alone, anyone could lock any account out (a red team)."""
    from carepath.web.security import MAX_WIDE_FAILURES, LoginThrottle, login_keys

    throttle = LoginThrottle()
    attacker, owner = login_keys("commish", "10.0.0.66"), login_keys("commish", "10.0.0.7")
    for _ in range(MAX_LOGIN_FAILURES):
        throttle.failed(*attacker)
    with pytest.raises(Throttled):
        throttle.check(*attacker, limits=attacker)
    throttle.check(*owner, limits=owner)  # the owner, elsewhere, may still sign in
    for i in range(MAX_WIDE_FAILURES):  # a guesser spread over many addresses is stopped
        throttle.failed(*login_keys("commish", f"10.1.{i}.1"))
    with pytest.raises(Throttled):
        throttle.check(*owner, limits=owner)
    # ... but not the owner where they have signed in before (ten addresses' failures
    # locked anyone out: a review)
    usual = login_keys("commish", "10.0.0.8")
    throttle.succeeded(*usual)
    for i in range(MAX_WIDE_FAILURES):
        throttle.failed(*login_keys("commish", f"10.2.{i}.1"))
    throttle.check(*usual, limits=usual)
    assert throttle.first_refusal("k") and not throttle.first_refusal("k")


def test_failed_sign_ins_under_no_accounts_name_are_not_recorded_as_typed(fresh, web_ws):
    """What is typed as a name may be a password typed in the wrong box, or escapes."""
    login(fresh, "Tr0ub4dor&3-\x1b]8;;x", "whatever-password")
    login(fresh, "commish", "whatever-password")
    with fresh.app.state.db.cursor() as con:
        actors = [a for (a,) in con.execute(
            "SELECT actor FROM audit_log WHERE action = 'login.failed' ORDER BY \"at\" DESC "
            "LIMIT 2").fetchall()]
    assert actors == ["commish", "(no such account)"]


def test_unknown_user_and_wrong_password_get_the_same_answer(fresh):
    a = login(fresh, "nobody-here", "whatever-password")
    b = login(fresh, "admin", "whatever-password")
    assert a.status_code == b.status_code == 401
    message = "The user name or password is not right."
    assert message in a.text and message in b.text


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil"])
def test_no_open_redirect_after_login(fresh, target):
    r = fresh.post("/login", data={"username": "admin", "password": PASSWORD,
                                   "next": target, "csrf_token": csrf_of(fresh)},
                   follow_redirects=False)
    assert r.headers["location"] == "/"


@pytest.mark.parametrize("query", [
    "period=2024/25' OR '1'='1", "level=practice;DROP TABLE web_users", "period=%00",
    "level=" + "x" * 500, "period[]=1", "level=../../etc",
])
def test_injection_in_query_parameters_is_a_clean_4xx(clients, query):
    for path in (f"/indicators/{IND}?{query}", f"/api/v1/indicators/{IND}/values?{query}",
                 f"/public/indicators/{IND}?{query}"):
        r = clients["admin"].get(path)
        assert r.status_code in (200, 404, 422), (path, r.status_code)
        assert "Traceback" not in r.text
    assert clients["admin"].get("/api/v1/indicators").status_code == 200  # table intact


@pytest.mark.parametrize("path", [
    "/indicators/..%2F..%2Fcarepath.duckdb/download.csv",
    f"/indicators/{IND}/download.duckdb", f"/indicators/{IND}/download.csv%2F..%2F..",
    "/static/..%2F..%2Fcarepath.duckdb", "/static/../../workspace/workspace.py",
    f"/public/indicators/{IND}/download.%2E%2E%2Fsecret", "/public/indicators/..%2F/download.csv",
])
def test_path_traversal_in_downloads_and_static_files_finds_nothing(clients, path):
    r = clients["admin"].get(path)
    assert r.status_code in (404, 422)
    assert b"SQLite" not in r.content and b"DUCK" not in r.content[:64]


def test_oversized_body_is_refused_with_413(clients):
    r = clients["admin"].post("/localities/L1/reviews", content=b"x" * 1_100_000,
                              headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


def test_password_reset_and_removal_end_sessions(web_ws):
    app = create_app(web_ws)
    users.add_user(web_ws, by="test", username="temp", password=PASSWORD, role="analyst")
    with TestClient(app) as c:
        assert login(c, "temp").status_code == 303
        users.reset_password(web_ws, by="test", username="temp", password=PASSWORD + "!")
        assert c.get("/api/v1/indicators").status_code == 401
        assert login(c, "temp", PASSWORD + "!").status_code == 303
        users.remove_user(web_ws, by="test", username="temp")
        assert c.get("/api/v1/indicators").status_code == 401
        assert login(c, "temp", PASSWORD + "!").status_code == 401


def test_logins_exports_and_reviews_are_audited(fresh, web_ws):
    login(fresh, "northlead")
    fresh.get(f"/indicators/{IND}/download.csv")
    r = post_form(fresh, "/localities/L1/reviews", {
        "indicator_id": IND, "area_code": "P1", "period": "2024/25",
        "date_discussed": "2025-05-01", "explanation": "Small list, two late stagings",
        "accepted": "yes", "action": "Audit staging", "owner": "Dr A",
        "due_date": "2025-09-01"}, page="/localities/L1/outliers")
    assert r.status_code == 303
    records = fresh.get("/localities/L1/outliers").text.split('id="reviews"')[1]
    assert "Audit staging" in records
    assert "<td>Alpha Surgery</td>" in records  # by name, not its code (a walkthrough)
    with fresh.app.state.db.cursor() as con:
        actions = {a for (a,) in con.execute(
            "SELECT action FROM audit_log WHERE actor = 'northlead'").fetchall()}
    assert {"login", "export", "peer_review.add"} <= actions


def test_review_form_errors_are_shown_not_raised(fresh):
    login(fresh, "northlead")
    r = post_form(fresh, "/localities/L1/reviews", {
        "indicator_id": IND, "area_code": "P1", "period": "2024/25",
        "date_discussed": "2025-05-01", "due_date": "2025-01-01"},
        page="/localities/L1/outliers")
    assert r.status_code == 400 and "There is a problem" in r.text and "before" in r.text
    r = post_form(fresh, "/localities/L1/reviews", {
        "indicator_id": IND, "area_code": "P3", "period": "2024/25",
        "date_discussed": "not-a-date"}, page="/localities/L1/outliers")
    assert r.status_code == 400


@pytest.mark.parametrize("change, message, points_at", [
    ({"due_date": "2020-01-01"}, "before the meeting", "due"),
    ({"explanation": "x" * 2001}, "2,001 characters; at most 2,000", "expl"),
    ({"date_discussed": "2099-12-31", "due_date": ""}, "is in the future", "date"),
    ({"accepted": "maybe"}, "Answer yes, no or not decided", "accepted"),
    ({"period": "1999/00"}, "has no values for '1999/00'", "expl"),
    ({"explanation": "", "action": "", "owner": "Dr B", "accepted": ""},
     "say what was discussed", "expl"),
])
def test_a_refused_review_keeps_what_was_typed(fresh, change, message, points_at):
    """The form came back closed and empty, the answer reset, after a refusal; an empty
    form, a meeting in 2099 or an answer of 'maybe' was saved (a walkthrough)."""
    import html

    login(fresh, "northlead")
    typed = {"indicator_id": IND, "area_code": "P1", "period": "2024/25",
             "date_discussed": "2025-05-01", "explanation": "Two late stagings <b>",
             "accepted": "no", "action": "Audit staging", "owner": "Dr Ng",
             "due_date": "2025-09-01", **change}
    with fresh.app.state.db.cursor() as con:
        before = con.execute("SELECT count(*) FROM peer_reviews").fetchone()[0]
    r = post_form(fresh, "/localities/L1/reviews", typed, page="/localities/L1/outliers")
    assert r.status_code == 400 and message in html.unescape(r.text)
    panel = r.text.split("<details class=\"panel\" open>")[1].split("</details>")[0]
    for field in ("explanation", "action", "owner"):
        if typed[field] and len(typed[field]) < 100:
            assert html.escape(typed[field]) in panel
    if typed["accepted"] == "no":
        assert 'value="no" checked' in panel
    assert "<b>" not in panel  # escaped, not markup
    # The summary links to the field, which says what is wrong (an accessibility audit).
    summary = r.text.split('id="error-summary"')[1].split("</div>")[0]
    anchor = summary.split('<a href="#')[1].split('"')[0]
    assert anchor.startswith(f"{points_at}-") and f'id="{anchor}"' in panel
    assert f'id="{anchor}-error"' in panel
    if points_at != "accepted":
        assert f'aria-describedby="{anchor}-error"' in panel
    with fresh.app.state.db.cursor() as con:
        assert con.execute("SELECT count(*) FROM peer_reviews").fetchone()[0] == before


def test_the_web_app_never_updates_or_deletes_the_audit_log():
    src = Path(__file__).resolve().parents[2] / "src" / "carepath" / "web"
    for path in src.rglob("*.py"):
        text = path.read_text().lower()
        assert not re.search(r"(update|delete from)\s+audit_log", text), path


def test_passwords_are_stored_as_argon2id(web_ws, fresh):
    with fresh.app.state.db.cursor() as con:
        hashes = [h for (h,) in con.execute("SELECT password_hash FROM web_users").fetchall()]
    assert hashes and all(h.startswith("$argon2id$") for h in hashes)
    assert all(PASSWORD not in h for h in hashes)


def test_review_status_changes_are_scoped_validated_and_audited(fresh, web_ws):
    login(fresh, "northlead")
    post_form(fresh, "/localities/L1/reviews", {
        "indicator_id": IND, "area_code": "P1", "period": "2024/25",
        "date_discussed": "2025-05-02", "action": "Status test"},
        page="/localities/L1/outliers")
    with fresh.app.state.db.cursor() as con:
        review_id = con.execute("SELECT review_id FROM peer_reviews WHERE action = "
                                "'Status test'").fetchone()[0]
    url = f"/localities/L1/reviews/{review_id}/status"
    assert post_form(fresh, url, {"status": "done"}, page="/").status_code == 303
    assert post_form(fresh, url, {"status": "sideways"}, page="/").status_code == 400
    # the same record through another locality's address is not found
    with TestClient(fresh.app) as south:
        login(south, "southlead")
        r = post_form(south, f"/localities/L2/reviews/{review_id}/status", {"status": "open"},
                      page="/")
        assert r.status_code == 404
    with fresh.app.state.db.cursor() as con:
        assert con.execute("SELECT status FROM peer_reviews WHERE review_id = ?",
                           [review_id]).fetchone()[0] == "done"
        assert con.execute("SELECT count(*) FROM audit_log WHERE action = 'peer_review.status'"
                           " AND target = ?", [review_id]).fetchone()[0] == 1


def test_home_counts_new_reviews_at_once(fresh):
    login(fresh, "admin")

    def open_actions():
        text = fresh.get("/").text
        return int(text.split('<span class="big">')[4].split("<")[0])

    before = open_actions()
    r = post_form(fresh, "/localities/L1/reviews", {
        "indicator_id": IND, "area_code": "P1", "period": "2024/25",
        "date_discussed": "2025-05-03", "action": "Counted"}, page="/localities/L1/outliers")
    assert r.status_code == 303
    assert open_actions() == before + 1
    with fresh.app.state.db.cursor() as con:
        review_id = con.execute("SELECT review_id FROM peer_reviews WHERE action = "
                                "'Counted'").fetchone()[0]
    post_form(fresh, f"/localities/L1/reviews/{review_id}/status", {"status": "done"},
              page="/")
    assert open_actions() == before  # closing an action shows at once too


def test_a_leads_home_counts_only_their_localitys_reviews(fresh):
    """'8 open (of 9)' counted a record of another locality (a walkthrough)."""
    def open_actions(client):
        return int(client.get("/").text.split('<span class="big">')[4].split("<")[0])

    login(fresh, "admin")
    with TestClient(fresh.app) as north, TestClient(fresh.app) as south:
        login(north, "northlead")
        login(south, "southlead")
        before = (open_actions(fresh), open_actions(north), open_actions(south))
        r = post_form(fresh, "/localities/L2/reviews", {
            "indicator_id": IND, "area_code": "P3", "period": "2024/25",
            "date_discussed": "2025-05-04", "action": "South only"},
            page="/localities/L2/outliers")
        assert r.status_code == 303
        assert (open_actions(fresh), open_actions(north), open_actions(south)) == (
            before[0] + 1, before[1], before[2] + 1)


def test_signing_in_returns_to_the_page_with_its_query(fresh):
    """'?level=practice' was lost at sign-in (a walkthrough)."""
    r = fresh.get(f"/indicators/{IND}?level=practice&period=2024/25", follow_redirects=False)
    assert r.status_code == 303
    assert r.headers["location"] == (f"/login?next=/indicators/{IND}"
                                     "%3Flevel%3Dpractice%26period%3D2024%2F25")
    page = fresh.get(r.headers["location"]).text
    assert f'value="/indicators/{IND}?level=practice&amp;period=2024/25"' in page


def test_signing_in_to_ones_own_account_does_not_clear_the_addresss_failures(fresh):
    """Else one account of one's own would reset a guesser's count (a review of the
    limits)."""
    from carepath.web.security import MAX_WIDE_FAILURES

    assert login(fresh, "analyst").status_code == 303  # known here from now on
    for i in range(MAX_WIDE_FAILURES):
        assert login(fresh, f"guess{i}", "wrong-password-123").status_code == 401
    assert login(fresh, "analyst").status_code == 303  # its owner, where it signed in
    assert login(fresh, "commish", "wrong-password-123").status_code == 429


def test_a_record_without_an_action_is_no_open_action(fresh):
    """An accepted explanation with no action counted as an open action (a walkthrough)."""
    login(fresh, "northlead")
    for action in ("", "Audit the late stagings"):
        r = post_form(fresh, "/localities/L1/reviews", {
            "indicator_id": IND, "area_code": "P1", "period": "2024/25",
            "date_discussed": "2025-05-01", "explanation": "Small list", "accepted": "yes",
            "action": action}, page="/localities/L1/outliers")
        assert r.status_code == 303
    home = " ".join(fresh.get("/").text.split())
    with fresh.app.state.db.cursor() as con:
        total, with_action = con.execute(
            "SELECT count(*), count(*) FILTER (WHERE status = 'open' AND "
            "coalesce(action, '') <> '') FROM peer_reviews WHERE area_code IN ('P1', 'P2')"
        ).fetchone()
    assert total > with_action
    assert (f'<span class="big">{with_action}</span> open peer-review actions '
            f"(of {total} records)") in home


@pytest.mark.parametrize("password", ["analyst1analyst1", "my-ANALYST1-password"])
def test_a_password_may_not_contain_the_user_name(web_ws, password):
    """'analyst1analyst1' was accepted as analyst1's new password (a walkthrough)."""
    from carepath.errors import ValidationError
    from carepath.web import users

    with pytest.raises(ValidationError, match="must not contain the user name"):
        users.add_user(web_ws, by="test", username="analyst1", password=password,
                       role="analyst")
    with pytest.raises(ValidationError, match="must not contain the user name"):
        users.reset_password(web_ws, by="test", username="analyst", password="analyst" * 2)
