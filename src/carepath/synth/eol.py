"""End of life: deaths (place and cause), EoL register entries, preferred place of death,
and emergency admissions in the last 90 days of life.

Deaths come from three streams: people whose cancer was diagnosed in the window (dates
from the survival model), people whose cancer was diagnosed before the window (their
share falls as the window fills), and deaths from other causes. Deaths are simulated a
year past the window so that people on the register at its end are still alive.
"""

from __future__ import annotations

import numpy as np

from carepath.model import codes
from carepath.synth import anchors
from carepath.synth.cancer import GROUPS, Tumours, _icd, _mix, _scaled_rates
from carepath.synth.context import (
    DAYS_PER_YEAR,
    Chunk,
    ages_in_band,
    categorical,
    days,
    expand,
)
from carepath.synth.experience import bereavement_surveys
from carepath.synth.writer import coded, dates, ints

PLACES = codes.PLACES_OF_DEATH
PREFS = codes.PREFERRED_PLACES
# Where people die when no recorded preference decides it (tuned so that all deaths split
# as anchors.PLACE_OF_DEATH_TARGET).
DEFAULT_PLACE = {"cancer": [0.30, 0.09, 0.12, 0.46, 0.03],  # home, care home, hospice, ...
                 "other": [0.24, 0.26, 0.005, 0.48, 0.015]}
PREFERRED = {"cancer": [0.55, 0.06, 0.22, 0.04, 0.01, 0.12],
             "other": [0.50, 0.25, 0.06, 0.06, 0.01, 0.12]}
CARE_HOME_OLD_AGE, CARE_HOME_OLD_FACTOR = 85, 1.8
CARE_HOME_YOUNG_AGE, CARE_HOME_YOUNG_FACTOR = 65, 0.2
REGISTER_LEAD_MEAN_DAYS = {"cancer": 110, "other": 160}
REGISTER_MIN_LEAD_DAYS = 3
PREFERENCE_ON_REGISTER = 0.75
PREFERENCE_OFF_REGISTER = 0.08
REGISTER_LOOKBACK_DAYS = 2 * DAYS_PER_YEAR  # register entries may predate the window
REGISTER_EXIT = 0.03
# Point prevalence that register entries of people who die soon give (measured), the years
# over which long-stay entries accumulate, and how often they record a preference.
DYING_REGISTER_PREVALENCE = 0.0010
LIVING_REGISTER_YEARS = 3
LIVING_REGISTER_PREFERENCE = 0.5  # removed other than by death (condition improved)
EMERGENCY_LAST_90 = {"register": 0.6, "other": 0.85}  # mean admissions, last 90 days
EOL_BED_DAYS_MEAN = 7
TERMINAL_BED_DAYS_MEAN = 8
# Underlying causes other than cancer (ICD-10, weight): circulatory, dementia, respiratory,
# external and other (ONS deaths registered, England).
OTHER_CAUSES = (("I25", 12), ("F03", 10), ("G30", 5), ("I63", 6), ("J44", 6), ("J18", 5),
                ("I50", 3), ("I48", 2), ("K70", 2), ("N18", 2), ("E11", 2), ("U07", 3),
                ("G20", 2), ("G12", 1), ("R54", 3), ("W19", 2), ("X59", 1), ("I71", 1),
                ("J84", 2), ("A41", 2))


def mortality_rates() -> np.ndarray:
    return _scaled_rates(anchors.MORTALITY_SHAPE, anchors.MORTALITY_SEX_RATIO_F,
                         anchors.DEATHS_PER_100 * 1000)


def prior_cancer_share(year: np.ndarray) -> np.ndarray:
    """Share of cancer deaths in window year y from cancers diagnosed before the window:
    1 - F(y + 0.5) / F(inf) for the stage-mixture survival model."""
    stage_mix = np.array([0.25, 0.20, 0.17, 0.25, 0.13])
    w = stage_mix * anchors.CANCER_DEATH_PROB
    t = np.asarray(year, dtype=float)[..., None] + 0.5
    cdf = (w * (1 - np.exp(-t / anchors.CANCER_DEATH_MEAN_YEARS))).sum(-1) / w.sum()
    return 1.0 - cdf


