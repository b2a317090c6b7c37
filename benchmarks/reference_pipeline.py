"""The reference pipeline: the same indicators computed the way an analyst would today —
pandas group-bys over extracts, then PHStatsMethods for the statistics.

Used by bench_indicators to measure Carepath's speed-up and to check both give the same
values. Written plainly on purpose; it is the peer, not product code.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

# The 21 sites NDRS stages (D9), as three-character ICD-10 codes.
STAGEABLE = {f"C{n:02d}" for n in [*range(1, 7), 9, 10, 15, 16, 18, 19, 20, 25, 32, 33, 34, 43,
                                   50, 53, 54, 55, 56, 61, 62, 64, 65, 66, 67, 68, 73,
                                   *range(81, 87)]}
LEVELS = ["pcn", "locality", "sub_icb", "icb", "cancer_alliance", "region"]


def _fy(dates: pd.Series) -> pd.Series:
    d = pd.to_datetime(dates)
    start = np.where(d.dt.month >= 4, d.dt.year, d.dt.year - 1)
    return pd.Series([f"{y}/{str(y + 1)[-2:]}" for y in start], index=dates.index)


def _fy_end(label: str) -> pd.Timestamp:
    return pd.Timestamp(int(label[:4]) + 1, 3, 31)


def _levels(practice: pd.DataFrame, hier: pd.DataFrame) -> pd.DataFrame:
    """Practice rows plus one row per parent area valid at each period's end, and national."""
    out = [practice.assign(area_type="practice", area_code=practice.practice_code)]
    links = practice.merge(hier, left_on="practice_code", right_on="child_code")
    end = links.period.map(_fy_end)
    valid = (pd.to_datetime(links.valid_from) <= end) & (
        links.valid_to.isna() | (pd.to_datetime(links.valid_to) >= end))
    links = links[valid & links.parent_type.isin(LEVELS)]
    out.append(links.assign(area_type=links.parent_type, area_code=links.parent_code))
    out.append(practice.assign(area_type="national", area_code="national"))
    frame = pd.concat(out)
    return frame.groupby(["area_type", "area_code", "period"], as_index=False)[
        ["num", "den"]].sum()


def _proportion(phs, table, num_mask, den_mask, hier, periods):
    table = table[table.period.isin(periods)]
    num = table[num_mask(table)].groupby(["period", "practice_code"]).size().rename("num")
    den = table[den_mask(table)].groupby(["period", "practice_code"]).size().rename("den")
    practice = pd.concat([num, den], axis=1).fillna(0).reset_index()
    areas = _levels(practice, hier)
    areas = areas[areas.den > 0]
    return phs.ph_proportion(areas, "num", "den", group_cols=["area_type", "area_code",
                                                               "period"], multiplier=100)


def run(db_path: str, periods: dict[str, list[str]]) -> dict[str, pd.DataFrame]:
    """``periods``: each indicator's complete periods (a year whose outcomes are still to
    come, as the conversion rate's latest, is left out, as an analyst would)."""
    import PHStatsMethods as phs

    con = duckdb.connect(db_path, read_only=True)
    tumours = con.execute("SELECT * FROM tumours").df()
    referrals = con.execute("SELECT * FROM referrals").df()
    deaths = con.execute("SELECT * FROM deaths").df()
    pop = con.execute("SELECT * FROM registered_population").df()
    hier = con.execute("SELECT * FROM org_hierarchy").df()
    con.close()
    tumours["period"] = _fy(tumours.diagnosis_date)
    referrals["period"] = _fy(referrals.first_seen_date.fillna(pd.Timestamp("1900-01-01")))
    deaths["period"] = _fy(deaths.date_of_death)
    not_nmsc = ~tumours.icd10.str.startswith("C44")
    staged = tumours.icd10.str[:3].isin(STAGEABLE)
    out = {
        "early_stage_known": _proportion(
            phs, tumours, lambda t: staged.loc[t.index] & t.stage.isin(["1", "2"]),
            lambda t: staged.loc[t.index] & t.stage.isin(["1", "2", "3", "4"]), hier,
            periods["early_stage_known"]),
        "emergency_presentation_pct": _proportion(
            phs, tumours, lambda t: not_nmsc.loc[t.index] & (t.route == "emergency"),
            lambda t: not_nmsc.loc[t.index], hier, periods["emergency_presentation_pct"]),
        "usc_conversion_rate": _proportion(
            phs, referrals, lambda r: (r.referral_type == "usc") & (r.outcome == "cancer"),
            lambda r: r.referral_type == "usc", hier, periods["usc_conversion_rate"]),
    }
    external = deaths.underlying_cause.fillna("").str[:3].between("V01", "Y89") | \
        deaths.underlying_cause.fillna("").str.startswith("U509")
    out["deaths_usual_residence"] = _proportion(
        phs, deaths, lambda d: ~external.loc[d.index] & d.place_of_death.isin(
            ["home", "care_home"]), lambda d: ~external.loc[d.index], hier,
        periods["deaths_usual_residence"])
    # Crude USC referral rate: count / mean quarterly list over a year, per 100,000.
    pop["period"] = _fy(pop.quarter_start)
    pop = pop[pop.period.isin(periods["usc_referral_rate"])]
    per_q = pop.groupby(["period", "practice_code", "quarter_start"]).population.sum()
    mean_list = per_q.groupby(["period", "practice_code"]).mean().rename("den")
    usc = referrals[(referrals.referral_type == "usc") &
                    referrals.period.isin(periods["usc_referral_rate"])]
    num = usc.groupby(["period", "practice_code"]).size().rename("num")
    practice = pd.concat([num, mean_list], axis=1).fillna({"num": 0}).reset_index()
    practice = practice[practice.den.notna()]
    areas = _levels(practice, hier)
    out["usc_referral_rate"] = phs.ph_rate(areas, "num", "den", group_cols=[
        "area_type", "area_code", "period"], multiplier=100_000)
    return out
