"""Practice list and practice profile (spine chart against locality, ICB and national)."""

from __future__ import annotations

from datetime import date

import duckdb
from fastapi import APIRouter, Depends, HTTPException, Request

from carepath import charts
from carepath.domain.benchmarking import profiles
from carepath.web import benchmarking, profile_index, queries, scopes
from carepath.web.cache import VersionedCache
from carepath.web.db import get_con
from carepath.web.meta import get_meta
from carepath.web.render import NavItem, render, render_cached
from carepath.web.scopes import STAFF_ROLES, Principal, Role
from carepath.web.security import Forbidden, require_user

router = APIRouter()
NAV_ITEMS = (NavItem("Practices", "/practices", STAFF_ROLES - {Role.PROVIDER}, order=30),)
PROFILE_COLUMNS = [("indicator", "Indicator", "text"), ("period", "Period", "text"),
                   ("value", "Value", "value"), ("lower", "Lower", "number"),
                   ("upper", "Upper", "number"), ("level_said", "Interval", "text"),
                   ("numerator", "Count", "count"),
                   ("denominator", "Denominator", "count"), ("locality", "Locality", "number"),
                   ("icb", "ICB", "number"), ("national", "National", "number"),
                   ("significance", "Compared with national", "significance")]


def practice_list(con: duckdb.DuckDBPyConnection, who: Principal) -> list[dict]:
    rows = con.execute(
        """SELECT o.org_code, arg_max(o.name, o.valid_from), any_value(h.parent_code),
                  any_value(l.name)
           FROM organisations o
           LEFT JOIN org_hierarchy h ON h.child_code = o.org_code AND h.parent_type =
                'locality' AND h.valid_from <= current_date AND (h.valid_to IS NULL OR
                h.valid_to >= current_date)
           LEFT JOIN organisations l ON l.org_code = h.parent_code
           WHERE o.org_type = 'practice' GROUP BY o.org_code ORDER BY 4, 2""").fetchall()
    allowed = scopes.allowed_restricted_codes(con, who)
    return [{"code": c, "name": n, "locality_code": lc, "locality": ln}
            for c, n, lc, ln in rows if allowed is None or c in allowed]


@router.get("/practices", include_in_schema=False)
def practices(request: Request, who: Principal = Depends(require_user),
              con: duckdb.DuckDBPyConnection = Depends(get_con)):
    if who.role is Role.PROVIDER:
        raise Forbidden("Practice data is for commissioners, analysts and lead GPs.")
    groups: dict[str, list[dict]] = {}
    for p in practice_list(con, who):
        groups.setdefault(p["locality"] or "No locality", []).append(p)
    return render(request, "practices.html", {"title": "Practices", "groups": groups})


def practice_or_error(cache: VersionedCache, con: duckdb.DuckDBPyConnection,
                      who: Principal, code: str) -> str:
    name = queries.organisation_names(cache, con, "practice").get(code)
    if name is None:
        raise HTTPException(404, f"There is no practice with code {code!r}.")
    if not scopes.can_see_area(con, who, "practice", code):
        raise Forbidden("This practice is outside the localities of your account.")
    return name


def _clamp(pos: float | None) -> float | None:
    return None if pos is None else min(max(float(pos), 0.0), 1.0)


def profile_rows(request: Request, con: duckdb.DuckDBPyConnection, code: str,
                 meta: dict) -> list[dict]:
    rows = profile_index.profile_rows(request.app.state.cache, con, code, meta)
    for r in rows:
        # A comparator outside the practices' range (a narrow range, an aggregate far from
        # them) would stretch the chart to thousands of pixels: pin it to the spine's end.
        for c in r["comparators"]:
            c["pos"] = _clamp(c["pos"])
        if r["pos"]:
            r["pos"] = {k: _clamp(v) for k, v in r["pos"].items()}
        comps = {c["name"]: c["value"] for c in r["comparators"]}
        r.update(locality=comps.get("locality"), icb=comps.get("icb"),
                 unit=meta[r["indicator_id"]].get("unit", ""),
                 out_of_date=bool(meta[r["indicator_id"]].get("out_of_date")))
        if r["value_state"] != "published":
            r.update(lower95=None, upper95=None, lower=None, upper=None, numerator=None,
                     denominator=None)
    return rows


@router.get("/practices/{code}", include_in_schema=False)
def practice_profile(request: Request, code: str, who: Principal = Depends(require_user),
                     con: duckdb.DuckDBPyConnection = Depends(get_con),
                     meta: dict = Depends(get_meta)):
    name = practice_or_error(request.app.state.cache, con, who, code)
    def build() -> dict:
        rows = profile_rows(request, con, code, meta)
        locality = profiles.parent_of(con, code, "locality", date.today())
        cache = request.app.state.cache
        locality_name = queries.organisation_names(cache, con, "locality").get(locality,
                                                                                locality)
        size = benchmarking.list_size(cache, con, code)
        allowed = scopes.allowed_restricted_codes(con, who)
        # Names and list sizes of peers are published facts; links (to their indicator values)
        # only where the account's scope reaches.
        similar = queries.records(benchmarking.similar_practices(cache, con, code))
        for p in similar:
            p["linked"] = allowed is None or p["peer_code"] in allowed
        return {
            "title": name, "code": code, "rows": rows, "columns": PROFILE_COLUMNS,
            "list_size": size, "small": size is not None and size < benchmarking.SMALL_PRACTICE_LIST,
            "small_threshold": benchmarking.SMALL_PRACTICE_LIST, "similar": similar,
            "peer_model": benchmarking.model_description(cache, con),
            "spine": charts.spine_chart(rows, label_chars=charts.WIDE_LABEL_CHARS)
            if any(r["pos"] for r in rows) else None,
            "locality": locality, "locality_name": locality_name}

    return render_cached(request, "practice.html", (code,), build, con)
