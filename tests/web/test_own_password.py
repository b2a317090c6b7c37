"""A signed-in user changes their own password on the web (admins cannot run
`carepath users reset` while the server holds the workspace open)."""

from __future__ import annotations

import time
import uuid

import pytest
from fastapi.testclient import TestClient

from carepath.web import users
from carepath.web.app import create_app
from carepath.web.security import COOKIE, MAX_LOGIN_FAILURES

from .conftest import PASSWORD, login, post_form

NEW = "three unrelated words"
PAGE = "/account/password"


@pytest.fixture
def account(web_ws):
    name = f"pw{uuid.uuid4().hex[:10]}"  # one per test, whatever the hash seed
    users.add_user(web_ws, by="test", username=name, password=PASSWORD, role="analyst")
    yield name
    users.remove_user(web_ws, by="test", username=name)


@pytest.fixture
def client(web_ws):
    with TestClient(create_app(web_ws)) as c:
        yield c


def _change(client, current, new, confirm=None):
    return post_form(client, PAGE, {"current": current, "new": new,
                                    "confirm": new if confirm is None else confirm},
                     page=PAGE)


def test_the_page_needs_a_sign_in_and_is_linked_from_every_page(client, account):
    r = client.get(PAGE, follow_redirects=False)
    assert r.status_code == 303 and "/login" in r.headers["location"]
    assert login(client, account).status_code == 303
    assert f'href="{PAGE}"' in client.get("/").text
    page = client.get(PAGE).text
    assert 'autocomplete="current-password"' in page and 'autocomplete="new-password"' in page


def test_a_change_keeps_this_session_ends_the_others_and_is_audited(client, web_ws, account):
    assert login(client, account).status_code == 303
    with TestClient(client.app) as elsewhere:
        assert login(elsewhere, account).status_code == 303
        stolen = elsewhere.cookies.get(COOKIE)
        r = _change(client, PASSWORD, NEW)
        assert r.status_code == 303 and r.headers["location"] == f"{PAGE}?changed=1"
        assert "Your password has been changed" in client.get(r.headers["location"]).text
        assert client.get("/indicators").status_code == 200  # still signed in here
    with TestClient(client.app, cookies={COOKIE: stolen}) as thief:
        assert thief.get("/indicators", follow_redirects=False).status_code == 303
    with TestClient(client.app) as again:
        assert login(again, account, PASSWORD).status_code == 401
        assert login(again, account, NEW).status_code == 303
    with client.app.state.db.cursor() as con:
        rows = con.execute("SELECT actor, target, detail FROM audit_log WHERE action = "
                           "'user.password' AND target = ?", [account]).fetchall()
    assert rows == [(account, account, "{}")]  # never the password


@pytest.mark.parametrize(("current", "new", "confirm", "field", "says"), [
    ("not the password", NEW, NEW, "Current password", "that is not your current password"),
    (PASSWORD, NEW, NEW + "x", "New password again", "the two new passwords differ"),
    (PASSWORD, "too short", "too short", "New password", "a password needs 12 to 256"),
    (PASSWORD, PASSWORD, PASSWORD, "New password", "the new password is the one you have"),
])
def test_a_refused_change_says_why_and_changes_nothing(client, account, current, new,
                                                       confirm, field, says):
    assert login(client, account).status_code == 303
    r = _change(client, current, new, confirm)
    assert r.status_code == 400
    assert f"{field}: {says}" in r.text
    assert current not in r.text and new not in r.text  # never echoed
    with TestClient(client.app) as again:
        assert login(again, account, PASSWORD).status_code == 303


def test_guessing_the_current_password_is_throttled_like_signing_in(client, account):
    assert login(client, account).status_code == 303
    for _ in range(MAX_LOGIN_FAILURES):
        assert _change(client, "a wrong guess", NEW).status_code == 400
    assert _change(client, PASSWORD, NEW).status_code == 429
    assert _change(client, PASSWORD, NEW).status_code == 429
    with client.app.state.db.cursor() as con:
        failed = con.execute("SELECT count(*) FROM audit_log WHERE action = "
                             "'password.failed' AND actor = ?", [account]).fetchone()[0]
        throttled = con.execute("SELECT count(*) FROM audit_log WHERE action = "
                                "'password.throttled' AND actor = ?", [account]).fetchone()[0]
    assert failed == MAX_LOGIN_FAILURES
    assert throttled == 1  # once a window, as a throttled sign-in (a review)


def test_the_change_needs_the_forms_csrf_token(client, account):
    assert login(client, account).status_code == 303
    r = client.post(PAGE, data={"current": PASSWORD, "new": NEW, "confirm": NEW},
                    follow_redirects=False)
    assert r.status_code == 403


def test_a_new_password_is_no_new_sign_in(client, web_ws, account, monkeypatch):
    """The session's 8 hours started again at the change (a review)."""
    from carepath.web.security import SESSION_MAX_AGE, SessionCodec

    assert login(client, account).status_code == 303
    codec = SessionCodec(web_ws.secret())
    signed_in = codec.loads(client.cookies.get(COOKIE))["t"]
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 60)
    assert _change(client, PASSWORD, NEW).status_code == 303
    assert codec.loads(client.cookies.get(COOKIE))["t"] == signed_in
    monkeypatch.setattr(time, "time", lambda: signed_in + SESSION_MAX_AGE + 1)
    assert client.get("/indicators", follow_redirects=False).status_code == 303


def test_a_password_of_spaces_signs_in(client, account):
    """Accepted by the form but refused as an empty box at sign-in, it locked its owner
    out (a review)."""
    spaces = " " * 14
    assert login(client, account).status_code == 303
    assert _change(client, PASSWORD, spaces).status_code == 303
    with TestClient(client.app) as again:
        assert login(again, account, spaces).status_code == 303
