"""The Carepath web application.

``create_app(ws)`` builds a FastAPI app over one workspace. Pages are plug-ins: every module
``carepath.web.pages.<name>`` that defines ``router`` (an ``APIRouter``) is included, and its
optional ``NAV_ITEMS`` (``render.NavItem``) go in the header. JSON endpoints live in
``carepath.web.api.<name>`` the same way and are mounted under ``/api/v1``. Adding a page
never means editing this file.

Every route checks the caller through the dependencies of ``carepath.web.security``
(``require_user``, ``require_roles``) and the scope rules of ``carepath.web.scopes``.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Iterator
from contextlib import asynccontextmanager
from types import ModuleType

import anyio.to_thread
from fastapi import APIRouter, Depends, FastAPI, Request
from fastapi.staticfiles import StaticFiles

from carepath import __version__
from carepath.web import api as api_pkg
from carepath.web import errors, users
from carepath.web import pages as pages_pkg
from carepath.web.cache import VersionedCache
from carepath.web.db import Database
from carepath.web.middleware import WebMiddleware
from carepath.web.render import NavItem
from carepath.web.security import LoginThrottle, SessionCodec, csrf_protect
from carepath.workspace import Workspace

API_PREFIX = "/api/v1"
# Bodies larger than this are refused before they are read (forms here are small).
MAX_BODY_BYTES = 1_000_000
SECURITY_HEADERS = {
    # vega-embed runs Vega's expression interpreter (ast mode), so no 'unsafe-eval'.
    "Content-Security-Policy": "default-src 'self'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
HSTS_SECONDS = 365 * 24 * 60 * 60
PREVIEW_HEADER = "X-Carepath-Preview"
PREVIEW_SAID = "a preview: not recorded as a release; do not publish"


def discover(package: ModuleType) -> Iterator[ModuleType]:
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        if not info.name.startswith("_"):
            yield importlib.import_module(f"{package.__name__}.{info.name}")


def create_app(ws: Workspace, *, force_secure: bool = False,
               threads: int | None = None, preview: bool = False) -> FastAPI:
    """``threads``: size of the pool that runs page handlers (DuckDB releases the GIL).
    ``preview``: the public pages are not recorded as releases, and say so."""
    db = Database(ws)

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if threads:
            anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        db.open()
        yield
        db.close()

    app = FastAPI(title="Carepath", version=__version__, lifespan=lifespan,
                  openapi_url=f"{API_PREFIX}/openapi.json", docs_url=None, redoc_url=None,
                  dependencies=[Depends(csrf_protect)],
                  description="Indicator values and read models of a Carepath workspace, "
                  "under the caller's role and scope.")
    with ws.transaction() as con:
        users.ensure_tables(con)
    app.state.ws = ws
    app.state.db = db
    app.state.session_codec = SessionCodec(ws.secret())
    app.state.throttle = LoginThrottle()
    app.state.cache = VersionedCache()
    app.state.preview = preview
    app.state.principals = {}  # security._lookup_cached
    app.state.force_secure = force_secure
    app.state.workspace_name = ws.config().get("name", ws.path.name)
    _middleware(app)
    errors.install(app)
    app.mount("/static", StaticFiles(packages=[("carepath.web", "static")]), name="static")
    nav: list[NavItem] = []
    # All page routes in one router and all API routes in another: matching a request walks
    # every included router, so one per module would cost each request a walk over ~20.
    # (A route carries its own router's prefix and dependencies, so moving it is safe.)
    pages, api = APIRouter(), APIRouter()
    for module in discover(pages_pkg):
        if hasattr(module, "router"):
            pages.routes.extend(module.router.routes)
            nav.extend(getattr(module, "NAV_ITEMS", ()))
    for module in discover(api_pkg):
        if hasattr(module, "router"):
            api.include_router(module.router)
    app.include_router(pages)
    app.include_router(api, prefix=API_PREFIX, responses=errors.API_PROBLEM_RESPONSES)
    app.state.nav = sorted(nav, key=lambda n: (n.order, n.label))
    return app


def _middleware(app: FastAPI) -> None:
    def too_large(request: Request):
        return errors.problem(request, 413, f"The request is larger than the "
                              f"{MAX_BODY_BYTES // 1000} kB this site accepts.")

    # Behind TLS (--secure) browsers are told to come back over TLS only; a preview's
    # every answer says it is one, its JSON and downloads too, not only its pages (a red
    # team).
    headers = SECURITY_HEADERS | ({"Strict-Transport-Security": f"max-age={HSTS_SECONDS}"}
                                  if app.state.force_secure else {}) | (
        {PREVIEW_HEADER: PREVIEW_SAID} if app.state.preview else {})
    app.add_middleware(WebMiddleware, max_body=MAX_BODY_BYTES, headers=headers,
                       too_large=too_large)
