"""Locality packs (C6): one self-contained report per locality, HTML and PDF.

A lead GP prints the pack and brings it to the peer-review meeting, so it must stand on its
own: summary first, then the practices against each other and against national, the outliers
with what was agreed last time, the definitions, the data period and provenance. Charts are
inline SVG (vectors in the PDF); the only external file is none. PDFs are printed by
``carepath.pdf`` (headless Chromium when installed, else WeasyPrint).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from carepath import __version__, charts, pdf
from carepath.domain.benchmarking import peer_review, profiles, spread
from carepath.domain.benchmarking.spread import MIN_PRACTICES_FOR_SPREAD
from carepath.indicators.catalogue import unit_beyond_title, unit_note
from carepath.reports.indicator_meta import indicator_meta
from carepath.stats import CONF_998, LEVEL_SAID

TEMPLATES = Environment(
    loader=PackageLoader("carepath.reports", "templates"),
    autoescape=select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)
TEMPLATES.filters["unit_beyond"] = unit_beyond_title
TEMPLATES.filters["unit_note"] = unit_note
TEMPLATES.filters["spread_said"] = spread.said
# Practices with fewer registered patients than this are flagged: Fingertips publishes
# practice profiles only from a list size of 750, and single-year values below it are noise.
SMALL_PRACTICE_LIST = 750
# Outliers for peer review lie outside a 99.8% interval: each comparison does so by chance
# alone this often.
OUTLIER_CHANCE = 1 - CONF_998
KEY_INDICATORS_FOR_CHARTS = 6


@dataclass
class PackData:
    locality: profiles.Area
    practices: list[profiles.Area]
    meta: dict[str, dict]
    rug: pd.DataFrame
    outliers: pd.DataFrame
    reviews: pd.DataFrame
    locality_profile: list[dict]
    practice_profiles: dict[str, list[dict]]
    charts: list[dict] = field(default_factory=list)
    periods: list[str] = field(default_factory=list)
    provenance: list[dict] = field(default_factory=list)
    list_sizes: dict[str, int] = field(default_factory=dict)
    generated_at: str = ""
    why_empty: str | None = None
    out_of_date: dict[str, str] = field(default_factory=dict)  # indicator id -> why


def _list_sizes(con: duckdb.DuckDBPyConnection, codes: list[str]) -> dict[str, int]:
    if not codes:
        return {}
    rows = con.execute(
        f"""SELECT practice_code, sum(population) FROM registered_population
            WHERE quarter_start = (SELECT max(quarter_start) FROM registered_population)
              AND practice_code IN ({', '.join('?' * len(codes))})
            GROUP BY practice_code""",
        codes,
    ).fetchall()
    return {code: int(n) for code, n in rows}




def _provenance(con: duckdb.DuckDBPyConnection, ids: list[str]) -> list[dict]:
    if not ids:
        return []
    return con.execute(
        f"""SELECT indicator_id, any_value(indicator_version) AS version,
                   any_value(definition_hash) AS hash, max(computed_at) AS computed_at,
                   any_value(load_ids) AS load_ids, any_value(carepath_version) AS carepath
            FROM indicator_values WHERE indicator_id IN ({', '.join('?' * len(ids))})
            GROUP BY indicator_id ORDER BY indicator_id""",
        ids,
    ).df().to_dict("records")


def _indicator_charts(rug: pd.DataFrame, meta: dict[str, dict], national: dict) -> list[dict]:
    """Ordered bar charts (with the intervals each is judged by) for the judged indicators
    with most data."""
    judged = [i for i, m in meta.items() if m.get("higher_is_better") is not None]
    counts = rug[rug["value_state"] == "published"].groupby("indicator_id").size()
    chosen = [i for i in counts.sort_values(ascending=False).index if i in judged]
    out = []
    for ind in chosen[:KEY_INDICATORS_FOR_CHARTS]:
        rows = rug[(rug["indicator_id"] == ind) & (rug["value_state"] == "published")]
        level = meta[ind].get("level", "95")
        data = [{"name": r.area_name, "value": r.value, "lower": getattr(r, f"lower{level}"),
                 "upper": getattr(r, f"upper{level}"), "significance": r.compared_to_national}
                for r in rows.itertuples()]
        spec = charts.bar_with_intervals(data, average=national.get(ind),
                                         y_title=meta[ind]["title"], compared_with="national")
        out.append({"indicator_id": ind, "title": meta[ind]["title"],
                    "svg": charts.to_svg(spec), "rows": data, "level_said": LEVEL_SAID[level],
                    "compared_by": meta[ind].get("compared_by", "")})
    return out


def build(con: duckdb.DuckDBPyConnection, locality: profiles.Area,
          out_of_date: dict[str, str] | None = None, *,
          definitions: dict | None = None, widened: dict | None = None) -> PackData:
    """The pack's content; ``out_of_date``: indicator id -> why its values are out of date
    (``carepath.engine.freshness.out_of_date``), said at the top and in the provenance.
    ``definitions``: the workspace's library (its own definitions and overrides with the
    built-ins); only the built-ins without it. Read without them, a workspace's own
    indicator was titled by its id with no unit or direction, and its spine pointed the
    wrong way (a walkthrough). ``widened``: the practices' spreads
    (``profiles.practice_spreads``), worked out once for a batch."""
    meta = indicator_meta(con, definitions=definitions)
    practices = profiles.practices_in(con, locality.code)
    rug = profiles.tartan_rug(con, practices, meta)
    values = profiles.latest_values(con, None, [locality.code, profiles.NATIONAL])
    national = values[values["area_type"] == "national"].set_index("indicator_id")["value"]
    distribution = profiles.practice_distribution(con)  # shared by every practice's profile
    pack = PackData(
        locality=locality,
        practices=practices,
        meta=meta,
        rug=rug,
        outliers=profiles.outliers(con, practices, meta, widened),
        reviews=peer_review.reviews(con, [p.code for p in practices]),
        locality_profile=_locality_profile(values, locality, meta),
        practice_profiles={p.code: profiles.practice_profile(con, p.code, meta,
                                                             distribution=distribution)
                           for p in practices},
        periods=sorted(rug["period"].dropna().unique().tolist()),
        provenance=_provenance(con, sorted(meta)),
        list_sizes=_list_sizes(con, [p.code for p in practices]),
        generated_at=datetime.now(UTC).strftime("%d %B %Y %H:%M UTC"),
        out_of_date={k: v for k, v in (out_of_date or {}).items() if k in meta},
    )
    if not practices:
        pack.why_empty = (f"No practices belong to {locality.name} in the current hierarchy, "
                          "so there is nothing to compare.")
    elif rug.empty:
        pack.why_empty = (f"No indicator values have been computed for the practices of "
                          f"{locality.name}. Run `carepath compute` first.")
    else:
        pack.charts = _indicator_charts(rug, meta, national.to_dict())
    return pack


def _locality_profile(values: pd.DataFrame, locality: profiles.Area, meta) -> list[dict]:
    loc = values[(values["area_type"] == "locality") & (values["area_code"] == locality.code)]
    nat = values[values["area_type"] == "national"].set_index("indicator_id")
    rows = []
    for r in loc.itertuples():
        if r.indicator_id not in meta:
            continue
        # The interval the judgement beside it was made with: a 95% interval beside a
        # judgement at 99.8% excluded national yet read "Similar" (an independent check).
        level = meta[r.indicator_id].get("level", "95")
        rows.append({
            # Each row's own latest period: they differ (survival lags a year: a
            # walkthrough found 2023/24, 2024/25 and 2024/25 Q4 in one table unsaid).
            "indicator": meta[r.indicator_id]["title"], "period": r.period, "value": r.value,
            "lower": getattr(r, f"lower{level}"), "upper": getattr(r, f"upper{level}"),
            "level_said": LEVEL_SAID[level],
            "compared_by": meta[r.indicator_id].get("compared_by", ""), "state": r.value_state,
            "note": r.value_note, "numerator": r.numerator, "denominator": r.denominator,
            "national": nat["value"].get(r.indicator_id), "significance": r.compared_to_national,
            "trend": r.trend, "unit": meta[r.indicator_id].get("unit", ""),
        })
    return rows


def _records(df: pd.DataFrame) -> list[dict]:
    # NaN -> None so templates test one thing ("is none") for missing.
    return [{k: (None if _isna(v) else v) for k, v in r.items()} for r in df.to_dict("records")]


def _isna(v) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _template_context(pack: PackData) -> dict:
    cells: dict[str, dict[str, dict]] = {}
    for r in _records(pack.rug):
        cells.setdefault(r["area_code"], {})[r["indicator_id"]] = r
    reviews = _records(pack.reviews)
    outliers = _records(pack.outliers)
    for o in outliers:
        prior = [r for r in reviews
                 if r["area_code"] == o["area_code"] and r["indicator_id"] == o["indicator_id"]]
        o["prior"] = prior[0] if prior else None
    return {
        "cells": cells,
        # Only indicators with practice values (provider-attributed ones have none).
        "rug_ids": [i for i in pack.meta if any(i in row for row in cells.values())],
        "outliers": outliers,
        "reviews": reviews,
        "n_worse": sum(o["judgement"] == "worse" for o in outliers),
        "n_better": sum(o["judgement"] == "better" for o in outliers),
        "n_still_outside": sum(o["still_outside"] is True for o in outliers),
        "n_spread_assessed": sum(o["still_outside"] is not None for o in outliers),
        "min_practices_for_spread": MIN_PRACTICES_FOR_SPREAD,
        "n_open": sum(peer_review.is_open_action(r) for r in reviews),
        # Each column's period, said in the legend: the columns mix years and quarters
        # (2023/24, 2024/25, 2024/25 Q4) with no period of their own (a check).
        "rug_periods": profiles.rug_periods(pack.rug),
        "n_compared": pack.outliers.attrs.get("compared", 0),
        "n_by_chance": pack.outliers.attrs.get("compared", 0) * OUTLIER_CHANCE,
        "spines": {code: charts.to_svg(charts.spine_chart(rows)) if rows else ""
                   for code, rows in pack.practice_profiles.items()},
    }


# Indicators per tartan-rug table: fits the width of an A4 page at a readable size.
RUG_COLUMNS_PER_TABLE = 12


def render_html(pack: PackData) -> str:
    return TEMPLATES.get_template("locality_pack.html").render(
        pack=pack, version=__version__, colours=charts.SIGNIFICANCE_COLOURS,
        labels=charts.SIGNIFICANCE_LABELS, small_list=SMALL_PRACTICE_LIST,
        rug_columns=RUG_COLUMNS_PER_TABLE, **_template_context(pack),
    )


def write_pdf(html: str, path: Path) -> None:
    pdf.write_pdf(html, path)
