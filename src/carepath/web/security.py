"""Sessions, CSRF, login throttling and the "who is asking" dependencies.

A session is a cookie signed with the workspace secret (itsdangerous), holding the user name,
the account's session epoch and a CSRF token. It is HttpOnly, SameSite=Lax and Secure when
the request came over TLS (directly or through a proxy uvicorn trusts). Logging in issues a
brand-new session (no fixation); logging out, a password reset, a role change or removal
raise the epoch so older cookies stop working. Sessions expire after ``SESSION_MAX_AGE``.
"""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections import defaultdict, deque
from collections.abc import Callable

import duckdb
from fastapi import Depends, Request
from itsdangerous import BadSignature, URLSafeTimedSerializer

from carepath.web import users
from carepath.web.db import get_con
from carepath.web.scopes import ANONYMOUS, Principal, Role

COOKIE = "carepath_session"
SESSION_MAX_AGE = 8 * 60 * 60  # a working day, however busy
# A session unused this long ends too: eight hours on a shared ward PC with no idle limit
# was too long (a red team). Its cookie is signed again when older than SESSION_REFRESH.
SESSION_IDLE = 60 * 60
SESSION_REFRESH = 5 * 60
CSRF_FIELD = "csrf_token"
CSRF_HEADER = "x-csrf-token"
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
# Login throttling: this many failures for one user name from one client address within
# the window locks that pair until the window has passed. Keyed by the name alone, anyone
# could lock any account out, the right password too (a red team).
MAX_LOGIN_FAILURES = 5
# Failures for one name from any address, or from one address for any name, that lock it:
# higher, as a whole organisation may share one address behind its proxy, and a guesser
# spread over many addresses is still slowed.
MAX_WIDE_FAILURES = 50
THROTTLE_WINDOW = 15 * 60


PAIR = "pair:"
ADDRESS = "ip:"


def login_keys(username: str, client: str) -> dict[str, int]:
    """The throttle's keys for a sign-in attempt, with the failures each allows; the pair's
    (name and address) first."""
    name = username.strip().lower()
    return {f"{PAIR}{name}|{client}": MAX_LOGIN_FAILURES, f"user:{name}": MAX_WIDE_FAILURES,
            f"{ADDRESS}{client}": MAX_WIDE_FAILURES}


class LoginRequired(Exception):
    """No (valid) session: a page redirects to the login form, the API answers 401."""


class Forbidden(Exception):
    """Signed in but outside the role or scope: 403."""

    def __init__(self, detail: str = "You do not have access to this page.") -> None:
        super().__init__(detail)
        self.detail = detail


class CsrfError(Exception):
    """A form or unsafe API call without the session's CSRF token: 403."""


class Throttled(Exception):
    def __init__(self, retry_after: int) -> None:
        super().__init__(f"too many failed logins; try again in {retry_after} s")
        self.retry_after = retry_after


# ----- the cookie -----------------------------------------------------------------------

class SessionCodec:
    def __init__(self, secret: bytes) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="carepath-session")

    def dumps(self, data: dict) -> str:
        return self._signer.dumps(data)

    def loads(self, cookie: str | None) -> dict | None:
        found = self.loads_dated(cookie)
        return found[0] if found else None

    def loads_dated(self, cookie: str | None) -> tuple[dict, float] | None:
        """(session, seconds since its cookie was signed), or None: a cookie unused for
        SESSION_IDLE, a sign-in older than SESSION_MAX_AGE, or a bad signature."""
        if not cookie:
            return None
        try:
            data, signed = self._signer.loads(cookie, max_age=SESSION_IDLE,
                                              return_timestamp=True)
        except BadSignature:  # includes SignatureExpired
            return None
        now = time.time()
        if not isinstance(data, dict) or now - float(data.get("t", now)) > SESSION_MAX_AGE:
            return None
        return data, now - signed.timestamp()


def new_session(username: str | None = None, epoch: int | None = None) -> dict:
    data = {"c": secrets.token_urlsafe(24), "n": secrets.token_urlsafe(12)}
    if username is not None:
        data.update(u=username, e=epoch, t=int(time.time()))
    return data


def session(request: Request) -> dict:
    return request.state.session


def replace_session(request: Request, data: dict) -> None:
    """Swap the whole session (login, logout); the middleware writes the new cookie."""
    request.state.session = data
    request.state.session_dirty = True


