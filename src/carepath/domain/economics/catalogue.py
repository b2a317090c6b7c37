"""The service catalogue over the ``services`` and ``service_payers`` tables: what each cancer
support service costs, its activity, who pays (shares summing to 100%) and the indicators it
is meant to move. Loaded from CSV or Excel; written in one transaction with an audit event."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import duckdb
import pandas as pd
from pydantic import Field, field_validator

from carepath.domain.economics import constants as K
from carepath.domain.economics.definitions import Ident, _Model, check_shares_sum, parse_shares
from carepath.domain.economics.loading import (
    FILE_KEY,
    FIRST_DATA_ROW,
    ROW_KEY,
    read_csv_rows,
    validate,
)
from carepath.errors import ValidationError, did_you_mean
from carepath.workspace import Workspace

NonNegative = Annotated[float, Field(ge=0)]


class CatalogueRow(_Model):
    service_id: Ident
    name: str = Field(min_length=1)
    provider_code: str | None = None
    year: int = Field(ge=2000, le=2100)
    unit_cost: NonNegative | None = None  # None = missing, kept distinct from 0
    activity: NonNegative | None = None
    indicator_ids: str | None = None
    payers: dict[str, float]

    @field_validator("payers", mode="before")
    @classmethod
    def _payers(cls, value: Any) -> dict[str, float]:
        return check_shares_sum(parse_shares(value))

    @property
    def annual_cost(self) -> float | None:
        if self.unit_cost is None or self.activity is None:
            return None
        return self.unit_cost * self.activity


class Catalogue(_Model):
    services: list[CatalogueRow]


def _excel_rows(path: Path) -> list[dict]:
    try:
        frame = pd.read_excel(path, sheet_name=0, dtype=str)
    except (ValueError, OSError) as exc:
        raise ValidationError(f"cannot read the workbook: {exc}", where=str(path)) from None
    rows = []
    for i, rec in enumerate(frame.to_dict("records")):
        clean = {str(k).strip(): (None if pd.isna(v) or not str(v).strip() else str(v).strip())
                 for k, v in rec.items()}
        rows.append({**clean, ROW_KEY: i + FIRST_DATA_ROW, FILE_KEY: str(path)})
    return rows


def load_catalogue(path: Path) -> list[CatalogueRow]:
    """Read services from CSV or .xlsx (first sheet). Columns: service_id, name,
    provider_code, year, unit_cost, activity, indicator_ids, payers ('ICB:70%;HOSP:30%')."""
    path = Path(path)
    rows = _excel_rows(path) if path.suffix.lower() in (".xlsx", ".xlsm") else read_csv_rows(path)
    if not rows:
        raise ValidationError("no services in the file", where=str(path))
    catalogue = validate(Catalogue, {"services": rows}, source=path)
    keys = [(r.service_id, r.year) for r in catalogue.services]
    for i, key in enumerate(keys):
        if keys.index(key) != i:
            raise ValidationError(f"service {key[0]} appears twice for year {key[1]}",
                                  where=f"{path}, row {i + FIRST_DATA_ROW}")
    return catalogue.services


def check_indicators(rows: list[CatalogueRow], known: set[str], path: Path) -> None:
    """Every indicator a service names is one the workspace knows: a misspelt id loaded
    without a word and left a broken link on the services page (a walkthrough)."""
    for i, row in enumerate(rows):
        for ind in filter(None, (s.strip() for s in (row.indicator_ids or "").split(";"))):
            if ind not in known:
                raise ValidationError(
                    f"indicator_ids: unknown indicator {ind!r}{did_you_mean(ind, known)}; "
                    "`carepath indicators list -w WS` shows those known",
                    where=f"{path}, row {i + FIRST_DATA_ROW}")


def save_catalogue(ws: Workspace, rows: list[CatalogueRow], *, by: str, source: str) -> int:
    """Replace these services (all their years and payers) in one transaction; audited."""
    ids = sorted({r.service_id for r in rows})
    marks = ", ".join("?" * len(ids))
    with ws.transaction() as con:
        con.execute(f"DELETE FROM services WHERE service_id IN ({marks})", ids)
        con.execute(f"DELETE FROM service_payers WHERE service_id IN ({marks})", ids)
        con.executemany(
            "INSERT INTO services (service_id, name, provider_code, year, unit_cost, activity, "
            "indicator_ids) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [[r.service_id, r.name, r.provider_code, r.year, r.unit_cost, r.activity,
              r.indicator_ids] for r in rows])
        # Each year's own payers: one set for all years added one year's shares to
        # another's (ICB 70% + hospice 30% in 2024, ICB 100% in 2025 read as 130%).
        con.executemany("INSERT INTO service_payers (service_id, year, payer_code, share) "
                        "VALUES (?, ?, ?, ?)",
                        [[r.service_id, r.year, p, share] for r in rows
                         for p, share in r.payers.items()])
        ws.audit(con, actor=by, action="economics.services.load", target=source,
                 detail=json.dumps({"services": len(ids), "rows": len(rows)}))
    return len(rows)


# An organisation's latest name; payers and providers not in ``organisations`` (a catalogue
# may name a council or a charity the workspace has no row for) keep their code.
_NAMES = """(SELECT org_code, arg_max(name, valid_from) AS org_name FROM organisations
             GROUP BY org_code)"""


def read_catalogue(con: duckdb.DuckDBPyConnection, year: int | None = None) -> pd.DataFrame:
    """Services with their annual cost and payers: ``payers`` as codes ('CODE:share;...'),
    ``payer_names`` for people ('Name 85.0%; ...'), and the provider's name."""
    where = "WHERE s.year = ?" if year is not None else ""
    return con.execute(f"""
        SELECT s.service_id, s.name, s.provider_code,
               coalesce(any_value(pn.org_name), s.provider_code) AS provider_name,
               s.year, s.unit_cost, s.activity,
               s.unit_cost * s.activity AS annual_cost, s.indicator_ids,
               string_agg(p.payer_code || ':' || round(p.share * 100, 1) || '%', ';'
                          ORDER BY p.payer_code) AS payers,
               string_agg(coalesce(n.org_name, p.payer_code) || ' '
                          || round(p.share * 100, 1) || '%', '; '
                          ORDER BY p.share DESC, p.payer_code) AS payer_names
        FROM services s LEFT JOIN service_payers p USING (service_id, year)
        LEFT JOIN {_NAMES} n ON n.org_code = p.payer_code
        LEFT JOIN {_NAMES} pn ON pn.org_code = s.provider_code
        {where}
        GROUP BY s.service_id, s.name, s.provider_code, s.year, s.unit_cost, s.activity,
                 s.indicator_ids
        ORDER BY s.year, s.service_id""", [year] if year is not None else []).df()


