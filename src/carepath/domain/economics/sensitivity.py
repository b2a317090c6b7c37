"""Sensitivity analysis: one-way (tornado) and probabilistic (Monte Carlo).

Both reuse the vectorised evaluator of :mod:`cba`: a tornado is 2 x P draws in which one
parameter at a time sits at a low or high quantile of its distribution; a Monte Carlo run is
N draws from every distribution at once, from a seeded numpy Generator so that a run can be
repeated exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy.optimize import brentq

from carepath.domain.economics import constants as K
from carepath.domain.economics.cba import (
    Compiled,
    compile_model,
    npv_draws,
    parameter_arrays,
    total_npv,
)
from carepath.domain.economics.definitions import (
    PROPORTION_FIELDS,
    SIGNED_FIELDS,
    CBAModel,
    parse_parameter,
)

# Switching values are searched for up to this many times the larger of the base and high
# values (costs, activity, unit values, quantities), and to this relative precision.
SWITCH_SEARCH_FACTOR = 100.0
SWITCH_XTOL = 1e-9


@dataclass(frozen=True)
class TornadoBar:
    parameter: str
    low_value: float
    high_value: float
    npv_at_low: float
    npv_at_high: float
    # The value at which total NPV is zero, others at base (Green Book "switching value");
    # None when NPV keeps its sign over the parameter's whole search range.
    switching_value: float | None = None

    @property
    def swing(self) -> float:
        return abs(self.npv_at_high - self.npv_at_low)


def tornado(model: CBAModel, quantiles: tuple[float, float] = K.TORNADO_QUANTILES
            ) -> tuple[float, list[TornadoBar]]:
    """Base-case total NPV and one bar per uncertain parameter, widest swing first."""
    c = compile_model(model)
    base = total_npv(c, 1)[0]
    params = model.uncertainty
    if not params:
        return float(base), []
    n = 2 * len(params)
    overrides = {}
    bounds = []
    for i, u in enumerate(params):
        lo, hi = (u.distribution.ppf(q) for q in quantiles)
        bounds.append((lo, hi))
        column = _base_column(c, u.parameter, n)
        column[2 * i], column[2 * i + 1] = lo, hi
        overrides[u.parameter] = column
    npv = total_npv(c, n, overrides)
    bars = [TornadoBar(u.parameter, lo, hi, float(npv[2 * i]), float(npv[2 * i + 1]),
                       switching_value(c, u.parameter, hi))
            for i, (u, (lo, hi)) in enumerate(zip(params, bounds, strict=True))]
    return float(base), sorted(bars, key=lambda b: b.swing, reverse=True)


def _search_range(parameter: str, base: float, high: float) -> tuple[float, float]:
    fld = parse_parameter(parameter)[2]
    if fld in PROPORTION_FIELDS:
        return 0.0, 1.0
    reach = SWITCH_SEARCH_FACTOR * max(abs(base), abs(high), 1.0)
    if fld not in SIGNED_FIELDS:
        return 0.0, reach
    # A signed quantity keeps its sign: -3,866 carer hours "saved" made a benefit of 8,000
    # to 20,000 hours a disbenefit (an independent check). Zero, no effect at all, is in.
    if base > 0:
        return 0.0, reach
    if base < 0:
        return -reach, 0.0
    return -reach, reach


def switching_value(c: Compiled, parameter: str, high: float) -> float | None:
    """The parameter value that makes total NPV zero with everything else at base."""
    base = float(_base_column(c, parameter, 1)[0])

    def npv_at(x: float) -> float:
        return float(total_npv(c, 1, {parameter: np.array([x])})[0])

    lo, hi = _search_range(parameter, base, high)
    f_lo, f_hi = npv_at(lo), npv_at(hi)
    if f_lo == 0:
        return lo
    if f_hi == 0:
        return hi
    if f_lo * f_hi > 0:
        return None
    return float(brentq(npv_at, lo, hi, xtol=SWITCH_XTOL * max(abs(base), 1.0)))


def _base_column(c: Compiled, parameter: str, n: int) -> np.ndarray:
    """The parameter's base-case value repeated n times."""
    base = parameter_arrays(c, 1, None)
    kind, ident, fld = parse_parameter(parameter)
    ids = {"services": c.service_ids, "benefits": c.benefit_ids,
           "unit_values": c.unit_value_ids}[kind]
    return np.full(n, base[fld][0, ids.index(ident)])


