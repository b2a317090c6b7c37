"""The calibration table: each published target, its source, the value a workspace
actually holds, and the tolerance within which synthetic data must fall.

`carepath info` prints it for any workspace (for real data it shows how local figures
compare with national ones); ``tests/synth`` fails when generated data drifts outside a
tolerance. Rates use the whole period the workspace covers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import duckdb
from rich.console import Console
from rich.table import Table as RichTable

from carepath.synth import anchors as a
from carepath.synth.planted import MANIFEST_NAME
from carepath.workspace.workspace import Workspace

# Person-years of registered population in the workspace's period.
_PY = "(SELECT sum(population) / 4.0 FROM registered_population)"
_YEARS = ("(SELECT count(DISTINCT quarter_start) / 4.0 FROM registered_population)")
_LAST_Q = "(SELECT max(quarter_start) FROM registered_population)"
_IN_WINDOW = ("BETWEEN (SELECT min(quarter_start) FROM registered_population) AND "
              f"({_LAST_Q} + INTERVAL 3 MONTH - INTERVAL 1 DAY)")


@dataclass(frozen=True)
class Target:
    key: str
    label: str
    target: float
    tolerance: float
    unit: str
    source: str
    sql: str


@dataclass(frozen=True)
class Result:
    target: Target
    value: float | None

    @property
    def ok(self) -> bool | None:
        if self.value is None:
            return None
        return abs(self.value - self.target.target) <= self.target.tolerance


def _share(table: str, where: str, among: str = "TRUE", date: str | None = None) -> str:
    window = f" AND {date} {_IN_WINDOW}" if date else ""
    return (f"SELECT 100.0 * count(*) FILTER (WHERE {where}) / nullif(count(*), 0) "
            f"FROM {table} WHERE ({among}){window}")


def _coverage(programme: str) -> str:
    return (f"SELECT 100.0 * sum(screened) / nullif(sum(eligible), 0) FROM screening "
            f"WHERE programme = '{programme}' AND NOT coalesce(suppressed, FALSE)")


_TWW = "r.referral_type = 'usc' AND t.route = 'two_week_wait'"
TARGETS: tuple[Target, ...] = (
    Target("age_65_plus", "registered population aged 65+", 100 * a.SHARE_65_PLUS_ENGLAND, 3.0,
           "%", a.SRC_GP_REG,
           "SELECT 100.0 * sum(population) FILTER (WHERE age_band IN ('65-69', '70-74', '75-79', "
           "'80-84', '85-89', '90+')) / sum(population) FROM registered_population "
           f"WHERE quarter_start = {_LAST_Q}"),
    Target("list_size_median", "median practice list size", a.LIST_SIZE_MEDIAN, 2500, "people",
           a.SRC_QOF,
           "SELECT median(n) FROM (SELECT practice_code, sum(population) n FROM "
           f"registered_population WHERE quarter_start = {_LAST_Q} GROUP BY 1)"),
    Target("usc_rate", "USC referrals per 100,000 a year", 5500, 500, "per 100k",
           "NHS England CWT 2023-24 (expected 5,000-6,000)",
           f"SELECT 1e5 * count(*) / {_PY} FROM referrals WHERE referral_type = 'usc' "
           f"AND referral_date {_IN_WINDOW}"),
    Target("usc_conversion", "USC referrals diagnosed with cancer", 100 * a.USC_CONVERSION,
           0.8, "%", "NCIN conversion rate (expected 6-7%)",
           _share("referrals", "outcome = 'cancer'", "referral_type = 'usc' AND outcome <> "
                  "'pending'", "referral_date")),
    Target("incidence", "new cancers per 100,000 a year", a.CANCER_INCIDENCE_PER_100K, 60,
           "per 100k", "NDRS cancer registrations 2022 (excl. NMSC)",
           f"SELECT 1e5 * count(*) / {_PY} FROM tumours WHERE diagnosis_date {_IN_WINDOW} "
           "AND NOT starts_with(icd10, 'C44')"),
    Target("emergency_presentation", "cancers diagnosed by emergency presentation",
           100 * a.EMERGENCY_PRESENTATION_TARGET, 1.5, "%", "NDRS Routes to Diagnosis",
           _share("tumours", "route = 'emergency'", "route <> 'dco'", "diagnosis_date")),
    Target("early_stage", "stage 1-2 where staged", 100 * a.EARLY_STAGE_TARGET, 4.0, "%",
           "gov.uk case-mix adjusted stage at diagnosis, 2018",
           _share("tumours", "stage IN ('1', '2')", "stage <> 'U'", "diagnosis_date")),
    Target("fds_28", "told diagnosis within 28 days (USC)", 100 * a.FDS_28_DAY, 3.0, "%",
           a.SRC_CWT, _share("referrals", "faster_diagnosis_date - referral_date <= 28",
                             "referral_type = 'usc' AND faster_diagnosis_date IS NOT NULL")),
    Target("first_seen_14", "USC first seen within 14 days", 100 * a.USC_FIRST_SEEN_14_DAY, 4.0,
           "%", a.SRC_CWT, _share("referrals", "first_seen_date - referral_date <= 14",
                                  "referral_type = 'usc' AND first_seen_date IS NOT NULL")),
    Target("cwt_62", "USC referral to first treatment within 62 days", 100 * a.CWT_62_DAY_USC,
           4.0, "%", a.SRC_CWT,
           "SELECT 100.0 * count(*) FILTER (WHERE x.start_date - r.referral_date <= 62) / "
           "nullif(count(*), 0) FROM referrals r JOIN tumours t USING (tumour_id) JOIN "
           f"treatments x USING (tumour_id) WHERE x.first_treatment AND {_TWW}"),
    Target("cwt_31", "decision to treat to first treatment within 31 days",
           100 * a.CWT_31_DAY_FIRST, 2.0, "%", a.SRC_CWT,
           "SELECT 100.0 * count(*) FILTER (WHERE x.start_date - t.decision_to_treat_date <= 31)"
           " / nullif(count(*), 0) FROM tumours t JOIN treatments x USING (tumour_id) "
           "WHERE x.first_treatment AND t.decision_to_treat_date IS NOT NULL"),
    Target("one_year_survival", "alive one year after diagnosis", 100 * a.ONE_YEAR_SURVIVAL,
           4.0, "%", "ONS/NDRS 1-year cancer survival index, England",
           "SELECT 100.0 - 100.0 * count(d.patient_id) / nullif(count(*), 0) FROM tumours t "
           "LEFT JOIN deaths d ON d.patient_id = t.patient_id AND d.date_of_death <= "
           "t.diagnosis_date + 365 WHERE t.route <> 'dco' AND t.diagnosis_date + 365 <= "
           f"({_LAST_Q} + INTERVAL 3 MONTH - INTERVAL 1 DAY)"),
    Target("death_rate", "deaths per 100 registered a year", a.DEATHS_PER_100, 0.08, "%",
           "ONS deaths registered (expected ~0.9%)",
           f"SELECT 100.0 * count(*) / {_PY} FROM deaths WHERE date_of_death {_IN_WINDOW}"),
    Target("cancer_death_share", "deaths with cancer as underlying cause",
           100 * a.CANCER_SHARE_OF_DEATHS, 4.0, "%", "ONS deaths registered by cause",
           _share("deaths", "starts_with(underlying_cause, 'C')")),
    *(Target(f"place_{p}", f"deaths in {p.replace('_', ' ')}", 100 * v,
             3.0 if v > 0.1 else 1.5, "%", "ONS/OHID place of death, England",
             _share("deaths", f"place_of_death = '{p}'"))
      for p, v in a.PLACE_OF_DEATH_TARGET.items() if p != "other"),
    Target("eol_register_all", "deaths on the EoL register beforehand",
           100 * a.EOL_REGISTER_ALL_DEATHS, 4.0, "%", "Harrison et al., BJGP 2012",
           _share("deaths d", "EXISTS (SELECT 1 FROM eol_register e WHERE e.patient_id = "
                  "d.patient_id AND e.entry_date <= d.date_of_death)")),
    Target("eol_register_cancer", "cancer deaths on the EoL register beforehand",
           100 * a.EOL_REGISTER_CANCER_DEATHS, 6.0, "%", "Harrison et al., BJGP 2012",
           _share("deaths d", "EXISTS (SELECT 1 FROM eol_register e WHERE e.patient_id = "
                  "d.patient_id AND e.entry_date <= d.date_of_death)",
                  "starts_with(d.underlying_cause, 'C')")),
    Target("register_prevalence", "on the EoL (palliative care) register at the end",
           100 * a.PALLIATIVE_REGISTER_PREVALENCE, 0.12, "%",
           "NHS England, QOF 2022-23 palliative care register (PC)",
           "SELECT 100.0 * count(DISTINCT e.patient_id) / (SELECT sum(population) FROM "
           f"registered_population WHERE quarter_start = {_LAST_Q}) FROM eol_register e WHERE "
           f"e.entry_date <= ({_LAST_Q} + INTERVAL 3 MONTH - INTERVAL 1 DAY) AND (e.exit_date IS "
           f"NULL OR e.exit_date > ({_LAST_Q} + INTERVAL 3 MONTH - INTERVAL 1 DAY)) AND NOT EXISTS "
           "(SELECT 1 FROM deaths d WHERE d.patient_id = e.patient_id AND d.date_of_death <= "
           f"({_LAST_Q} + INTERVAL 3 MONTH - INTERVAL 1 DAY))"),
    Target("hna_offered", "tumours with an HNA offered (trusts not planted low)",
           100 * a.HNA_OFFERED_TARGET, 5.0, "%", "COSD personalised care (expected 60-70%)",
           "SELECT 100.0 * count(*) FILTER (WHERE EXISTS (SELECT 1 FROM care_events c WHERE "
           "c.tumour_id = t.tumour_id AND c.event_type = 'hna' AND starts_with(c.cosd_status, "
           "'offered'))) / nullif(count(*), 0) FROM tumours t WHERE t.diagnosis_date <= "
           f"{_LAST_Q} AND coalesce(t.diagnosing_trust, '') NOT IN ({{planted_trusts}})"),
    *(Target(f"screening_{p}", f"screening coverage {p.replace('_', ' ')}", 100 * v, 3.0, "%",
             a.SRC_CERV if p.startswith("cervical") else "NHS screening programme statistics",
             _coverage(p)) for p, v in a.SCREENING_COVERAGE.items()),
)


def _planted_trusts(ws: Workspace) -> str:
    path = ws.path / MANIFEST_NAME
    codes = []
    if path.is_file():
        manifest = json.loads(path.read_text())
        codes = [e["org_code"] for e in manifest.get("planted", []) if e["kind"] == "low_hna_trust"]
    return ", ".join(f"'{c.replace(chr(39), '')}'" for c in codes) or "''"


def check_calibration(ws: Workspace) -> list[Result]:
    """The generated value of every target (None where the workspace lacks the data)."""
    planted = _planted_trusts(ws)
    results = []
    with ws.connect(read_only=True) as con:
        for t in TARGETS:
            results.append(Result(t, _value(con, t.sql.replace("{planted_trusts}", planted))))
    return results


def _value(con: duckdb.DuckDBPyConnection, sql: str) -> float | None:
    try:
        row = con.execute(sql).fetchone()
    except duckdb.Error:
        return None
    return None if row is None or row[0] is None else float(row[0])


def render_calibration(ws: Workspace, console: Console) -> None:
    results = check_calibration(ws)
    if all(r.value is None for r in results):
        return
    table = RichTable("measure", "target", "here", "", "source",
                      title="Calibration against published figures")
    for r in results:
        t = r.target
        fmt = "{:,.0f}" if abs(t.target) >= 100 else "{:.2f}" if t.unit == "%" and (
            t.target < 5) else "{:.1f}"
        value = "—" if r.value is None else fmt.format(r.value)
        mark = {True: "[green]ok[/]", False: "[red]outside[/]", None: ""}[r.ok]
        table.add_row(t.label, f"{fmt.format(t.target)} ± {fmt.format(t.tolerance)} {t.unit}",
                      value, mark, t.source)
    console.print(table)