def simulate_eol(ch: Chunk, out: dict, ids: dict[str, int],
                 t: Tumours) -> tuple[np.ndarray, np.ndarray]:
    """Returns patient numbers and dates of the deaths inside the window."""
    rng, win = ch.rng, ch.window
    # Populations for the window plus one year beyond it (the last year repeated).
    pop = np.concatenate([ch.pop_y, ch.pop_y[:, -1:]], axis=1)
    n_years = pop.shape[1]
    share = anchors.CANCER_SHARE_OF_DEATHS
    mort = mortality_rates()[None, None]
    prior = prior_cancer_share(np.arange(n_years))[None, :, None, None]
    pi_b, y_b, s_b, b_b = expand(rng, mort * pop * share * prior)
    pi_c, y_c, s_c, b_c = expand(rng, mort * pop * (1 - share))
    pi = np.concatenate([pi_b, pi_c])
    sex = np.concatenate([s_b, s_c])
    age = ages_in_band(rng, np.concatenate([b_b, b_c]))
    when = ch.event_dates(np.concatenate([y_b, y_c]))
    patient = ch.people.new(rng, pi, sex, age, when)
    cancer = np.arange(len(pi)) < len(pi_b)
    cause = np.empty(len(pi), dtype=object)
    group = categorical(rng, np.stack([_mix(s, False) for s in range(2)])[sex[cancer]])
    cause[cancer] = _icd(rng, group, sex[cancer])
    cw = np.array([w for _, w in OTHER_CAUSES], dtype=float)
    cause[~cancer] = np.array([c for c, _ in OTHER_CAUSES], dtype=object)[
        rng.choice(len(cw), (~cancer).sum(), p=cw / cw.sum())]
    # Deaths of people whose cancer was diagnosed in the window.
    dead = ~np.isnat(t.death)
    d = {
        "patient": np.concatenate([t.patient[dead], patient]),
        "practice": np.concatenate([t.practice[dead], pi]),
        "sex": np.concatenate([t.sex[dead], sex]),
        "age": np.concatenate([_age_at_death(ch, t, dead), age]),
        "death": np.concatenate([t.death[dead], when]).astype("datetime64[D]"),
        "cancer": np.concatenate([np.ones(dead.sum(), bool), cancer]),
        "after": np.concatenate([t.diagnosis[dead], np.full(len(pi), win.start - days(REGISTER_LOOKBACK_DAYS))]),
        "cause": np.concatenate([t.icd[dead], cause]),
    }
    _living_register(ch, out)
    return _record(ch, out, ids, d)


def _age_at_death(ch: Chunk, t: Tumours, dead: np.ndarray) -> np.ndarray:
    """Age at death of people diagnosed in the window: age at diagnosis plus the whole years
    since, kept within what the year of birth allows (the year of death less the year of
    birth, or one less): a birthday between diagnosis and death made some two years short."""
    years_after = (t.death[dead] - t.diagnosis[dead]).astype(np.int64) // DAYS_PER_YEAR
    yob = ch.people.concat()["yob"][t.patient[dead] - ch.people.first_id]
    years_apart = t.death[dead].astype("datetime64[Y]").astype(int) + 1970 - yob
    return np.clip(t.age[dead] + years_after, years_apart - 1, years_apart)


