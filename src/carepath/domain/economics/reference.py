"""A plain-Python reference for the CBA arithmetic: loops over draws, items and years, no
numpy. Slow on purpose; it restates the method as simply as possible so that tests can check
the vectorised engine against it and the benchmark can time one against the other."""

from __future__ import annotations

from carepath.domain.economics import constants as K
from carepath.domain.economics.definitions import CBAModel, parse_parameter


def _factors(horizon: int, health: bool) -> list[float]:
    out, factor = [], 1.0
    for t in range(horizon):
        if t > 0:
            rate = [r for first, std, hl in K.DISCOUNT_SCHEDULE if t >= first
                    for r in [hl if health else std]][-1]
            factor /= 1 + rate
        out.append(factor)
    return out


def _active(start: int, end: int | None, t: int) -> bool:
    return t >= start and (end is None or t <= end)


def total_npv(model: CBAModel, values: dict[str, float] | None = None) -> float:
    """Total NPV with some parameters replaced (name -> value)."""
    values = values or {}

    def get(kind: str, ident: str, fld: str, default: float) -> float:
        return values.get(f"{kind}.{ident}.{fld}", default)

    T = model.horizon_years
    std, health = _factors(T, False), _factors(T, True)
    services = {s.id: s for s in model.services}
    unit = {u.id: u for u in model.unit_values}
    npv = 0.0
    for s in model.services:
        ob = K.OPTIMISM_BIAS_BY_GRADE[s.confidence]
        annual = get("services", s.id, "unit_cost", s.unit_cost) * get(
            "services", s.id, "activity", s.activity)
        for t in range(T):
            shape = (s.profile[t] if s.profile else 1.0) if _active(s.start_year, s.end_year,
                                                                      t) else 0.0
            npv -= annual * shape * (1 + ob) * std[t]
    for b in model.benefits:
        grade = b.confidence or unit[b.unit_value].confidence
        value = (get("unit_values", b.unit_value, "value", unit[b.unit_value].value)
                 * model.price_factor(unit[b.unit_value]))
        annual = (get("benefits", b.id, "quantity", b.quantity) * value
                  * (1 - get("benefits", b.id, "deadweight", b.deadweight))
                  * get("benefits", b.id, "attribution", b.attribution))
        drop = get("benefits", b.id, "drop_off", b.drop_off)
        svc = services.get(b.service) if b.service else None
        if svc is not None and b.scales_with_activity and svc.activity > 0:
            annual *= get("services", svc.id, "activity", svc.activity) / svc.activity
        bias = K.OPTIMISM_BIAS_BY_GRADE[grade]
        annual *= (1 - bias) if annual >= 0 else (1 + bias)  # a disbenefit grows
        started = None  # the first year the benefit is active: drop-off counts from there
        for t in range(T):
            if not _active(b.start_year, b.end_year, t):
                continue
            shape = 1.0
            if svc is not None:
                shape = ((svc.profile[t] if svc.profile else 1.0)
                         if _active(svc.start_year, svc.end_year, t) else 0.0)
            if shape == 0:
                continue
            started = t if started is None else started
            factor = (health if b.health else std)[t]
            npv += annual * shape * (1 - drop) ** (t - started) * factor
    return npv


def monte_carlo_loop(model: CBAModel, draws: dict[str, list[float]], n: int) -> list[float]:
    """Total NPV for each of n draws, one model evaluation per draw."""
    names = list(draws)
    for name in names:
        parse_parameter(name)
    return [total_npv(model, {k: draws[k][i] for k in names}) for i in range(n)]