@dataclass(frozen=True)
class Interval:
    mean: float
    low: float
    high: float
    p_positive: float  # probability that the quantity is above 0


@dataclass(frozen=True)
class MonteCarloResult:
    draws: int
    seed: int
    npv_total: Interval
    bcr_total: Interval | None
    npv_by_org: dict[str, Interval]
    npv_samples: np.ndarray  # (N,) total NPV per draw, for charts

    @property
    def p_npv_positive(self) -> float:
        return self.npv_total.p_positive


def sample_parameters(model: CBAModel, n: int, rng: np.random.Generator
                      ) -> dict[str, np.ndarray]:
    """One array of n draws per uncertain parameter, in the model's order."""
    return {u.parameter: u.distribution.sample(rng, n) for u in model.uncertainty}


def monte_carlo(model: CBAModel, draws: int = K.DEFAULT_DRAWS, seed: int = K.DEFAULT_SEED,
                quantiles: tuple[float, float] = K.INTERVAL_QUANTILES) -> MonteCarloResult:
    if draws < 1:
        raise ValueError("draws must be at least 1")
    c = compile_model(model)
    rng = np.random.default_rng(seed)
    pv_cost, pv_ben = npv_draws(c, draws, sample_parameters(model, draws, rng))
    npv = pv_ben - pv_cost
    total = npv.sum(1)
    cost_total = pv_cost.sum(1)
    bcr = None
    if np.all(cost_total > 0):
        bcr = _interval(pv_ben.sum(1) / cost_total - 1, quantiles, shift=1.0)
    return MonteCarloResult(
        draws=draws, seed=seed, npv_total=_interval(total, quantiles), bcr_total=bcr,
        npv_by_org={o: _interval(npv[:, i], quantiles) for i, o in enumerate(c.orgs)},
        npv_samples=total)


def _interval(x: np.ndarray, quantiles: tuple[float, float], shift: float = 0.0) -> Interval:
    """Summary of draws; ``shift`` is added back after P(x > 0) is taken (BCR: P(BCR > 1))."""
    lo, hi = np.quantile(x, quantiles)
    return Interval(float(x.mean() + shift), float(lo + shift), float(hi + shift),
                    float((x > 0).mean()))


# ----- base case against the distributions --------------------------------------------------
def npv_at_means(model: CBAModel) -> float | None:
    """Total NPV with every uncertain parameter at its distribution's mean (others at base):
    what the Monte Carlo mean is near when the model is close to linear, to set beside the
    base case. None when nothing is uncertain."""
    if not model.uncertainty:
        return None
    means = {u.parameter: np.array([u.distribution.frozen().mean()]) for u in model.uncertainty}
    return float(total_npv(compile_model(model), 1, means)[0])


def base_value(model: CBAModel, parameter: str) -> float:
    kind, ident, fld = parse_parameter(parameter)
    return float(getattr(model.item(kind, ident), fld))


def mean_gap_warnings(model: CBAModel, threshold: float = K.MEAN_BASE_GAP) -> list[str]:
    """One warning per parameter whose distribution's mean is more than ``threshold``
    (relative) away from its base value: the base case and the Monte Carlo analysis then
    describe different inputs."""
    out = []
    for u in model.uncertainty:
        base, mean = base_value(model, u.parameter), float(u.distribution.frozen().mean())
        gap = abs(mean - base) / abs(base) if base else (math.inf if mean else 0.0)
        if gap > threshold:
            size = "from zero" if math.isinf(gap) else f"{gap:.0%} away from"
            out.append(f"{u.parameter}: the {u.distribution.kind} distribution's mean "
                       f"({_plain(mean)}) is {size} the base value ({_plain(base)}); the Monte "
                       "Carlo analysis draws around that mean, the base case uses the base value")
    return out


def _plain(x: float) -> str:
    """19,000 or 0.0125: no exponent, no trailing zeros."""
    if abs(x) < 1:
        return f"{x:.4g}"
    return f"{x:,.2f}".rstrip("0").rstrip(".")
