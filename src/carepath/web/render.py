"""Templates, navigation and value formatting shared by every page.

Page modules render with ``render(request, "name.html", {...})``; the base template gets the
signed-in person, the CSRF token for forms and the navigation their role may use.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from carepath import __version__
from carepath.web.scopes import ANONYMOUS, Principal, Role

ENV = Environment(
    loader=PackageLoader("carepath.web", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)


@dataclass(frozen=True)
class NavItem:
    """A link in the header. Page modules list theirs in ``NAV_ITEMS``; ``roles`` empty means
    everyone (including the public)."""

    label: str
    path: str
    roles: frozenset[Role] = frozenset()
    order: int = 50

    def visible_to(self, who: Principal) -> bool:
        return not self.roles or who.role in self.roles


def fmt_number(value: Any, digits: int = 1) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return f"{float(value):,.{digits}f}"


def fmt_count(value: Any) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    return f"{value:,.0f}"


def state_cell(row: dict, key: str = "value", digits: int = 1) -> Markup:
    """A value with its state: suppressed, missing and zero look different and say why."""
    state = row.get("value_state") or "published"
    note = row.get("value_note") or ""
    if state == "suppressed":
        return Markup('<span class="state state--suppressed" title="{0}">Suppressed'
                      '<span class="visually-hidden">: {0}</span></span>').format(
            note or "small numbers")
    value = row.get(key)
    if state == "missing" or value is None or (isinstance(value, float) and math.isnan(value)):
        return Markup('<span class="state state--missing" title="{0}">No data'
                      '<span class="visually-hidden">: {0}</span></span>').format(
            note or "no data for this period")
    return Markup("{0}").format(fmt_number(value, digits))


def significance_tag(value: str | None) -> Markup:
    label = (value or "not_compared").replace("_", " ")
    css = (value or "not_compared").replace("_", "-")
    return Markup('<span class="tag tag--{0}">{1}</span>').format(css, label.capitalize())


def to_json(value: Any) -> Markup:
    """JSON safe to place inside <script type="application/json">."""
    text = json.dumps(value, default=_json_default, allow_nan=False)
    return Markup(text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026"))


def _json_default(value: Any) -> Any:
    if isinstance(value, float) and math.isnan(value):
        return None
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if hasattr(value, "item"):  # numpy scalars
        return value.item()
    return str(value)


ENV.filters.update(number=fmt_number, count=fmt_count, state=state_cell,
                   significance=significance_tag, tojson_safe=to_json)


def render(request: Request, template: str, context: dict | None = None, *,
           status_code: int = 200) -> HTMLResponse:
    who: Principal = getattr(request.state, "principal", None) or ANONYMOUS
    nav = [n for n in request.app.state.nav if n.visible_to(who)]
    ctx = {
        "request": request, "who": who, "nav": nav, "version": __version__,
        "csrf_token": request.state.session["c"],
        "workspace_name": request.app.state.workspace_name,
        "current_path": request.url.path,
    }
    ctx.update(context or {})
    html = ENV.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code)
