"""Read models for the lead GP's view: practice profiles, locality tartan rugs, outliers.

All functions read ``indicator_values`` (written by the engine) and the organisation
hierarchy valid in the period, and return plain rows for pages and packs to render.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import duckdb
import pandas as pd

from carepath.charts import spine_positions
from carepath.domain.benchmarking import spread
from carepath.stats import LEVEL_SAID

NATIONAL = "national"
OUTLIER_LEVEL = "99.8%"
# Categories the engine writes for significance against a comparator.
FAVOURABLE = {"better", "higher"}


@dataclass(frozen=True)
class Area:
    code: str
    name: str
    type: str


def localities(con: duckdb.DuckDBPyConnection) -> list[Area]:
    rows = con.execute(
        "SELECT org_code, arg_max(name, valid_from) FROM organisations WHERE org_type = 'locality' "
        "GROUP BY org_code ORDER BY 2"
    ).fetchall()
    return [Area(code, name, "locality") for code, name in rows]


def find_locality(con: duckdb.DuckDBPyConnection, name_or_code: str) -> Area | None:
    """By code or name in any case, or the name without 'Locality' ('Budmouth' for
    'Budmouth Locality' was refused: a walkthrough)."""
    wanted = name_or_code.strip().lower()
    for area in localities(con):
        name = area.name.lower()
        if wanted in (area.code.lower(), name, name.removesuffix(" locality")):
            return area
    return None


def practices_in(
    con: duckdb.DuckDBPyConnection, parent_code: str, on: date | None = None
) -> list[Area]:
    """Practices whose link to ``parent_code`` is valid on ``on`` (default: today's links)."""
    on = on or date.today()
    rows = con.execute(
        """
        SELECT h.child_code, arg_max(o.name, o.valid_from)
        FROM org_hierarchy h JOIN organisations o ON o.org_code = h.child_code
        WHERE h.parent_code = ? AND o.org_type = 'practice'
          AND h.valid_from <= ? AND (h.valid_to IS NULL OR h.valid_to >= ?)
        GROUP BY h.child_code ORDER BY 2
        """,
        [parent_code, on, on],
    ).fetchall()
    return [Area(code, name, "practice") for code, name in rows]


def parent_of(con, child_code: str, parent_type: str, on: date) -> str | None:
    row = con.execute(
        "SELECT parent_code FROM org_hierarchy WHERE child_code = ? AND parent_type = ? "
        "AND valid_from <= ? AND (valid_to IS NULL OR valid_to >= ?) LIMIT 1",
        [child_code, parent_type, on, on],
    ).fetchone()
    return row[0] if row else None


_LATEST = """
    WITH latest AS (
      SELECT indicator_id, max(period_end) AS period_end FROM indicator_values
      WHERE breakdown = 'all' GROUP BY indicator_id
    )
"""


def latest_values(
    con: duckdb.DuckDBPyConnection,
    area_type: str | None = None,
    area_codes: list[str] | None = None,
) -> pd.DataFrame:
    """Each indicator's rows for its latest period (no breakdown), optionally filtered."""
    where, params = ["v.breakdown = 'all'"], []
    if area_type:
        where.append("v.area_type = ?")
        params.append(area_type)
    if area_codes is not None:
        where.append(f"v.area_code IN ({', '.join('?' * len(area_codes)) or 'NULL'})")
        params += list(area_codes)
    return con.execute(
        f"{_LATEST} SELECT v.* FROM indicator_values v JOIN latest USING (indicator_id, "
        f"period_end) WHERE {' AND '.join(where)}",
        params,
    ).df()


def practice_distribution(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Range and quartiles of published practice values per indicator (latest period)."""
    return con.execute(
        f"""{_LATEST}
        SELECT indicator_id, min(value) AS min, quantile_cont(value, 0.25) AS q1,
               quantile_cont(value, 0.75) AS q3, max(value) AS max, count(*) AS n
        FROM indicator_values v JOIN latest USING (indicator_id, period_end)
        WHERE v.breakdown = 'all' AND v.area_type = 'practice' AND v.value_state = 'published'
        GROUP BY indicator_id"""
    ).df().set_index("indicator_id")


def practice_profile(
    con: duckdb.DuckDBPyConnection, practice_code: str, meta: dict[str, dict], *,
    distribution: pd.DataFrame | None = None,
) -> list[dict]:
    """Spine-chart rows: the practice against locality, ICB and national, per indicator.

    ``meta`` maps indicator id to {"title", "higher_is_better" (True/False/None), "unit"}.
    ``distribution`` is ``practice_distribution(con)``, passed in when profiling many
    practices (a locality pack) so it is worked out once.
    """
    dist = practice_distribution(con) if distribution is None else distribution
    mine = latest_values(con, "practice", [practice_code]).set_index("indicator_id")
    if mine.empty:
        return []
    on = mine["period_end"].max()
    parents = {lvl: parent_of(con, practice_code, lvl, on) for lvl in ("locality", "icb")}
    others = _published(latest_values(con, None,
                                      [NATIONAL] + [c for c in parents.values() if c]))
    rows = []
    for ind_id, m in meta.items():
        if ind_id not in mine.index or ind_id not in dist.index:
            continue
        rows.append(spine_row(ind_id, m, mine.loc[ind_id], dist.loc[ind_id], parents, others))
    return rows




def spine_row(ind_id: str, m: dict, r, d, parents: dict[str, str | None],
              published: dict[tuple[str, str, str], float]) -> dict:
    """One indicator's spine-chart row: the practice's own values ``r`` (a row of
    ``indicator_values``), the practices' range ``d`` (a row of ``practice_distribution``)
    and the parents' and national published values (``published``: (indicator, area
    type, area code) -> value)."""
    nat = published.get((ind_id, "national", NATIONAL))
    hib = m.get("higher_is_better")
    judged_at = m.get("level", "95")
    own_published = r["value_state"] == "published"
    shown = r["value"] if own_published else None
    pos = spine_positions(shown, nat, d["min"], d["q1"], d["q3"], d["max"],
                          higher_is_better=hib)
    comparators = []
    for level, code in parents.items():
        v = published.get((ind_id, level, code)) if code else None
        cpos = spine_positions(v, nat, d["min"], d["q1"], d["q3"], d["max"],
                               higher_is_better=hib) if pos else None
        comparators.append({"name": level, "code": code, "value": v,
                            "pos": cpos["value"] if cpos else None})
    return {
        "indicator_id": ind_id, "indicator": m["title"], "period": r["period"],
        "value": r["value"], "lower95": r["lower95"], "upper95": r["upper95"],
        # The interval the judgement beside it was made at (99.8% for the referral ratio
        # and screening: 95% beside them read "Similar" excluding national, a review).
        "lower": r[f"lower{judged_at}"], "upper": r[f"upper{judged_at}"],
        "level_said": LEVEL_SAID[judged_at],
        "numerator": r["numerator"], "denominator": r["denominator"],
        "value_state": r["value_state"], "value_note": r["value_note"],
        # Missing is no data, not suppressed (a missing DSR read "Suppressed": a check)
        "significance": r["compared_to_national"] if own_published else (
            "missing" if r["value_state"] == "missing" else "suppressed"),
        "trend": r["trend"], "national": nat, "england_low": d["min"],
        "england_high": d["max"], "comparators": comparators, "pos": pos,
        "value_text": _fmt(shown, m.get("unit", "")),
    }


def _published(values: pd.DataFrame) -> dict[tuple, float | None]:
    """(indicator, area type, area code) -> the value if published, else None."""
    out: dict[tuple, float | None] = {}
    for key in zip(values["indicator_id"], values["area_type"], values["area_code"],
                   values["value_state"], values["value"], strict=True):
        out.setdefault(key[:3], float(key[4]) if key[3] == "published" else None)
    return out


def _fmt(v, unit: str) -> str:
    """'55.0%', '4,963.6 per 100,000 per year' (it read '4,963.6per 100,000': a
    walkthrough)."""
    if v is None or pd.isna(v):
        return ""
    return f"{v:,.1f}{unit if unit in ('', '%') else ' ' + unit}"


def tartan_rug(
    con: duckdb.DuckDBPyConnection, practices: list[Area], meta: dict[str, dict]
) -> pd.DataFrame:
    """Practices × indicators: value, state and significance against national."""
    v = latest_values(con, "practice", [p.code for p in practices])
    v = v[v["indicator_id"].isin(meta)]
    return v[["area_code", "area_name", "indicator_id", "period", "value", "lower95",
              "upper95", "lower998", "upper998", "numerator", "denominator", "value_state",
              "value_note", "compared_to_national", "trend"]]


def rug_periods(rug: pd.DataFrame) -> dict[str, str]:
    """Each indicator's period(s) in a rug, for its column: the columns mix years and
    quarters (2023/24, 2024/25, 2024/25 Q4), each its own latest."""
    if rug.empty:
        return {}
    return {ind: ", ".join(sorted(map(str, g.dropna().unique())))
            for ind, g in rug.groupby("indicator_id")["period"]}


def practice_spreads(con: duckdb.DuckDBPyConnection,
                     meta: dict[str, dict]) -> dict[str, spread.Spread]:
    """Each indicator's spread between all the workspace's practices (spread.py): the same
    whichever locality looks, so worked out once and given to ``outliers`` (England's
    practices took 0.9 s a locality: a review)."""
    return spread.spreads(latest_values(con, "practice"), latest_values(con, "national"),
                          {i: m.get("statistic") for i, m in meta.items()})


def outliers(
    con: duckdb.DuckDBPyConnection, practices: list[Area], meta: dict[str, dict],
    widened: dict[str, spread.Spread] | None = None,
) -> pd.DataFrame:
    """Practices whose 99.8% interval excludes the national value, for peer review.

    Only judged indicators (a polarity) are listed: a "no judgement" indicator such as the
    referral ratio is shown in the rug but not sent to peer review as good or bad. Each
    says whether it is still outside limits widened for the spread between the
    workspace's practices (``still_outside``, with the indicator's ``phi``; see
    spread.py). ``widened``: ``practice_spreads``, when already worked out.
    """
    nat = latest_values(con, "national").set_index("indicator_id")["value"]
    p = latest_values(con, "practice", [a.code for a in practices])
    p = p[p["value_state"] == "published"]
    if widened is None:
        widened = practice_spreads(con, meta)
    rows = []
    compared = 0
    for r in p.itertuples(index=False):
        m = meta.get(r.indicator_id)
        if m is None or m.get("higher_is_better") is None or r.indicator_id not in nat:
            continue
        national = nat[r.indicator_id]
        if pd.isna(r.lower998) or pd.isna(r.upper998) or pd.isna(national):
            continue
        compared += 1
        if r.lower998 > national:
            direction = "high"
        elif r.upper998 < national:
            direction = "low"
        else:
            continue
        worse = (direction == "low") == bool(m["higher_is_better"])
        rows.append({
            "indicator_id": r.indicator_id, "indicator": m["title"], "area_code": r.area_code,
            "area_name": r.area_name, "period": r.period, "value": r.value,
            "lower998": r.lower998, "upper998": r.upper998, "national": national,
            "numerator": r.numerator, "denominator": r.denominator, "direction": direction,
            "judgement": "worse" if worse else "better",
            "still_outside": spread.still_outside(widened.get(r.indicator_id), r.area_code,
                                                  direction),
            "phi": widened[r.indicator_id].phi if r.indicator_id in widened else None,
        })
    cols = ["indicator_id", "indicator", "area_code", "area_name", "period", "value",
            "lower998", "upper998", "national", "numerator", "denominator", "direction",
            "judgement", "still_outside", "phi"]
    out = pd.DataFrame(rows, columns=cols)
    out = out.sort_values(["judgement", "indicator", "area_name"], ascending=[False, True, True])
    # How many practice-indicator comparisons were made: each falls outside its 99.8%
    # interval by chance 1 time in 500, so a pack says how many that makes, not "fewer
    # than 1 in 500 practices" (about 1 in 20 with 27 indicators: an independent check).
    out.attrs["compared"] = compared
    return out
