"""Green Book cost-benefit analysis across organisations.

For each appraisal year t = 0 .. horizon-1 (t = 0 is the base year, undiscounted):

* cost of service s = unit cost x activity x profile[t] x (1 + optimism bias of its grade),
  split between payers by their shares;
* benefit b = quantity x unit value x (1 - deadweight) x attribution
  x (1 - drop-off)^(years since it started) x (1 - optimism bias of its grade),
  felt by its beneficiary organisation; it starts in the first year it is active: the later
  of its own start and its service's, and the first year of non-zero service profile;
* present values use the Green Book factors: 3.5% a year, or 1.5% for health effects.

NPV, benefit-cost ratio, return on investment and payback follow per organisation and in
total. The arithmetic is vectorised over a leading "draw" axis so that the same code gives the
deterministic answer (one draw) and the Monte Carlo analysis (thousands).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carepath.domain.economics import constants as K
from carepath.domain.economics.definitions import CBAModel, parse_parameter


def discount_factors(horizon: int, *, health: bool = False,
                     schedule: tuple[tuple[int, float, float], ...] = K.DISCOUNT_SCHEDULE,
                     ) -> np.ndarray:
    """Green Book discount factor for years 0..horizon-1; declining rate after year 30."""
    factors = np.ones(horizon)
    for t in range(1, horizon):
        rate = _rate_for_year(t, health, schedule)
        factors[t] = factors[t - 1] / (1 + rate)
    return factors


def _rate_for_year(t: int, health: bool, schedule) -> float:
    rate = schedule[0][2 if health else 1]
    for first_year, standard, health_rate in schedule:
        if t >= first_year:
            rate = health_rate if health else standard
    return rate


def optimism_bias(grade: int) -> float:
    return K.OPTIMISM_BIAS_BY_GRADE[grade]


@dataclass(frozen=True)
class Compiled:
    """The model as arrays. Shapes: S services, B benefits, U unit values, O organisations,
    T years."""

    orgs: tuple[str, ...]
    years: np.ndarray  # (T,) calendar years
    service_ids: tuple[str, ...]
    benefit_ids: tuple[str, ...]
    unit_value_ids: tuple[str, ...]
    base: dict[str, np.ndarray]  # parameter arrays: unit_cost, activity (S,), quantity ... (B,)
    cost_factor: np.ndarray  # (S, T) profile x window x (1 + optimism bias)
    shares: np.ndarray  # (S, O)
    benefit_bias: np.ndarray  # (B,) optimism bias of each benefit's grade
    price_factor: np.ndarray  # (U,) unit value's price year -> the model's price year
    active: np.ndarray  # (B, T) 1 in years the benefit runs
    since_start: np.ndarray  # (B, T) years since the benefit's first active year (0 before)
    value_index: np.ndarray  # (B,) which unit value
    beneficiary: np.ndarray  # (B, O) one-hot
    link: np.ndarray  # (B, S, T) which services produce each benefit each year (sum to 1)
    scale_service: np.ndarray  # (B,) service whose activity scales the benefit, or -1
    df_cost: np.ndarray  # (T,)
    df_benefit: np.ndarray  # (B, T)


def _window(start: int, end: int | None, horizon: int) -> np.ndarray:
    t = np.arange(horizon)
    last = horizon - 1 if end is None else end
    return ((t >= start) & (t <= last)).astype(float)


def _since_start(active: np.ndarray) -> np.ndarray:
    """Years since the first year a benefit is active (0 before it and if it never is): a
    benefit cannot drop off before it exists, whatever its own start_year says."""
    t = np.arange(active.shape[-1])
    first = np.where(active.any(-1), (active > 0).argmax(-1), 0)
    return np.maximum(t[None] - first[:, None], 0).astype(float)


def compile_model(model: CBAModel) -> Compiled:
    T = model.horizon_years
    orgs = tuple(model.organisations)
    org_pos = {o: i for i, o in enumerate(orgs)}
    svc = model.services
    ben = model.benefits
    uv_pos = {u.id: i for i, u in enumerate(model.unit_values)}
    cost_factor = np.array([
        _window(s.start_year, s.end_year, T) * (np.array(s.profile) if s.profile else 1.0)
        * (1 + optimism_bias(s.confidence)) for s in svc])
    shares = np.zeros((len(svc), len(orgs)))
    for i, s in enumerate(svc):
        for payer, share in s.payers.items():
            shares[i, org_pos[payer]] = share
    # A benefit produced by a named service follows that service's ramp-up and window.
    service_shape = {s.id: _window(s.start_year, s.end_year, T)
                     * (np.array(s.profile) if s.profile else 1.0) for s in svc}
    grades = [b.confidence or model.unit_values[uv_pos[b.unit_value]].confidence for b in ben]
    beneficiary = np.zeros((len(ben), len(orgs)))
    for i, b in enumerate(ben):
        beneficiary[i, org_pos[b.beneficiary]] = 1.0
    df_std, df_health = discount_factors(T), discount_factors(T, health=True)
    active = np.array([_window(b.start_year, b.end_year, T) * service_shape.get(b.service, 1.0)
                       for b in ben])
    return Compiled(
        orgs=orgs,
        years=model.base_year + np.arange(T),
        service_ids=tuple(s.id for s in svc),
        benefit_ids=tuple(b.id for b in ben),
        unit_value_ids=tuple(u.id for u in model.unit_values),
        base={
            "unit_cost": np.array([s.unit_cost for s in svc], float),
            "activity": np.array([s.activity for s in svc], float),
            "quantity": np.array([b.quantity for b in ben], float),
            "deadweight": np.array([b.deadweight for b in ben], float),
            "attribution": np.array([b.attribution for b in ben], float),
            "drop_off": np.array([b.drop_off for b in ben], float),
            "value": np.array([u.value for u in model.unit_values], float),
        },
        cost_factor=cost_factor,
        shares=shares,
        benefit_bias=np.array([optimism_bias(g) for g in grades]),
        price_factor=np.array([model.price_factor(u) for u in model.unit_values]),
        active=active,
        since_start=_since_start(active),
        value_index=np.array([uv_pos[b.unit_value] for b in ben]),
        beneficiary=beneficiary,
        link=_links(model, cost_factor),
        scale_service=np.array([
            [s.id for s in svc].index(b.service)
            if b.service is not None and b.scales_with_activity else -1 for b in ben]),
        df_cost=df_std,
        df_benefit=np.array([df_health if b.health else df_std for b in ben]),
    )


def _links(model: CBAModel, cost_factor: np.ndarray) -> np.ndarray:
    """Benefit -> service, year by year: the named service, else the services running that
    year pro rata to that year's cost. Spread by the whole horizon's cost, a service
    starting in year 2 was credited with benefits of years 0 and 1 (a payer's cost-shift
    row took £57,295 where £41,927 was its due: an independent check)."""
    ids = [s.id for s in model.services]
    annual = np.array([s.unit_cost * s.activity for s in model.services], float)
    weight = annual[:, None] * cost_factor  # (S, T)
    overall = weight.sum(1) if weight.sum() > 0 else np.ones(len(ids))
    # A year no service runs in takes the horizon's shares: its benefits are still bought
    idle = weight.sum(0) <= 0
    weight[:, idle] = overall[:, None]
    link = np.zeros((len(model.benefits), len(ids), cost_factor.shape[1]))
    for i, b in enumerate(model.benefits):
        if b.service is not None:
            link[i, ids.index(b.service)] = 1.0
        else:
            link[i] = weight / weight.sum(0)
    return link


# ----- evaluation over draws -----------------------------------------------------------------
_ARRAY_OF = {"services": "service_ids", "benefits": "benefit_ids", "unit_values": "unit_value_ids"}


def parameter_arrays(c: Compiled, n: int, overrides: dict[str, np.ndarray] | None = None
                     ) -> dict[str, np.ndarray]:
    """Base parameters repeated for n draws, with some columns replaced by given draws."""
    arrays = {k: np.broadcast_to(v, (n, v.size)).copy() for k, v in c.base.items()}
    for name, draws in (overrides or {}).items():
        kind, ident, fld = parse_parameter(name)
        index = getattr(c, _ARRAY_OF[kind]).index(ident)
        arrays[fld][:, index] = draws
    return arrays


@dataclass(frozen=True)
class Flows:
    """Yearly money flows per draw: costs (N, S, T) and benefits (N, B, T), undiscounted."""

    costs: np.ndarray
    benefits: np.ndarray


def flows(c: Compiled, p: dict[str, np.ndarray]) -> Flows:
    annual_cost = p["unit_cost"] * p["activity"]  # (N, S)
    costs = annual_cost[:, :, None] * c.cost_factor[None]
    value = (p["value"] * c.price_factor[None])[:, c.value_index]  # (N, B), model prices
    gross = (p["quantity"] * value * _activity_ratio(c, p) * (1 - p["deadweight"])
             * p["attribution"])
    # Optimism bias makes a benefit smaller and a disbenefit (negative) larger.
    annual = gross * (1 - c.benefit_bias[None] * np.sign(gross))
    decay = (1 - p["drop_off"])[:, :, None] ** c.since_start[None]
    benefits = annual[:, :, None] * decay * c.active[None]
    return Flows(costs, benefits)


def _activity_ratio(c: Compiled, p: dict[str, np.ndarray]) -> np.ndarray:
    """(N, B): activity in this draw over stated activity, for benefits that scale with it."""
    base = c.base["activity"]
    ratio = np.ones((p["activity"].shape[0], c.scale_service.size))
    for b, s in enumerate(c.scale_service):
        if s >= 0 and base[s] > 0:
            ratio[:, b] = p["activity"][:, s] / base[s]
    return ratio


def present_values(c: Compiled, f: Flows) -> tuple[np.ndarray, np.ndarray]:
    """PV of costs paid and benefits felt per organisation: two (N, O) arrays."""
    pv_cost_s = f.costs @ c.df_cost  # (N, S)
    pv_ben_b = np.einsum("nbt,bt->nb", f.benefits, c.df_benefit)
    return pv_cost_s @ c.shares, pv_ben_b @ c.beneficiary


def npv_draws(c: Compiled, n: int, overrides: dict[str, np.ndarray] | None = None
              ) -> tuple[np.ndarray, np.ndarray]:
    """PV costs and PV benefits per organisation for each of n draws."""
    return present_values(c, flows(c, parameter_arrays(c, n, overrides)))


def total_npv(c: Compiled, n: int, overrides: dict[str, np.ndarray] | None = None
              ) -> np.ndarray:
    """Total NPV (all organisations) for each of n draws."""
    pv_cost, pv_ben = npv_draws(c, n, overrides)
    return (pv_ben - pv_cost).sum(1)


# ----- deterministic results -------------------------------------------------------------------
@dataclass(frozen=True)
class OrgResult:
    org: str
    name: str
    pv_costs: float
    pv_benefits: float
    npv: float
    bcr: float | None  # None when the organisation pays nothing
    roi: float | None
    payback_year: int | None  # years until cumulative discounted net >= 0; None if never

    def as_row(self) -> dict:
        return dict(self.__dict__)


@dataclass(frozen=True)
class CBAResult:
    model_id: str
    title: str
    organisations: list[OrgResult]
    total: OrgResult
    yearly: list[dict]  # year, org, cost, benefit, pv_cost, pv_benefit, cumulative_net
    cost_shift: dict[str, dict[str, float]]  # payer -> beneficiary -> PV benefit funded
    benefit_lines: list[dict]


def ratios(pv_costs: float, pv_benefits: float) -> tuple[float | None, float | None]:
    if pv_costs <= 0:
        return None, None
    return pv_benefits / pv_costs, (pv_benefits - pv_costs) / pv_costs


def payback_year(pv_cost_by_year: np.ndarray, pv_benefit_by_year: np.ndarray) -> int | None:
    """Number of years until cumulative discounted benefits cover cumulative costs for good
    (1 = within the base year): a cumulative that turns positive and then falls back has
    not paid back. None if not paid back within the horizon, or if nothing is spent."""
    if pv_cost_by_year.sum() <= 0:
        return None
    cumulative = np.cumsum(pv_benefit_by_year - pv_cost_by_year)
    short = np.nonzero(cumulative < 0)[0]
    if not short.size:  # never short: paid back in its first year of spending (an
        # organisation paying from year 3 read 1, "within the base year": a check)
        return int(np.nonzero(pv_cost_by_year > 0)[0][0]) + 1
    last_short = int(short[-1])
    return None if last_short == cumulative.size - 1 else last_short + 2


def run_cba(model: CBAModel) -> CBAResult:
    c = compile_model(model)
    f = flows(c, parameter_arrays(c, 1))
    cost_so = f.costs[0].T[:, :, None] * c.shares[None]  # (T, S, O)
    cost_ot = cost_so.sum(1).T  # (O, T)
    ben_ot = (f.benefits[0][:, :, None] * c.beneficiary[:, None, :]).sum(0).T  # (O, T)
    pv_ben_bt = f.benefits[0] * c.df_benefit  # (B, T)
    pv_ben_ot = (pv_ben_bt[:, :, None] * c.beneficiary[:, None, :]).sum(0).T
    pv_cost_ot = cost_ot * c.df_cost[None]
    orgs = [_org_result(o, model.organisations[o], pv_cost_ot[i], pv_ben_ot[i])
            for i, o in enumerate(c.orgs)]
    total = _org_result("total", "All organisations", pv_cost_ot.sum(0), pv_ben_ot.sum(0))
    return CBAResult(
        model_id=model.id, title=model.title, organisations=orgs, total=total,
        yearly=_yearly(c, cost_ot, ben_ot, pv_cost_ot, pv_ben_ot),
        cost_shift=_cost_shift(c, pv_ben_bt),
        benefit_lines=_benefit_lines(model, c, f.benefits[0], pv_ben_bt.sum(1)),
    )


def _org_result(org: str, name: str, pv_cost_t: np.ndarray, pv_ben_t: np.ndarray) -> OrgResult:
    pvc, pvb = float(pv_cost_t.sum()), float(pv_ben_t.sum())
    bcr, roi = ratios(pvc, pvb)
    return OrgResult(org, name, pvc, pvb, pvb - pvc, bcr, roi, payback_year(pv_cost_t, pv_ben_t))


def _yearly(c: Compiled, cost, ben, pv_cost, pv_ben) -> list[dict]:
    rows = []
    for i, org in enumerate(c.orgs):
        cumulative = np.cumsum(pv_ben[i] - pv_cost[i])
        for t, year in enumerate(c.years):
            rows.append({"year": int(year), "org": org, "cost": float(cost[i, t]),
                         "benefit": float(ben[i, t]), "pv_cost": float(pv_cost[i, t]),
                         "pv_benefit": float(pv_ben[i, t]),
                         "cumulative_net": float(cumulative[t])})
    return rows


def _cost_shift(c: Compiled, pv_ben_bt: np.ndarray) -> dict[str, dict[str, float]]:
    """Who pays x who benefits: the PV of benefits felt by each organisation that each
    payer's money buys (a payer funds its share of each service and of what it produces,
    year by year)."""
    ben_so = np.einsum("bst,bt,bo->so", c.link, pv_ben_bt, c.beneficiary)  # (S, O_benef.)
    matrix = c.shares.T @ ben_so  # (O_payer, O_beneficiary)
    return {p: {b: float(matrix[i, j]) for j, b in enumerate(c.orgs)}
            for i, p in enumerate(c.orgs)}


def _benefit_lines(model: CBAModel, c: Compiled, ben_bt: np.ndarray, pv_b: np.ndarray
                   ) -> list[dict]:
    values = {u.id: u for u in model.unit_values}
    return [{"benefit": b.id, "outcome": b.outcome, "beneficiary": b.beneficiary,
             "unit_value": values[b.unit_value].value, "unit": values[b.unit_value].unit,
             "price_year": values[b.unit_value].price_year,
             "in_model_prices": values[b.unit_value].value
             * model.price_factor(values[b.unit_value]),
             "source": values[b.unit_value].source, "undiscounted": float(ben_bt[i].sum()),
             "pv": float(pv_b[i]), "health": b.health}
            for i, b in enumerate(model.benefits)]
