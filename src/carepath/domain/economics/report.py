"""Tables and files for economic results: pandas frames for the CLI and pages, and CSV,
Excel (for finance teams) and self-contained HTML reports."""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from carepath.domain.economics.cba import CBAResult
from carepath.domain.economics.definitions import CBAModel
from carepath.domain.economics.pbma import Exercise, OptionScore, Selection
from carepath.domain.economics.sensitivity import MonteCarloResult, TornadoBar
from carepath.safe_export import neutralise_frame, write_excel_sheet


@dataclass(frozen=True)
class CBAReport:
    model: CBAModel
    result: CBAResult
    base_npv: float
    tornado: list[TornadoBar]
    monte_carlo: MonteCarloResult | None
    # NPV with every uncertain parameter at its distribution's mean, beside the base case
    # (whose parameters sit at their base values: often a skewed distribution's mode).
    npv_at_means: float | None = None
    warnings: tuple[str, ...] = ()


def organisations_frame(result: CBAResult) -> pd.DataFrame:
    return pd.DataFrame([o.as_row() for o in (*result.organisations, result.total)])


def cost_shift_frame(result: CBAResult) -> pd.DataFrame:
    """Rows: who pays; columns: who benefits (PV of benefits bought); plus each payer's PV
    cost, so a row shows what an organisation spends and where the benefit lands."""
    frame = pd.DataFrame(result.cost_shift).T
    paid = {o.org: o.pv_costs for o in result.organisations}
    frame.insert(0, "pv_costs_paid", [paid[p] for p in frame.index])
    frame = frame[frame["pv_costs_paid"] > 0]
    frame.index.name = "payer"
    return frame


def tornado_frame(bars: list[TornadoBar], base_npv: float) -> pd.DataFrame:
    return pd.DataFrame([{"parameter": b.parameter, "low_value": b.low_value,
                          "high_value": b.high_value, "npv_at_low": b.npv_at_low,
                          "npv_at_high": b.npv_at_high, "swing": b.swing,
                          "switching_value": b.switching_value,
                          "base_npv": base_npv} for b in bars])


def monte_carlo_frame(mc: MonteCarloResult) -> pd.DataFrame:
    rows = [{"measure": "npv", "org": "total", **mc.npv_total.__dict__}]
    if mc.bcr_total is not None:
        row = {"measure": "bcr", "org": "total", **mc.bcr_total.__dict__}
        rows.append(row | {"p_positive": None, "p_bcr_above_1": mc.bcr_total.p_positive})
    rows += [{"measure": "npv", "org": o, **i.__dict__} for o, i in mc.npv_by_org.items()]
    frame = pd.DataFrame(rows)
    frame.insert(0, "draws", mc.draws)
    frame.insert(1, "seed", mc.seed)
    return frame


def summary_frame(rep: CBAReport) -> pd.DataFrame:
    """The headline figures and what to read them with: the base case beside the NPV at the
    distributions' means and the Monte Carlo mean (the web page and report showed these;
    the finance download did not), then every warning."""
    mc = rep.monte_carlo
    rows = [("NPV, base case (every parameter at its base value)", rep.base_npv),
            ("NPV, uncertain parameters at their distributions' means", rep.npv_at_means),
            ("NPV, Monte Carlo mean", None if mc is None else float(np.mean(mc.npv_samples)))]
    rows += [("warning", w) for w in rep.warnings]
    return pd.DataFrame(rows, columns=["measure", "value"])


def cba_frames(rep: CBAReport) -> dict[str, pd.DataFrame]:
    frames = {
        "summary": summary_frame(rep),
        "organisations": organisations_frame(rep.result),
        "cost_shift": cost_shift_frame(rep.result).reset_index(),
        "yearly": pd.DataFrame(rep.result.yearly),
        "benefits": pd.DataFrame(rep.result.benefit_lines),
        "unit_values": pd.DataFrame([u.model_dump() for u in rep.model.unit_values]),
        "tornado": tornado_frame(rep.tornado, rep.base_npv),
    }
    if rep.monte_carlo is not None:
        frames["monte_carlo"] = monte_carlo_frame(rep.monte_carlo)
    frames.update(input_frames(rep.model))
    return frames


