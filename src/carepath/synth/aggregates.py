"""Tables that are counts or attributes rather than events: registered population,
patients, and screening coverage."""

from __future__ import annotations

import numpy as np

from carepath.model import codes
from carepath.synth import anchors
from carepath.synth.context import DAYS_PER_YEAR, N_SEX, Chunk, categorical, days
from carepath.synth.writer import coded, dates, ints

# Ethnic group mix (ONS 2021 census, England; 'not stated' as in GP records), made more
# diverse in deprived urban practices.
ETHNIC_BASE = np.array([0.80, 0.03, 0.09, 0.035, 0.015, 0.03])  # codes.ETHNIC_GROUPS order
ETHNIC_URBAN_DEPRIVED_FACTOR = 2.2
IMD_SPREAD = (0.2, 0.6, 0.2)  # patient quintile = practice quintile -1 / same / +1
MAX_REGISTERED_YEARS = 30
SCREENING_ELIGIBLE_NOT_CEASED = 0.97  # eligible after ceased recall
SCREENING_IMD_SLOPE = -0.004  # coverage per IMD score point above the mean
# Trends are centred on the middle of the window, so the window's mean meets the anchor.
SCREENING_TREND_PER_YEAR = {"cervical_25_49": -0.004, "cervical_50_64": -0.002,
                            "breast_53_70": 0.0, "bowel_60_74": 0.008}
# Share of each five-year band inside a programme's age range: (sex or None, {band: share}).
SCREENING_BANDS = {
    "cervical_25_49": ("F", {5: 1, 6: 1, 7: 1, 8: 1, 9: 1}),
    "cervical_50_64": ("F", {10: 1, 11: 1, 12: 1}),
    "breast_53_70": ("F", {10: 0.4, 11: 1, 12: 1, 13: 1, 14: 0.2}),
    "bowel_60_74": (None, {12: 1, 13: 1, 14: 1}),
}


def registered_population(ch: Chunk, out: dict) -> None:
    _n_p, _n_q, _n_s, _n_b = ch.pop_q.shape
    p, q, s, b = (a.ravel() for a in np.indices(ch.pop_q.shape))
    out.setdefault("registered_population", []).append({
        "practice_code": coded(ch.idx[p], ch.geo.practices.code),
        "quarter_start": dates(ch.window.quarter_starts()[q]),
        "sex": coded(s, codes.SEX), "age_band": coded(b, codes.AGE_BANDS),
        "population": ints(ch.pop_q.ravel())})


def patients(ch: Chunk, out: dict, deaths: tuple[np.ndarray, np.ndarray]) -> None:
    rng, win = ch.rng, ch.window
    ppl = ch.people.concat()
    n = len(ppl["practice"])
    gp = ch.geo.practices
    g_idx = ch.idx[ppl["practice"]]
    ids = ch.people.first_id + np.arange(n, dtype=np.int64)
    seen_year = ppl["seen"].astype("datetime64[Y]").astype(int) + 1970
    age_seen = np.maximum(seen_year - ppl["yob"], 0)
    back = rng.integers(0, DAYS_PER_YEAR * np.minimum(age_seen, MAX_REGISTERED_YEARS) + 1)
    birth = (ppl["yob"] - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    reg_from = np.maximum(ppl["seen"] - days(back), birth)
    death = np.full(n, np.datetime64("NaT"), dtype="datetime64[D]")
    dead_ids, dead_dates = deaths
    death[dead_ids - ch.people.first_id] = dead_dates
    quint = np.clip(gp.imd_quintile[g_idx] + categorical(rng, np.tile(IMD_SPREAD, (n, 1))) - 1,
                    1, 5)
    urban_deprived = (gp.rurality[g_idx] == 0) & (gp.imd_quintile[g_idx] <= 2)
    mix = np.tile(ETHNIC_BASE, (n, 1))
    mix[urban_deprived, 1:5] *= ETHNIC_URBAN_DEPRIVED_FACTOR
    out.setdefault("patients", []).append({
        "patient_id": ints(ids), "sex": coded(ppl["sex"], codes.SEX),
        "year_of_birth": ints(ppl["yob"]),
        "practice_code": coded(g_idx, gp.code),
        "registered_from": dates(reg_from),
        "registered_to": dates(np.where(death <= win.end, death, np.datetime64("NaT"))),
        "imd_quintile": ints(quint), "ethnic_group": coded(categorical(rng, mix),
                                                           codes.ETHNIC_GROUPS)})


def screening(ch: Chunk, out: dict) -> None:
    """Coverage per practice, programme and quarter end: eligible from the registered
    population in the programme's age range, screened binomial on a practice coverage
    that depends on deprivation, a persistent practice effect and the planted shift."""
    rng, win = ch.rng, ch.window
    gp = ch.geo.practices
    n_p, n_q = ch.pop_q.shape[:2]
    progs = codes.SCREENING_PROGRAMMES
    practice_effect = rng.normal(0.0, anchors.SCREENING_PRACTICE_SD, n_p)
    # A planted practice gets its planted shift, not a chance effect that could cancel it
    # (a -16 point plant read 'better' than national beside a +20 point draw); the others'
    # effects are centred, so chance does not move the county's coverage off its anchor.
    planted = ch.planted.screening_shift[ch.idx] != 0
    practice_effect = np.where(planted, 0.0, practice_effect)
    if (~planted).any():
        practice_effect[~planted] -= practice_effect[~planted].mean()
    q_end = win.quarter_starts() + days(0)
    q_end = np.array([_quarter_end(d) for d in q_end], dtype="datetime64[D]")
    year_index = np.arange(n_q) // 4
    cols: dict[str, list] = {k: [] for k in ("p", "prog", "q", "eligible", "screened")}
    for k, prog in enumerate(progs):
        sex, bands = SCREENING_BANDS[prog]
        sexes = [codes.SEX.index(sex)] if sex else list(range(N_SEX))
        weights = np.zeros(ch.pop_q.shape[3])
        for band, share in bands.items():
            weights[band] = share
        pop = ch.pop_q[:, :, sexes, :].sum(axis=2) @ weights
        eligible = np.round(pop * SCREENING_ELIGIBLE_NOT_CEASED).astype(np.int64)
        cover = (anchors.SCREENING_COVERAGE[prog] + practice_effect[:, None]
                 + rng.normal(0.0, anchors.SCREENING_PRACTICE_SD / 3, n_p)[:, None]
                 + SCREENING_IMD_SLOPE * (gp.imd_score[ch.idx] - anchors.IMD_SCORE_MEAN)[:, None]
                 + ch.planted.screening_shift[ch.idx][:, None]
                 + SCREENING_TREND_PER_YEAR[prog] * (year_index - (win.years - 1) / 2)[None, :])
        screened = rng.binomial(eligible, np.clip(cover, 0.05, 0.98))
        p, q = np.indices(eligible.shape)
        for name, arr in (("p", p), ("prog", np.full(p.shape, k)), ("q", q),
                          ("eligible", eligible), ("screened", screened)):
            cols[name].append(arr.ravel())
    c = {k: np.concatenate(v) for k, v in cols.items()}
    out.setdefault("screening", []).append({
        "practice_code": coded(ch.idx[c["p"]], gp.code), "programme": coded(c["prog"], progs),
        "period_end": dates(q_end[c["q"]]), "eligible": ints(c["eligible"]),
        "screened": ints(c["screened"]), "suppressed": np.zeros(len(c["p"]), dtype=bool)})


def _quarter_end(start: np.datetime64) -> np.datetime64:
    month = start.astype("datetime64[M]")
    return (month + 3).astype("datetime64[D]") - days(1)