def programme_budget(con: duckdb.DuckDBPyConnection, year: int) -> pd.DataFrame:
    """Current spend by paying organisation for a year: the programme budget. Services whose
    cost or activity is missing are counted separately, never as zero."""
    return con.execute(f"""
        SELECT p.payer_code, coalesce(any_value(n.org_name), p.payer_code) AS payer_name,
               sum(s.unit_cost * s.activity * p.share) AS spend,
               count(*) FILTER (WHERE s.unit_cost IS NULL OR s.activity IS NULL)
                   AS services_missing_cost,
               count(*) AS services
        FROM services s JOIN service_payers p USING (service_id, year)
        LEFT JOIN {_NAMES} n ON n.org_code = p.payer_code
        WHERE s.year = ? GROUP BY p.payer_code ORDER BY spend DESC NULLS LAST""",
                       [year]).df()


def catalogue_years(con: duckdb.DuckDBPyConnection) -> list[int]:
    """The financial years the catalogue has, latest first."""
    return [r[0] for r in con.execute(
        "SELECT DISTINCT year FROM services ORDER BY year DESC").fetchall()]


def unknown_organisations(con: duckdb.DuckDBPyConnection, rows: list[CatalogueRow]
                          ) -> list[str]:
    """Payer and provider codes the workspace has no organisation for: loaded, but shown by
    code (a misspelt code would otherwise read as another payer in the programme budget)."""
    codes = sorted({*(p for r in rows for p in r.payers),
                    *(r.provider_code for r in rows if r.provider_code)})
    known = {r[0] for r in con.execute(
        "SELECT DISTINCT org_code FROM organisations WHERE org_code IN (SELECT unnest(?))",
        [codes]).fetchall()}
    return [c for c in codes if c not in known]


# ----- the catalogue as input to models ----------------------------------------------------------
def _catalogue_service(con: duckdb.DuckDBPyConnection, service_id: str, year: int
                       ) -> dict | None:
    row = con.execute("SELECT name, provider_code, unit_cost, activity FROM services "
                      "WHERE service_id = ? AND year = ?", [service_id, year]).fetchone()
    if row is None:
        return None
    payers = con.execute("SELECT payer_code, share FROM service_payers WHERE service_id = ? "
                         "AND year = ?", [service_id, year]).fetchall()
    return {"name": row[0], "provider": row[1], "unit_cost": row[2], "activity": row[3],
            "payers": dict(payers)}


