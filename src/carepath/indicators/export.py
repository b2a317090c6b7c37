"""Export indicator values in the long format of a Fingertips data export.

``public=True`` passes every row through the one disclosure policy
(`carepath.disclosure`) and drops provenance columns that only analysts need.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from carepath.disclosure import apply_disclosure
from carepath.errors import ValidationError
from carepath.safe_export import check_output_path, neutralise_frame
from carepath.workspace import Workspace

FORMATS = ("csv", "parquet", "xlsx")
# Fingertips export column names for our columns (users' tools read these).
FINGERTIPS_NAMES = {
    "indicator_id": "Indicator ID", "area_code": "Area Code", "area_name": "Area Name",
    "area_type": "Area Type", "parent_code": "Parent Code", "period": "Time period",
    "breakdown": "Category Type", "category": "Category", "value": "Value",
    "lower95": "Lower CI 95.0 limit", "upper95": "Upper CI 95.0 limit",
    "lower998": "Lower CI 99.8 limit", "upper998": "Upper CI 99.8 limit",
    "numerator": "Count", "denominator": "Denominator", "value_note": "Value note",
    "trend": "Recent Trend", "compared_to_national": "Compared to England value or percentiles",
    "compared_to_parent": "Compared to parent value",
}
ANALYST_ONLY = ("definition_hash", "load_ids", "computed_at")


def read_values(ws: Workspace, indicators: list[str] | None = None) -> pd.DataFrame:
    query = "SELECT * FROM indicator_values"
    params: list = []
    if indicators:
        query += f" WHERE indicator_id IN ({', '.join('?' * len(indicators))})"
        params = list(indicators)
    with ws.connect(read_only=True) as con:
        return con.execute(query + " ORDER BY indicator_id, area_type, area_code, period, "
                           "breakdown, category", params).df()


def prepare(values: pd.DataFrame, *, public: bool, suppress_below: int, round_to: int
            ) -> pd.DataFrame:
    if public:
        values = apply_disclosure(values, suppress_below=suppress_below, round_to=round_to)
        values = values.drop(columns=[c for c in ANALYST_ONLY if c in values.columns])
    ordered = [c for c in FINGERTIPS_NAMES if c in values.columns]
    rest = [c for c in values.columns if c not in FINGERTIPS_NAMES]
    return values[ordered + rest].rename(columns=FINGERTIPS_NAMES)


def export(ws: Workspace, out: Path, *, fmt: str, public: bool = False,
           indicators: list[str] | None = None) -> int:
    if fmt not in FORMATS:
        raise ValidationError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}",
                              where="--format")
    out = Path(out)
    check_output_path(out, (f".{fmt}",))
    cfg = ws.config().get("disclosure", {})
    values = read_values(ws, indicators)
    if values.empty:
        raise ValidationError("no indicator values to export; run `carepath compute` first",
                              where=str(ws.path))
    missing = sorted(set(indicators or ()) - set(values["indicator_id"]))
    if missing:
        raise ValidationError(f"no values for {', '.join(missing)} (not an indicator id, or "
                              "not computed yet: see `carepath indicators list`)",
                              where="--indicator")
    table = prepare(values, public=public, suppress_below=cfg.get("suppress_below", 8),
                    round_to=cfg.get("round_to", 5))
    tmp = out.with_name(f".{out.name}.partial")
    if fmt == "parquet":  # typed columns, read by tools rather than spreadsheets
        table.to_parquet(tmp, index=False)
    elif fmt == "csv":
        neutralise_frame(table).to_csv(tmp, index=False)
    else:
        neutralise_frame(table).to_excel(tmp, index=False, engine="openpyxl")
    tmp.replace(out)  # a failed export leaves no half-written file
    return len(table)
