"""Sign in, sign out, and change one's own password."""

from __future__ import annotations

import duckdb
from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse

from carepath.errors import ValidationError
from carepath.web import users
from carepath.web.audit import record
from carepath.web.db import get_con
from carepath.web.render import render
from carepath.web.scopes import Principal
from carepath.web.security import (
    ADDRESS,
    Throttled,
    current_principal,
    login_keys,
    new_session,
    replace_session,
    require_user,
)

router = APIRouter()
NAV_ITEMS = ()


def safe_next(target: str | None) -> str:
    """Only local paths: an open redirect would let a phishing link borrow our login."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


@router.get("/login", include_in_schema=False)
def login_form(request: Request, next: str = "/",
               who: Principal = Depends(current_principal)):
    ended = getattr(request.state, "session_ended", False) or bool(
        request.query_params.get("ended"))
    return render(request, "login.html", {"title": "Sign in", "next": safe_next(next),
                                          "error": None, "username": "", "ended": ended})


# Who a failed sign-in is recorded as when the name is no account's: what was typed there
# can be a password typed in the wrong box, or terminal escapes (a red team).
UNKNOWN_NAME = "(no such account)"


def _named(con: duckdb.DuckDBPyConnection, username: str) -> str:
    name = username.strip().lower()
    return name if name and users.exists(con, name) else UNKNOWN_NAME


@router.post("/login", include_in_schema=False)
def login(request: Request, username: str = Form("", max_length=200),
          password: str = Form("", max_length=users.MAX_PASSWORD_LENGTH),
          next: str = Form("/", max_length=500),
          con: duckdb.DuckDBPyConnection = Depends(get_con)):
    # An empty box is asked for, not called a wrong password (an accessibility audit); it
    # is no guess, so nothing is counted or recorded.
    # (A password of spaces is a password: only an empty box is blank, a review.)
    blank = [(field, say) for field, value, say in (
        ("username", username.strip(), "Enter your user name"),
        ("password", password, "Enter your password")) if not value]
    if blank:  # each empty box said (both empty said only the user name: a walkthrough)
        return render(request, "login.html", {
            "title": "Sign in", "next": safe_next(next), "username": username,
            "error": blank[0][1], "error_field": blank[0][0], "blank": dict(blank)},
            status_code=400)
    throttle = request.app.state.throttle
    client = request.client.host if request.client else "unknown"
    limits = login_keys(username, client)
    pair, *_ = limits  # the name-and-address key comes first
    try:
        throttle.check(*limits, limits=limits)
    except Throttled:
        if throttle.first_refusal(pair):  # once a window, not every attempt
            record(con, actor=_named(con, username), action="login.throttled", target=None,
                   detail={"client": client})
        raise
    found = users.authenticate(con, username, password)
    if found is None:
        throttle.failed(*limits)
        record(con, actor=_named(con, username), action="login.failed",
               target=None, detail={"client": client})
        return render(request, "login.html", {
            "title": "Sign in", "next": safe_next(next), "username": username,
            "error": "The user name or password is not right."}, status_code=401)
    # The address's count stands: one's own account must not clear a guesser's failures.
    throttle.succeeded(*(k for k in limits if not k.startswith(ADDRESS)))
    who, epoch = found
    # A brand-new session: nothing from before sign-in carries over (no fixation).
    replace_session(request, new_session(who.username, epoch))
    request.state.principal = who
    record(con, actor=who.username, action="login", target=None, detail={"client": client})
    return RedirectResponse(safe_next(next), status_code=303)


@router.post("/logout", include_in_schema=False)
def logout(request: Request, con: duckdb.DuckDBPyConnection = Depends(get_con),
           who: Principal = Depends(current_principal)):
    if who.is_authenticated:
        users.end_sessions(con, who.username)
        record(con, actor=who.username, action="logout", target=None)
    replace_session(request, new_session())
    return RedirectResponse("/", status_code=303)


PASSWORD_PAGE = "Change your password"


def _password_page(request: Request, *, error: ValidationError | None = None,
                   changed: bool = False, status_code: int = 200):
    return render(request, "password.html", {
        "title": PASSWORD_PAGE, "error": error.message if error else None,
        "error_field": error.where if error else None, "changed": changed,
        "min_length": users.MIN_PASSWORD_LENGTH}, status_code=status_code)


@router.get("/account/password", include_in_schema=False)
def password_form(request: Request, changed: bool = False,
                  who: Principal = Depends(require_user)):
    return _password_page(request, changed=changed)


@router.post("/account/password", include_in_schema=False)
def change_password(request: Request,
                    current: str = Form("", max_length=users.MAX_PASSWORD_LENGTH),
                    new: str = Form("", max_length=users.MAX_PASSWORD_LENGTH),
                    confirm: str = Form("", max_length=users.MAX_PASSWORD_LENGTH),
                    who: Principal = Depends(require_user),
                    con: duckdb.DuckDBPyConnection = Depends(get_con)):
    # The current password is guessed here as at sign-in (a session left open is not the
    # password): the same limits count the same failures.
    if not current:  # not a guess: nothing to count
        return _password_page(request, error=ValidationError(
            "enter your current password", where=users.CURRENT_PASSWORD), status_code=400)
    throttle = request.app.state.throttle
    client = request.client.host if request.client else "unknown"
    limits = login_keys(who.username, client)
    pair, *_ = limits
    try:
        throttle.check(*limits, limits=limits)
    except Throttled:
        if throttle.first_refusal(pair):  # audited as a throttled sign-in is
            record(con, actor=who.username, action="password.throttled",
                   target=who.username, detail={"client": client})
        raise
    try:
        epoch = users.change_own_password(request.app.state.ws, username=who.username,
                                          current=current, new=new, confirm=confirm)
    except ValidationError as exc:
        if exc.where == users.CURRENT_PASSWORD:
            throttle.failed(*limits)
            record(con, actor=who.username, action="password.failed", target=who.username,
                   detail={"client": client})
        return _password_page(request, error=exc, status_code=400)
    # Every other session of this account has ended; this one carries on, signed anew but
    # still ending 8 hours after its sign-in (a new password is no new sign-in: a review).
    fresh = new_session(who.username, epoch)
    fresh["t"] = request.state.session.get("t", fresh["t"])
    replace_session(request, fresh)
    return RedirectResponse("/account/password?changed=1", status_code=303)
