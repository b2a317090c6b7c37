"""Indicator values published by others (Fingertips, QOF, Cancer Waiting Times), as loaded
by the named sources into ``external_indicator_values``: what is there, and the values of
one indicator to read beside Carepath's own."""

from __future__ import annotations

import pandas as pd

from carepath.errors import ValidationError
from carepath.workspace import Workspace

TABLE = "external_indicator_values"
VALUE_COLUMNS = ["source", "indicator_id", "area_code", "area_name", "area_type", "period",
                 "sex", "age", "breakdown", "category", "numerator", "denominator", "value",
                 "lower95", "upper95", "unit", "value_state", "value_note", "compared_to"]


def catalogue(ws: Workspace) -> pd.DataFrame:
    """One row per published indicator: source, id, name, periods, areas and values held
    (published, suppressed, missing counted apart)."""
    with ws.connect(read_only=True) as con:
        return con.execute(f"""
            SELECT source, indicator_id, any_value(indicator_name) AS indicator_name,
                   min(period) AS first_period, max(period) AS last_period,
                   count(DISTINCT area_code) AS areas,
                   count(*) FILTER (WHERE value_state = 'published') AS published,
                   count(*) FILTER (WHERE value_state = 'suppressed') AS suppressed,
                   count(*) FILTER (WHERE value_state = 'missing') AS missing
            FROM {TABLE} GROUP BY source, indicator_id ORDER BY source, indicator_id""").df()


def values(ws: Workspace, indicator_id: str, *, area: str | None = None,
           period: str | None = None) -> pd.DataFrame:
    """The loaded values of one published indicator, optionally for one area or period."""
    where, params = ["indicator_id = ?"], [indicator_id]
    for column, wanted in (("area_code", area), ("period", period)):
        if wanted is not None:
            where.append(f"{column} = ?")
            params.append(wanted)
    with ws.connect(read_only=True) as con:
        if not con.execute(f"SELECT count(*) FROM {TABLE} WHERE indicator_id = ?",
                           [indicator_id]).fetchone()[0]:
            raise ValidationError(f"no published indicator {indicator_id!r} loaded; see "
                                  "`carepath external list`", where="INDICATOR")
        frame = con.execute(
            f"SELECT {', '.join(VALUE_COLUMNS)} FROM {TABLE} WHERE {' AND '.join(where)} "
            "ORDER BY period, area_type, area_code, sex, age, breakdown, category",
            params).df()
    if frame.empty:  # an area or period the indicator does not have: said, not a blank table
        asked = ", ".join(f"{k} {v!r}" for k, v in (("area", area), ("period", period)) if v)
        raise ValidationError(f"{indicator_id} has no published values for {asked}"
                              f"{_what_there_is(ws, indicator_id, area, period)}",
                              where="--area" if area else "--period")
    return frame


# Choices listed in a message at most (an indicator of 7,000 practices has as many areas).
LISTED_CHOICES = 12


def _what_there_is(ws, indicator_id: str, area: str | None, period: str | None) -> str:
    """The periods (or areas) the indicator has, as the API's 404 lists them (the CLI
    named none: a walkthrough)."""
    column = "period" if period is not None else "area_code"
    with ws.connect(read_only=True) as con:
        found = [v for (v,) in con.execute(
            f"SELECT DISTINCT {column} FROM {TABLE} WHERE indicator_id = ? ORDER BY 1",
            [indicator_id]).fetchall()]
    shown = ", ".join(map(str, found[:LISTED_CHOICES]))
    more = f" and {len(found) - LISTED_CHOICES} more" if len(found) > LISTED_CHOICES else ""
    return f"; its {'periods' if column == 'period' else 'areas'}: {shown}{more}"
