"""Templates, navigation and value formatting shared by every page.

Page modules render with ``render(request, "name.html", {...})``; the base template gets the
signed-in person, the CSRF token for forms and the navigation their role may use.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from carepath import __version__
from carepath.charts import SIGNIFICANCE_LABELS
from carepath.domain.benchmarking import spread
from carepath.domain.contracts import formatting as contract_format
from carepath.indicators.catalogue import unit_note
from carepath.model.codes import in_words
from carepath.web.scopes import ANONYMOUS, Principal, Role

ENV = Environment(
    loader=PackageLoader("carepath.web", "templates"),
    autoescape=select_autoescape(["html"]),
    # Templates ship in the package and do not change while the server runs: no file
    # check on every request.
    auto_reload=False,
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
        why = escape(note or "small numbers")
        return Markup(f'<span class="state state--suppressed" title="{why}">Suppressed'
                      f'<span class="visually-hidden">: {why}</span></span>')
    value = row.get(key)
    if state == "missing" or value is None or (isinstance(value, float) and math.isnan(value)):
        why = escape(note or "no data for this period")
        return Markup(f'<span class="state state--missing" title="{why}">No data'
                      f'<span class="visually-hidden">: {why}</span></span>')
    return Markup(escape(fmt_number(value, digits)))


# Value states shown in a comparison's place, with the charts' words and the grey tag.
STATES_AS_TAGS = ("missing", "suppressed")


def significance_tag(value: str | None) -> Markup:
    if value in STATES_AS_TAGS:
        label = escape(SIGNIFICANCE_LABELS[value])
        return Markup(f'<span class="tag tag--not-compared">{label}</span>')
    label = escape((value or "not_compared").replace("_", " ").capitalize())
    css = escape((value or "not_compared").replace("_", "-"))
    return Markup(f'<span class="tag tag--{css}">{label}</span>')


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


def _cell(row: dict, key: str, kind: str) -> str:
    """One <td> as safe HTML text (every value escaped)."""
    if kind == "value":
        return f'<td class="num">{state_cell(row, key)}</td>'
    if kind == "count":
        return f'<td class="num">{escape(fmt_count(row.get(key)))}</td>'
    if kind == "number":
        return f'<td class="num">{escape(fmt_number(row.get(key)))}</td>'
    if kind == "significance":
        shown = row.get("value_state", "published") == "published"
        return f"<td>{significance_tag(row.get(key)) if shown else ''}</td>"
    if kind == "link":
        label = escape(row.get(key) or row.get("area_code") or "")
        href = row.get("href")
        return f'<td><a href="{escape(href)}">{label}</a></td>' if href else f"<td>{label}</td>"
    value = row.get(key)
    return f"<td>{escape('' if value is None else value)}</td>"


def table_body(rows: list[dict], columns: list[tuple[str, str, str]]) -> Markup:
    """All <tr> of a data table at once: a Jinja macro per cell is ten times slower, and a
    chart's table alternative can have thousands of cells."""
    return Markup("\n".join(
        "<tr>" + "".join(_cell(r, k, kind) for k, _, kind in columns) + "</tr>"
        for r in rows))


def unit_suffix(unit: str | None) -> str:
    """What follows a value: '%' sticks to it; other units ('per 100,000 per year') are
    spaced."""
    if not unit:
        return ""
    return unit if unit == "%" else f" {unit}"


ENV.filters.update(number=fmt_number, count=fmt_count, state=state_cell,
                   significance=significance_tag, tojson_safe=to_json, table_body=table_body,
                   unit_suffix=unit_suffix, words=in_words, share=contract_format.share,
                   unit_note=unit_note, spread_said=spread.said)


def _base_context(request: Request) -> dict:
    who: Principal = getattr(request.state, "principal", None) or ANONYMOUS
    return {
        "request": request, "who": who,
        "nav": [n for n in request.app.state.nav if n.visible_to(who)],
        "version": __version__, "csrf_token": request.state.session["c"],
        "workspace_name": request.app.state.workspace_name,
        "current_path": request.url.path,
    }


def render(request: Request, template: str, context: dict | None = None, *,
           status_code: int = 200) -> HTMLResponse:
    ctx = _base_context(request)
    ctx.update(context or {})
    html = ENV.get_template(template).render(ctx)
    return HTMLResponse(html, status_code=status_code)


# Blocks of a page template rendered once and reused (see render_cached).
CACHED_BLOCKS = ("title", "breadcrumb", "content", "scripts")


def render_cached(request: Request, template: str, key: tuple,
                  build: Callable[[], dict], con: Any) -> HTMLResponse:
    """A page whose body depends only on the data, the URL and the caller's role and scope:
    the body blocks are rendered once per data version and reused; the header (user name,
    navigation, CSRF token of the sign-out form) is rendered for each request.

    Callers check access *before* calling, and ``key`` must hold everything the body depends
    on besides role and scope (which are added here). Never use it for a page with a form
    that carries the CSRF token, or that shows who is signed in, in its body."""
    who: Principal = getattr(request.state, "principal", None) or ANONYMOUS
    full_key = ("page", template, key, who.role, tuple(sorted(who.scope)))

    def make(_con: Any) -> dict[str, Markup]:
        ctx = _base_context(request)
        ctx.update(build())
        tmpl = ENV.get_template(template)
        # the page's "import _macros as m with context", done for the blocks we call
        ctx["m"] = ENV.get_template("_macros.html").make_module(vars=ctx)
        jctx = tmpl.new_context(ctx)
        out = {name: Markup("".join(tmpl.blocks[name](jctx)))
               for name in CACHED_BLOCKS if name in tmpl.blocks}
        out.setdefault("title", str(ctx.get("title") or "Carepath"))  # escaped in base
        return out

    blocks = request.app.state.cache.get(full_key, con, make)
    ctx = _base_context(request)
    ctx["pre"] = blocks
    return HTMLResponse(ENV.get_template("base.html").render(ctx))
