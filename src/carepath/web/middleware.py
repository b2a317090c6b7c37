"""One plain ASGI middleware for every request: the signed session, the body-size limit and
the security headers. (Starlette's ``BaseHTTPMiddleware`` costs a task and a stream copy per
request per layer; this does the same work on the raw ASGI messages.)"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response

from carepath.web.security import COOKIE, SESSION_MAX_AGE, SESSION_REFRESH, new_session

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]


class WebMiddleware:
    def __init__(self, app, *, max_body: int, headers: dict[str, str],
                 too_large: Callable[[Request], Response]) -> None:
        self.app, self.max_body, self.headers, self.too_large = app, max_body, headers, too_large

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        codec = scope["app"].state.session_codec
        cookie = request.cookies.get(COOKIE)
        found = codec.loads_dated(cookie)
        data = found[0] if found else None
        state = scope.setdefault("state", {})
        state["session"] = data or new_session()
        # signed again now and then, so a session in use is not ended as idle
        state["session_dirty"] = data is None or found[1] > SESSION_REFRESH
        # a cookie that no longer loads: unused an hour, signed in 8 h ago, or signed with
        # another key
        state["session_ended"] = bool(cookie) and data is None
        length = request.headers.get("content-length")
        if length and (not length.isdigit() or int(length) > self.max_body):
            await self.too_large(request)(scope, receive, self._wrap(scope, send))
            return
        await self.app(scope, receive, self._wrap(scope, send))

    def _wrap(self, scope: Scope, send: Send) -> Send:
        static = scope["path"].startswith("/static/")

        async def wrapped(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                for name, value in self.headers.items():
                    if static and name == "Cache-Control":
                        continue  # the vendored bundles may be cached
                    if name not in headers:
                        headers[name] = value
                state = scope["state"]
                if state.get("session_dirty"):
                    headers.append("set-cookie", _cookie(scope, state["session"]))
            await send(message)

        return wrapped


def _cookie(scope: Scope, session: dict) -> str:
    app = scope["app"]
    secure = scope.get("scheme") == "https" or app.state.force_secure
    carrier = Response()
    carrier.set_cookie(COOKIE, app.state.session_codec.dumps(session), max_age=SESSION_MAX_AGE,
                       httponly=True, samesite="lax", secure=secure, path="/")
    return carrier.headers["set-cookie"]