def fill_from_catalogue(data: dict, con: duckdb.DuckDBPyConnection, *, where: str) -> dict:
    """Services marked ``from_catalogue`` get name, provider, unit cost, activity and payers
    from the catalogue for the model's base year; fields the model gives itself win."""
    year = data.get("base_year")
    services = []
    for i, item in enumerate(data.get("services") or []):
        if isinstance(item, dict) and item.get("from_catalogue"):
            label = f"services[{i}] (id {item.get('id')})"
            found = _catalogue_service(con, str(item.get("id")), year)
            if found is None:
                raise ValidationError(f"{label}: not in the workspace's service catalogue "
                                      f"for {year}", where=where)
            missing = [k for k in ("unit_cost", "activity")
                       if found[k] is None and item.get(k) is None]
            if missing:
                raise ValidationError(f"{label}: {' and '.join(missing)} missing in the "
                                      f"catalogue for {year} (missing is not zero)", where=where)
            _check_stored_shares(found["payers"], item, label, where)
            if "unit_cost" not in item:
                found["unit_cost"] = _in_model_prices(found["unit_cost"], year, data, label,
                                                      where)
            item = {**{k: v for k, v in found.items() if v is not None}, **item}
        services.append(item)
    return {**data, "services": services,
            "organisations": _payers_named(data.get("organisations"), services, con)}


def _in_model_prices(cost: float, year: int, data: dict, label: str, where: str) -> float:
    """A catalogue cost is in its own year's prices; a model priced in another year
    takes it through the model's deflators, as its unit values (2024 costs were used as
    2025 prices beside deflated unit values, 2.2% low: an independent check)."""
    price_year = data.get("price_year")
    if price_year is None or price_year == year:
        return cost
    deflators = {int(k): v for k, v in (data.get("deflators") or {}).items()}
    missing = [y for y in (year, price_year) if y not in deflators]
    if missing:
        raise ValidationError(f"{label}: the catalogue's cost is in {year} prices and the "
                              f"model's price year is {price_year}: give deflators for "
                              f"{' and '.join(map(str, missing))}, or unit_cost in the model",
                              where=where)
    return cost * deflators[price_year] / deflators[year]


def _payers_named(organisations: Any, services: list, con: duckdb.DuckDBPyConnection) -> Any:
    """The model's organisations, with each catalogue payer it does not name given its name
    in the workspace: the catalogue pays by ODS code (QWX), which a model written by hand
    would otherwise have to copy. The model's own names win."""
    if not isinstance(organisations, dict):
        return organisations  # the model's validation says what is wrong
    codes = sorted({str(p) for s in services if isinstance(s, dict)
                    and isinstance(s.get("payers"), dict) for p in s["payers"]}
                   - set(organisations))
    found = dict(con.execute(f"SELECT org_code, org_name FROM {_NAMES} "
                             "WHERE org_code IN (SELECT unnest(?))", [codes]).fetchall())
    return {**found, **organisations}


def _check_stored_shares(payers: dict[str, float], item: dict, label: str, where: str
                         ) -> None:
    """Payers stored before years were checked may add up to more than the cost."""
    total = sum(payers.values())
    if item.get("payers") is None and abs(total - 1) > K.SHARE_SUM_TOLERANCE:
        raise ValidationError(f"{label}: the catalogue's payer shares sum to {total:.1%}, "
                              "not 100% (payers differing by year were stored together): "
                              "reload the catalogue, or give payers in the model", where=where)


def budget_from_catalogue(con: duckdb.DuckDBPyConnection, year: int, *, where: str
                          ) -> list[dict]:
    """PBMA programme budget lines: each catalogue service's annual cost for the year."""
    frame = read_catalogue(con, year)
    if frame.empty:
        raise ValidationError(f"the workspace's service catalogue has no services for {year}",
                              where=where)
    unknown = frame.loc[frame["annual_cost"].isna(), "service_id"].tolist()
    if unknown:
        raise ValidationError(f"annual cost missing (not zero) for {', '.join(unknown)} in "
                              f"{year}", where=where)
    return [{"name": r.name, "spend": float(r.annual_cost), "service": r.service_id}
            for r in frame.itertuples()]