def input_frames(model: CBAModel) -> dict[str, pd.DataFrame]:
    """The model's assumptions as tables, so a finance team can check every input."""
    services = pd.DataFrame([
        s.model_dump(exclude={"payers", "profile"})
        | {"payers": ";".join(f"{p}:{v:.1%}" for p, v in s.payers.items()),
           "profile": ";".join(str(x) for x in s.profile) if s.profile else None}
        for s in model.services])
    uncertainty = pd.DataFrame([
        {"parameter": u.parameter, **u.distribution.model_dump(exclude_none=True)}
        for u in model.uncertainty])
    return {"inputs_services": services,
            "inputs_benefits": pd.DataFrame([b.model_dump() for b in model.benefits]),
            "inputs_uncertainty": uncertainty}


def options_frame(scores: list[OptionScore], sel: Selection) -> pd.DataFrame:
    status = ({s.option.id: "invest" for s in sel.invest}
              | {s.option.id: "disinvest" for s in sel.disinvest}
              | {s.option.id: "not funded" for s in sel.not_funded}
              | {s.option.id: "not released" for s in sel.not_released}
              | {s.option.id: "unscored" for s in sel.unscored}
              | {s.option.id: "no benefit" for s in sel.no_benefit})
    rows = []
    for s in scores:
        spread = s.member_spread
        rows.append({
            "option": s.option.id, "name": s.option.name, "list": s.option.list,
            "cost": s.option.cost, "weighted_score": s.weighted,
            "panel_sd": spread.sd if spread else None,
            "panel_min": spread.low if spread else None,
            "panel_max": spread.high if spread else None,
            "cost_value_ratio": None if s.cvr is None or math.isinf(s.cvr) else s.cvr,
            **{f"group_{g}": v for g, v in s.by_group.items()},
            "selection": status.get(s.option.id, ""), "note": _option_note(s)})
    return pd.DataFrame(rows)


def _option_note(s: OptionScore) -> str:
    if s.cvr == math.inf and s.option.list == "wish":
        return "weighted score 0: no benefit to buy, so no cost per point and not funded"
    if s.cvr == math.inf:
        return "weighted score 0: no benefit lost by releasing it"
    return s.note


def criterion_spread_frame(scores: list[OptionScore]) -> pd.DataFrame:
    rows = []
    for s in scores:
        for crit, sp in s.by_criterion.items():
            rows.append({"option": s.option.id, "criterion": crit,
                         **({"n": sp.n, "mean": sp.mean, "sd": sp.sd, "min": sp.low,
                             "max": sp.high} if sp else {"n": 0})})
    return pd.DataFrame(rows)


def pbma_frames(ex: Exercise, scores: list[OptionScore], sel: Selection
                ) -> dict[str, pd.DataFrame]:
    summary = pd.DataFrame([
        {"measure": "programme budget", "value": sum(b.spend for b in ex.budget)},
        {"measure": "headroom", "value": sel.headroom},
        {"measure": "released by disinvestment", "value": sel.released},
        {"measure": "invested", "value": sel.spent},
        {"measure": "unallocated", "value": sel.remaining},
        {"measure": "weighted benefit gained", "value": sel.benefit_gained},
        {"measure": "weighted benefit lost", "value": sel.benefit_lost}])
    return {
        "summary": summary,
        "options": options_frame(scores, sel),
        "criteria": pd.DataFrame([c.model_dump() | {"normalised_weight": w} for c, w in
                                  zip(ex.criteria, ex.weights().values(), strict=True)]),
        "score_spread": criterion_spread_frame(scores),
        "budget": pd.DataFrame([b.model_dump() for b in ex.budget]),
    }


# ----- writers ---------------------------------------------------------------------------------
def write_csvs(frames: dict[str, pd.DataFrame], out: Path, prefix: str) -> list[Path]:
    out.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, frame in frames.items():
        path = out / f"{prefix}-{name}.csv"
        neutralise_frame(frame).to_csv(path, index=False)
        paths.append(path)
    return paths


EXCEL_SHEET_NAME_MAX = 31
EXCEL_MAX_COLUMN_WIDTH = 60


