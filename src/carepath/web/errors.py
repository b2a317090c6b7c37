"""Errors become a helpful page (browser) or a JSON problem (API, RFC 9457), never a trace.

The API is everything under ``/api/``; anything else is a page.
"""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from carepath.errors import CarepathError
from carepath.web.render import render
from carepath.web.security import CsrfError, Forbidden, LoginRequired, Throttled

log = logging.getLogger("carepath.web")
API_PREFIX = "/api/"
PROBLEM_TYPE = "application/problem+json"
# Documented on every /api route (RFC 9457 problem documents), so the OpenAPI document says
# what the error handlers below really send.
_PROBLEM = {"description": "Problem (RFC 9457)",
            "content": {PROBLEM_TYPE: {"schema": {
                "type": "object", "required": ["title", "status", "detail"],
                "properties": {"type": {"type": "string"}, "title": {"type": "string"},
                               "status": {"type": "integer"}, "detail": {"type": "string"},
                               "instance": {"type": "string"},
                               "errors": {"type": "array", "items": {"type": "object"}}}}}}}
API_PROBLEM_RESPONSES: dict[int | str, dict] = {
    code: dict(_PROBLEM, description=f"{title} (problem document)")
    for code, title in ((400, "Bad request"), (401, "Sign in required"), (403, "Forbidden"),
                        (404, "Not found"), (413, "Too large"), (422, "Invalid input"))}
TITLES = {400: "Bad request", 401: "Sign in required", 403: "Forbidden", 404: "Not found",
          405: "Method not allowed", 413: "Too large", 422: "Invalid input",
          429: "Too many attempts", 500: "Something went wrong"}


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


def problem(request: Request, status: int, detail: str, *, headers: dict | None = None,
            errors: list | None = None) -> Response:
    if is_api(request):
        body = {"type": "about:blank", "title": TITLES.get(status, "Error"), "status": status,
                "detail": detail, "instance": request.url.path}
        if errors:
            body["errors"] = errors
        return JSONResponse(body, status_code=status, media_type=PROBLEM_TYPE, headers=headers)
    response = render(request, "error.html", {"status": status, "title": TITLES.get(
        status, "Error"), "detail": detail, "errors": errors or []}, status_code=status)
    if headers:
        response.headers.update(headers)
    return response


# Pydantic's words for the commonest refusals, as a user reads them ('query.year: Input
# should be a valid integer, unable to parse string as an integer': a walkthrough).
PLAIN_WORDS = {"int_parsing": "should be a whole number",
               "int_from_float": "should be a whole number",
               "float_parsing": "should be a number",
               "date_parsing": "should be a date like 2025-03-31",
               "date_from_datetime_parsing": "should be a date like 2025-03-31",
               "bool_parsing": "should be true or false",
               "missing": "is required"}
# Where a value was given: "query" is the address's ?name=value part.
PLACES = {"query": "in the address", "path": "in the address", "body": "in the form"}
SHOWN_INPUT_CHARS = 40


def _field_errors(exc: RequestValidationError) -> list[dict]:
    out = []
    for err in exc.errors():
        loc = [str(p) for p in err.get("loc", ())]
        place = PLACES.get(loc[0], "") if loc else ""
        name = ".".join(loc[1:] if place else loc)
        message = PLAIN_WORDS.get(err.get("type", ""), err.get("msg", "invalid"))
        given = err.get("input")
        if isinstance(given, str) and err.get("type") != "missing" and \
                len(given) <= SHOWN_INPUT_CHARS:
            message += f" (it was {given!r})"
        out.append({"field": f"{name} ({place})" if place else name, "message": message})
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(LoginRequired)
    async def _login(request: Request, exc: LoginRequired):
        if is_api(request):
            return problem(request, 401, "Sign in to use this endpoint.")
        # The query too: '?level=practice' was lost at sign-in (a walkthrough).
        query = quote(f"?{request.url.query}", safe="") if request.url.query else ""
        target = quote(request.url.path, safe="/") + query
        # A session that was there but has ended (expiry, logout elsewhere, password reset)
        # is said so on the sign-in page rather than silently asking again.
        ended = getattr(request.state, "session_ended", False)
        suffix = "&ended=1" if ended else ""
        return RedirectResponse(f"/login?next={target}{suffix}", status_code=303)

    @app.exception_handler(Forbidden)
    async def _forbidden(request: Request, exc: Forbidden):
        return problem(request, 403, exc.detail)

    @app.exception_handler(CsrfError)
    async def _csrf(request: Request, exc: CsrfError):
        return problem(request, 403, "The form had expired or did not come from this site. "
                       "Go back, reload the page and try again.")

    @app.exception_handler(Throttled)
    async def _throttled(request: Request, exc: Throttled):
        return problem(request, 429, f"Too many failed sign-in attempts. Try again in "
                       f"{exc.retry_after} seconds.",
                       headers={"Retry-After": str(exc.retry_after)})

    @app.exception_handler(CarepathError)
    async def _carepath(request: Request, exc: CarepathError):
        return problem(request, 400, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError):
        return problem(request, 422, "Some of the input is not valid.",
                       errors=_field_errors(exc))

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException):
        detail = exc.detail if isinstance(exc.detail, str) else TITLES.get(exc.status_code, "")
        if exc.status_code == 404 and detail == "Not Found":
            detail = "There is no page at this address."
        return problem(request, exc.status_code, detail, headers=getattr(exc, "headers", None))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception):
        # Logged by type only: messages could carry data values.
        log.error("unhandled %s on %s", type(exc).__name__, request.url.path)
        return problem(request, 500, "Something went wrong on our side. The error has been "
                       "logged; try again or tell your administrator.")