def csrf_token(request: Request) -> str:
    return request.state.session["c"]


# ----- CSRF -----------------------------------------------------------------------------

async def csrf_protect(request: Request) -> None:
    """App-wide dependency: every unsafe request must carry the session's token."""
    if request.method not in UNSAFE_METHODS:
        return
    sent = request.headers.get(CSRF_HEADER)
    if sent is None and "form" in request.headers.get("content-type", ""):
        form = await request.form()  # cached by Starlette, so the endpoint can read it too
        value = form.get(CSRF_FIELD)
        sent = value if isinstance(value, str) else None
    expected = request.state.session.get("c", "")
    if not sent or not hmac.compare_digest(sent.encode(), expected.encode()):
        raise CsrfError()


# ----- who is asking --------------------------------------------------------------------

async def current_principal(request: Request,
                            con: duckdb.DuckDBPyConnection = Depends(get_con)) -> Principal:
    # async: a primary-key lookup is quicker than a hop to the thread pool
    cached = getattr(request.state, "principal", None)
    if cached is not None:
        return cached
    data = request.state.session
    who = ANONYMOUS
    if data.get("u"):
        found = _lookup_cached(request, con, data["u"])
        if found is not None and found[1] == data.get("e"):
            who = found[0]
        else:  # signed out elsewhere, password reset, role changed or account removed
            request.state.session_ended = True
    request.state.principal = who
    return who


# Signed-in principals are looked up once per account change (users.generation) and at most
# every PRINCIPAL_TTL seconds, instead of on every request.
PRINCIPAL_TTL = 5.0


def _lookup_cached(request: Request, con: duckdb.DuckDBPyConnection,
                   username: str) -> tuple[Principal, int] | None:
    table = request.app.state.principals
    now, gen = time.monotonic(), users.generation()
    hit = table.get(username)
    if hit is not None and hit[0] == gen and now - hit[1] < PRINCIPAL_TTL:
        return hit[2]
    found = users.lookup(con, username)
    table[username] = (gen, now, found)
    return found


async def require_user(who: Principal = Depends(current_principal)) -> Principal:
    if not who.is_authenticated:
        raise LoginRequired()
    return who


def require_roles(*roles: Role) -> Callable[..., Principal]:
    allowed = frozenset(roles)

    async def dependency(who: Principal = Depends(require_user)) -> Principal:
        if who.role not in allowed:
            raise Forbidden("Your role does not have access to this page.")
        return who

    return dependency


# ----- login throttling -----------------------------------------------------------------

class LoginThrottle:
    """Failures per user name and per client address in a sliding window (in memory: one
    server process; a restart forgets, which is acceptable for a laptop deployment). A
    name that has signed in from an address is held there by its own limit only, not the
    wide ones (ten addresses' failures locked anyone out, the right password too: a
    review)."""

    def __init__(self, max_failures: int = MAX_LOGIN_FAILURES,
                 window: float = THROTTLE_WINDOW, clock: Callable[[], float] = time.monotonic):
        self.max_failures, self.window, self.clock = max_failures, window, clock
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._trusted: set[str] = set()  # pair keys that have signed in
        self._refused: dict[str, float] = {}  # first refusal per key in its window
        self._lock = threading.Lock()

    def _recent(self, key: str) -> deque[float]:
        q, cutoff = self._failures[key], self.clock() - self.window
        while q and q[0] < cutoff:
            q.popleft()
        return q

    def check(self, *keys: str, limits: dict[str, int] | None = None) -> None:
        """``limits``: failures allowed per key, where not ``max_failures``."""
        with self._lock:
            trusted = any(k in self._trusted for k in keys if k.startswith(PAIR))
            for key in keys:
                if trusted and not key.startswith(PAIR):
                    continue
                q = self._recent(key)
                if len(q) >= (limits or {}).get(key, self.max_failures):
                    raise Throttled(int(q[0] + self.window - self.clock()) + 1)

    def failed(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._recent(key).append(self.clock())

    def succeeded(self, *keys: str) -> None:
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
                if key.startswith(PAIR):
                    self._trusted.add(key)

    def first_refusal(self, key: str) -> bool:
        """Whether this refusal is ``key``'s first in its window: each one audited grew the
        log without bound (a review)."""
        with self._lock:
            now = self.clock()
            if now - self._refused.get(key, -self.window - 1) <= self.window:
                return False
            self._refused[key] = now
            return True