def _to_excel(xl: pd.ExcelWriter, frames: dict[str, pd.DataFrame]) -> None:
    """One sheet per table, header row frozen, columns wide enough to read."""
    for name, frame in frames.items():
        sheet = name[:EXCEL_SHEET_NAME_MAX]
        ws = write_excel_sheet(xl, frame, sheet)
        ws.freeze_panes = "A2"
        for i, col in enumerate(frame.columns, start=1):
            cells = [str(col)] + [str(v) for v in frame[col].head(200)]
            width = min(max(len(c) for c in cells) + 2, EXCEL_MAX_COLUMN_WIDTH)
            ws.column_dimensions[ws.cell(row=1, column=i).column_letter].width = width


def write_xlsx(frames: dict[str, pd.DataFrame], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with pd.ExcelWriter(path, engine="openpyxl") as xl:
        _to_excel(xl, frames)
    return path


_ENV = Environment(loader=PackageLoader("carepath.domain.economics", "templates"),
                   autoescape=select_autoescape(["html"]))


def money(value) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"-£{abs(value):,.0f}" if value < 0 else f"£{value:,.0f}"


def number(value, digits: int = 2) -> str:
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "–"
    return f"{value:,.{digits}f}"


def unit_money(value) -> str:
    """A unit value: pence shown when it has them (£12.50 an hour is not £12)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if round(float(value), 2).is_integer():  # whole pounds, give or take float rounding
        return money(value)
    return f"-£{abs(value):,.2f}" if value < 0 else f"£{value:,.2f}"


# Parameter values below this are shown to SMALL_FIGURES significant figures, others to 2
# decimals: a drop-off of 0.012 must not read 0.01, nor a proportion of 0.609 read 0.6.
SMALL_FIGURE = 0.1
SMALL_FIGURES = 3


def figure(value) -> str:
    """A parameter value (tornado low/high, switching value, Monte Carlo BCR)."""
    if value is None or (isinstance(value, float) and (math.isnan(value) or math.isinf(value))):
        return "–"
    if value != 0 and abs(value) < SMALL_FIGURE:
        return f"{value:.{SMALL_FIGURES}g}"
    return number(value, 2)


def percent(value) -> str:
    """A probability as a percentage to one decimal (P(NPV > 0) = 53.6%)."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.1%}"


_ENV.filters["money"] = money
_ENV.filters["number"] = number
_ENV.filters["unit_money"] = unit_money
_ENV.filters["figure"] = figure
_ENV.filters["percent"] = percent


def cba_html(rep: CBAReport, tornado_svg: str | None = None,
             histogram_svg: str | None = None) -> str:
    return _ENV.get_template("cba_report.html").render(
        rep=rep, model=rep.model, result=rep.result, shift=cost_shift_frame(rep.result),
        orgs=rep.model.organisations, tornado_svg=tornado_svg, histogram_svg=histogram_svg)


def pbma_html(ex: Exercise, scores: list[OptionScore], sel: Selection,
              decisions: pd.DataFrame | None = None) -> str:
    from carepath.domain.economics.pbma import process_notes

    return _ENV.get_template("pbma_report.html").render(
        ex=ex, frames=pbma_frames(ex, scores, sel), sel=sel, decisions=decisions,
        notes=process_notes(ex, scores))


def build_cba_report(model: CBAModel, *, draws: int, seed: int) -> CBAReport:
    """The deterministic result, the tornado and (draws > 0) the Monte Carlo analysis."""
    from carepath.domain.economics.cba import run_cba
    from carepath.domain.economics.sensitivity import (
        mean_gap_warnings,
        monte_carlo,
        npv_at_means,
        tornado,
    )

    base_npv, bars = tornado(model)
    mc = monte_carlo(model, draws=draws, seed=seed) if draws > 0 and model.uncertainty else None
    return CBAReport(model, run_cba(model), base_npv, bars, mc, npv_at_means(model),
                     tuple(mean_gap_warnings(model)))


def xlsx_bytes(frames: dict[str, pd.DataFrame]) -> bytes:
    """The Excel workbook in memory (web downloads)."""
    import io

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as xl:
        _to_excel(xl, frames)
    return buffer.getvalue()