def _living_register(ch: Chunk, out: dict) -> None:
    """People who join the register and are still alive a year after the window (frailty,
    organ failure, slow cancers): without them the register's point prevalence would be a
    fraction of QOF's. Entries spread over the last LIVING_REGISTER_YEARS of the window,
    with age and sex in proportion to mortality."""
    rng, win = ch.rng, ch.window
    years = min(win.years, LIVING_REGISTER_YEARS)
    rate = (mortality_rates() * (anchors.PALLIATIVE_REGISTER_PREVALENCE - DYING_REGISTER_PREVALENCE)
            / (anchors.DEATHS_PER_100 / 100) / LIVING_REGISTER_YEARS)
    pop = ch.pop_y[:, win.years - years:]
    pi, y, s, b = expand(rng, rate[None, None] * pop)
    when = ch.event_dates(y + win.years - years)
    age = ages_in_band(rng, b)
    patient = ch.people.new(rng, pi, s, age, when)
    n = len(pi)
    out.setdefault("eol_register", []).append({
        "patient_id": ints(patient),
        "practice_code": coded(ch.idx[pi], ch.geo.practices.code),
        "entry_date": dates(when), "exit_date": dates(np.full(n, np.datetime64("NaT")))})
    pref = rng.random(n) < LIVING_REGISTER_PREFERENCE
    pref_date = np.minimum(when + days(rng.integers(0, 31, n)), win.end)
    out.setdefault("preferences", []).append({
        "patient_id": ints(patient[pref]),
        "preferred_place": coded(categorical(rng, np.tile(PREFERRED["other"], (pref.sum(), 1))),
                                 PREFS),
        "date_recorded": dates(pref_date[pref])})


def _record(ch: Chunk, out: dict, ids: dict[str, int], d: dict) -> tuple:
    rng, win = ch.rng, ch.window
    n = len(d["patient"])
    kind = np.where(d["cancer"], "cancer", "other")
    # EoL register: two thirds of cancer deaths, a fifth of others (planted practices fewer).
    p_reg = np.where(d["cancer"], anchors.EOL_REGISTER_CANCER_DEATHS,
                     anchors.EOL_REGISTER_OTHER_DEATHS)
    on_reg = rng.random(n) < p_reg * ch.planted.eol_register_mult[ch.idx[d["practice"]]]
    lead = np.array([REGISTER_LEAD_MEAN_DAYS[k] for k in ("cancer", "other")])[
        (~d["cancer"]).astype(int)]
    entry = d["death"] - days(REGISTER_MIN_LEAD_DAYS + rng.exponential(lead).astype(np.int64))
    entry = np.maximum(entry, d["after"])
    reg_rows = on_reg & (entry <= win.end)
    exits = reg_rows & ~d["cancer"] & (rng.random(n) < REGISTER_EXIT)
    exit_date = entry + days(rng.integers(60, 300, n))
    exits &= (exit_date < d["death"]) & (exit_date <= win.end)
    out.setdefault("eol_register", []).append({
        "patient_id": ints(d["patient"][reg_rows]),
        "practice_code": coded(ch.idx[d["practice"][reg_rows]], ch.geo.practices.code),
        "entry_date": dates(entry[reg_rows]),
        "exit_date": dates(np.where(exits, exit_date, np.datetime64("NaT"))[reg_rows])})
    # Preferred place of death, recorded mostly for people on the register.
    pref_on = reg_rows & (rng.random(n) < PREFERENCE_ON_REGISTER)
    pref_date_on = np.minimum(entry + days(rng.integers(0, 31, n)), d["death"] - days(1))
    pref_off = ~on_reg & (rng.random(n) < PREFERENCE_OFF_REGISTER)
    pref_date_off = np.maximum(d["death"] - days(rng.integers(5, 61, n)), win.start)
    pref_date = np.where(pref_on, pref_date_on, pref_date_off)
    has_pref = (pref_on | pref_off) & (pref_date <= win.end)
    pref = np.where(d["cancer"], categorical(rng, np.tile(PREFERRED["cancer"], (n, 1))),
                    categorical(rng, np.tile(PREFERRED["other"], (n, 1))))
    out.setdefault("preferences", []).append({
        "patient_id": ints(d["patient"][has_pref]), "preferred_place": coded(pref[has_pref], PREFS),
        "date_recorded": dates(pref_date[has_pref])})
    died = d["death"] <= win.end
    place, stated, achieved = _place(ch, d, has_pref, pref, kind)
    bereavement_surveys(ch, out, ids, d, died, place, achieved, stated, reg_rows)
    out.setdefault("deaths", []).append({
        "patient_id": ints(d["patient"][died]),
        "practice_code": coded(ch.idx[d["practice"][died]], ch.geo.practices.code),
        "date_of_death": dates(d["death"][died]), "place_of_death": coded(place[died], PLACES),
        "underlying_cause": d["cause"][died].astype(str), "age_at_death": ints(d["age"][died])})
    _admissions(ch, out, ids, d, died, on_reg, place)
    return d["patient"][died], d["death"][died]


def _place(ch: Chunk, d: dict, has_pref: np.ndarray, pref: np.ndarray,
           kind: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Place of death, whether a preference was stated, and whether it was met."""
    rng = ch.rng
    n = len(pref)
    base = np.where((kind == "cancer")[:, None], DEFAULT_PLACE["cancer"], DEFAULT_PLACE["other"])
    care = PLACES.index("care_home")
    base[:, care] *= np.where(d["age"] >= CARE_HOME_OLD_AGE, CARE_HOME_OLD_FACTOR,
                              np.where(d["age"] < CARE_HOME_YOUNG_AGE, CARE_HOME_YOUNG_FACTOR, 1))
    place = categorical(rng, base)
    stated = has_pref & (pref != PREFS.index("not_stated"))
    achieved_p = ch.planted.pref_achieved_locality[ch.geo.practices.locality[ch.idx[d["practice"]]]]
    achieved = stated & (rng.random(n) < achieved_p)
    # A stated preference not met: the person dies somewhere else.
    missed = stated & ~achieved & (place == pref)
    place = np.where(achieved, pref, np.where(missed, PLACES.index("hospital"), place))
    place = np.where(missed & (pref == PLACES.index("hospital")), PLACES.index("home"), place)
    return place, stated, achieved


def _admissions(ch, out, ids, d, died, on_reg, place) -> None:
    """Emergency admissions in the last 90 days; a hospital death ends in one."""
    rng = ch.rng
    lam = np.where(on_reg, EMERGENCY_LAST_90["register"], EMERGENCY_LAST_90["other"])
    count = np.where(died, rng.poisson(lam), 0)
    who = np.repeat(np.arange(len(count)), count)
    admit = d["death"][who] - days(rng.integers(3, 91, len(who)))
    discharge = np.minimum(admit + days(rng.geometric(1 / EOL_BED_DAYS_MEAN, len(who))),
                           d["death"][who] - days(1))
    term = np.flatnonzero(died & (place == PLACES.index("hospital")))
    t_admit = d["death"][term] - days(rng.geometric(1 / TERMINAL_BED_DAYS_MEAN, len(term)) - 1)
    who = np.concatenate([who, term])
    admit = np.concatenate([admit, t_admit])
    discharge = np.concatenate([discharge, d["death"][term]])
    k = len(who)
    trust = ch.geo.practices.trust[ch.idx[d["practice"][who]]]
    out.setdefault("admissions", []).append({
        "admission_id": ints(ids["admission"] + np.arange(k)),
        "patient_id": ints(d["patient"][who]),
        "provider_code": coded(trust, ch.geo.trust_codes),
        "admission_type": coded(np.ones(k), codes.ADMISSION_TYPES),
        "admission_date": dates(admit), "discharge_date": dates(discharge),
        "bed_days": ints((discharge - admit).astype(np.int64)),
        "primary_diagnosis": d["cause"][who].astype(str)})
    ids["admission"] += k


__all__ = ["GROUPS", "mortality_rates", "prior_cancer_share", "simulate_eol"]
