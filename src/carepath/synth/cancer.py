"""Cancer pathway: USC and other referrals, tumours (site, stage, route), treatments and
the admissions they cause. Rates are per person-year on the practice's registered
population by sex and age band, calibrated in ``anchors``."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from carepath.model import codes
from carepath.synth import anchors
from carepath.synth.context import (
    DAYS_PER_YEAR,
    Chunk,
    ages_in_band,
    categorical,
    days,
    expand,
    lognormal_days,
    sigmoid,
)
from carepath.synth.writer import coded, dates, ints

GROUPS = codes.TUMOUR_GROUPS
G = {g: i for i, g in enumerate(GROUPS)}
R = {r: i for i, r in enumerate(codes.ROUTES)}
STAGE_U = 4  # index of "U" in codes.STAGES
YOUNG_AGE = 30

# Emergency presentation is likelier in old age and for some sites (NDRS Routes to Diagnosis).
EP_GROUP_FACTOR = {"lung": 1.5, "upper_gi": 1.6, "brain_cns": 2.4, "haematological": 1.3,
                   "breast": 0.25, "skin": 0.1, "urological": 0.5, "gynaecological": 0.8,
                   "lower_gi": 1.2, "head_and_neck": 0.6, "other": 1.9}
EP_OLD_AGE, EP_OLD_FACTOR, EP_YOUNG_AGE, EP_YOUNG_FACTOR = 80, 1.6, 50, 0.7
EP_CAP = 0.85
# Screening route where a programme covers the site and age.
SCREEN_P = {"breast": 0.45, "lower_gi": 0.14, "cervix": 0.30}
# logit P(stage 1-2 | staged), by route and tumour group.
EARLY_ROUTE_LOGIT = {"screening": 1.9, "two_week_wait": 0.65, "gp_referral": 0.45,
                     "other_outpatient": 0.35, "inpatient_elective": -0.1, "emergency": -1.3,
                     "dco": 0.0, "unknown": 0.0}
EARLY_GROUP_LOGIT = {"breast": 0.9, "skin": 1.6, "lung": -1.1, "upper_gi": -0.9, "lower_gi": -0.3,
                     "gynaecological": 0.4, "head_and_neck": -0.2, "urological": 0.3,
                     "brain_cns": 0.0, "haematological": 0.0, "other": -0.6}
UNKNOWN_STAGE_P = {"emergency": 0.20, "dco": 1.0, "unknown": 0.5}
UNKNOWN_STAGE_BASE, UNKNOWN_STAGE_OLD, UNKNOWN_STAGE_HAEM = 0.06, 0.10, 0.55
OTHER_TRUST_SHARE = 0.10  # referrals seen outside the practice's main trust
GP_URGENT_SHARE = 0.4
OTHER_REFERRAL_SHARE = 0.15  # urgent/routine suspected-cancer referrals per USC referral
NON_USC_SEEN_MEDIAN = 24  # days to first appointment, urgent (routine: twice as long)
# Waiting-time distributions: sigma of the log-normal delays.
SIGMA_FIRST_SEEN, SIGMA_FDS, SIGMA_DTT, SIGMA_TREAT = 0.5, 0.6, 0.7, 0.55
DIAG_TO_DTT_MEDIAN = 17
# First-seen delays are capped at the diagnosis delay, which shortens them; drawing from a
# slower distribution makes the capped result meet anchors.USC_FIRST_SEEN_14_DAY.
FIRST_SEEN_WITHIN_14 = 0.70
# Treatment modalities by stage (1, 2, 3, 4, U): P(modality is used).
MODALITY_P = {
    "surgery": [0.85, 0.75, 0.45, 0.10, 0.30],
    "chemotherapy": [0.10, 0.35, 0.60, 0.55, 0.30],
    "radiotherapy": [0.30, 0.35, 0.45, 0.30, 0.20],
}
NO_TREATMENT_OLD_LATE = 0.35  # stage 4/U aged 80+: best supportive care only
GAP_MEDIAN_DAYS = 35
SURGERY_BED_DAYS_MEAN = 4
EP_BED_DAYS_MEAN = 9


@dataclass
class Tumours:
    """The tumours of a chunk, kept for care events, deaths and surveys."""

    patient: np.ndarray
    practice: np.ndarray  # chunk-local practice index
    sex: np.ndarray
    age: np.ndarray
    diagnosis: np.ndarray
    group: np.ndarray
    icd: np.ndarray  # str
    stage: np.ndarray
    route: np.ndarray
    trust: np.ndarray  # global trust index
    tumour_id: np.ndarray
    death: np.ndarray  # datetime64, NaT if alive a year after the window
    first_treatment: np.ndarray  # NaT if none in the window
    last_treatment: np.ndarray
    surgery_rows: tuple = ()  # (tumour positions, start dates) of surgery


def _scaled_rates(shape: np.ndarray, ratio_f: np.ndarray | float, per_100k: float) -> np.ndarray:
    """[sex, band] rates per person-year whose crude rate on the England profile is
    per_100k."""
    rel = np.vstack([shape, shape * ratio_f])
    eng = anchors.AGE_PROFILE_ENGLAND / anchors.AGE_PROFILE_ENGLAND.sum()
    return rel * (per_100k / 1e5) / (rel * eng).sum()


def incidence_rates() -> np.ndarray:
    return _scaled_rates(anchors.INCIDENCE_SHAPE, anchors.INCIDENCE_SEX_RATIO_F,
                         anchors.CANCER_INCIDENCE_PER_100K)


def tww_share() -> float:
    return 1.0 - sum(anchors.ROUTE_SHARES.values())


def usc_no_cancer_rates() -> np.ndarray:
    no_cancer = anchors.USC_RATE_PER_100K - tww_share() * anchors.CANCER_INCIDENCE_PER_100K
    return _scaled_rates(anchors.USC_SHAPE, anchors.USC_SEX_RATIO_F, no_cancer)


def _mix(sex: int, young: bool) -> np.ndarray:
    table = dict(anchors.TUMOUR_MIX[codes.SEX[sex]])
    if young:
        table = dict(anchors.TUMOUR_MIX_YOUNG)
        drop = ("breast", "gynaecological") if codes.SEX[sex] == "M" else ()
        for g in drop:
            table.pop(g)
    return np.array([table.get(g, 0.0) for g in GROUPS])


def _icd(rng: np.random.Generator, group: np.ndarray, sex: np.ndarray) -> np.ndarray:
    out = np.empty(len(group), dtype=object)
    for g, name in enumerate(GROUPS):
        for s, sex_code in enumerate(codes.SEX):
            mask = (group == g) & (sex == s)
            if not mask.any():
                continue
            opts = [(c, w) for c, w in anchors.ICD10_BY_GROUP[name]
                    if not (sex_code == "F" and c in anchors.MALE_ONLY_ICD)
                    and not (sex_code == "M" and c in anchors.FEMALE_ONLY_ICD)]
            weights = np.array([w for _, w in opts])
            out[mask] = np.array([c for c, _ in opts], dtype=object)[
                rng.choice(len(opts), mask.sum(), p=weights / weights.sum())]
    return out


def _routes(ch: Chunk, prac: np.ndarray, group: np.ndarray, sex: np.ndarray, age: np.ndarray,
            icd: np.ndarray) -> np.ndarray:
    rng = ch.rng
    n = len(group)
    probs = np.zeros((n, len(codes.ROUTES)))
    for name, share in anchors.ROUTE_SHARES.items():
        probs[:, R[name]] = share
    probs[:, R["screening"]] = 0.0
    probs[:, R["dco"]] *= np.where(age >= 85, 3.0, 0.5)
    ep = np.array([EP_GROUP_FACTOR[g] for g in GROUPS])[group]
    ep *= np.where(age >= EP_OLD_AGE, EP_OLD_FACTOR, np.where(age < EP_YOUNG_AGE,
                                                              EP_YOUNG_FACTOR, 1.0))
    ep = ep * ch.planted.ep_mult[ch.idx[prac]]
    # Scale so the chunk as a whole (planted practices included) meets the target.
    ep = ep / ep.mean() * anchors.EMERGENCY_PRESENTATION_TARGET if n else ep
    probs[:, R["emergency"]] = np.minimum(ep, EP_CAP)
    probs[:, R["two_week_wait"]] = np.maximum(1.0 - probs.sum(axis=1), 0.05)
    route = categorical(rng, probs)
    screen_p = np.zeros(n)
    female = sex == codes.SEX.index("F")
    screen_p[(group == G["breast"]) & female & (age >= 50) & (age <= 71)] = SCREEN_P["breast"]
    screen_p[(group == G["lower_gi"]) & (age >= 60) & (age <= 74)] = SCREEN_P["lower_gi"]
    screen_p[(icd == "C53") & (age >= 25) & (age <= 64)] = SCREEN_P["cervix"]
    screened = (rng.random(n) < screen_p) & (route != R["emergency"])
    route[screened] = R["screening"]
    return route


def _stages(ch: Chunk, prac: np.ndarray, route: np.ndarray, group: np.ndarray,
            age: np.ndarray) -> np.ndarray:
    rng = ch.rng
    n = len(route)
    route_names = np.array(codes.ROUTES)[route]
    p_unknown = np.where(age >= 85, UNKNOWN_STAGE_OLD, UNKNOWN_STAGE_BASE)
    for name, p in UNKNOWN_STAGE_P.items():
        p_unknown = np.where(route_names == name, p, p_unknown)
    p_unknown = np.where(group == G["haematological"], UNKNOWN_STAGE_HAEM, p_unknown)
    logit = (np.array([EARLY_ROUTE_LOGIT[r] for r in codes.ROUTES])[route]
             + np.array([EARLY_GROUP_LOGIT[g] for g in GROUPS])[group]
             + ch.planted.early_shift[ch.idx[prac]] - 0.3 * (age >= 80))
    early = rng.random(n) < sigmoid(logit)
    late4 = np.where(route == R["emergency"], 0.7, 0.5)
    stage = np.where(early, rng.integers(0, 2, n), np.where(rng.random(n) < late4, 3, 2))
    return np.where(rng.random(n) < p_unknown, STAGE_U, stage)


def _trust(ch: Chunk, prac: np.ndarray) -> np.ndarray:
    geo = ch.geo
    main = geo.practices.trust[ch.idx[prac]]
    per_icb = len(geo.trusts) // len(geo.icbs)
    icb = geo.practices.icb[ch.idx[prac]]
    other = icb * per_icb + ch.rng.integers(0, per_icb, len(prac))
    return np.where(ch.rng.random(len(prac)) < OTHER_TRUST_SHARE, other, main)


def simulate_cancer(ch: Chunk, ids: dict[str, int]) -> tuple[dict, Tumours]:
    """Referrals, tumours, treatments and cancer admissions for the chunk.
    ``ids`` holds the next free number per identifier and is advanced."""
    rng, win = ch.rng, ch.window
    out: dict[str, list[dict]] = {}
    pi, y, s, b = expand(rng, incidence_rates()[None, None] * ch.pop_y)
    n = len(pi)
    age = ages_in_band(rng, b)
    base = ch.event_dates(y)
    young = age < YOUNG_AGE
    mix = np.stack([[_mix(sx, yg) for yg in (False, True)] for sx in range(2)])
    group = categorical(rng, mix[s, young.astype(int)])
    icd = _icd(rng, group, s)
    route = _routes(ch, pi, group, s, age, icd)
    stage = _stages(ch, pi, route, group, age)
    trust = _trust(ch, pi)
    # Two-week-wait: the referral comes first and diagnosis follows the FDS delay.
    is_tww = route == R["two_week_wait"]
    fds_delay = lognormal_days(rng, n, anchors.FDS_28_DAY, 28, SIGMA_FDS)
    seen_delay = np.minimum(lognormal_days(rng, n, FIRST_SEEN_WITHIN_14, 14,
                                           SIGMA_FIRST_SEEN), fds_delay)
    diagnosis = np.where(is_tww, base + days(fds_delay), base)
    diagnosed = diagnosis <= win.end
    tumour_id = np.full(n, -1, dtype=np.int64)
    tumour_id[diagnosed] = ids["tumour"] + np.arange(diagnosed.sum())
    ids["tumour"] += int(diagnosed.sum())
    # Age is age at diagnosis (or at referral, while a diagnosis is pending).
    patient = ch.people.new(rng, pi, s, age, np.where(diagnosed, diagnosis, base))
    _referrals_for_tumours(ch, out, ids, pi, patient, group, route, base, seen_delay, fds_delay,
                           diagnosis, tumour_id, trust)
    _usc_no_cancer(ch, out, ids)
    keep = diagnosed
    t = Tumours(patient=patient[keep], practice=pi[keep], sex=s[keep], age=age[keep],
                diagnosis=diagnosis[keep], group=group[keep], icd=icd[keep],
                stage=stage[keep], route=route[keep], trust=trust[keep],
                tumour_id=tumour_id[keep], death=np.zeros(0), first_treatment=np.zeros(0),
                last_treatment=np.zeros(0))
    t.death = _cancer_deaths(rng, t, win.end)
    dtt = _treatments(ch, out, ids, t)
    out.setdefault("tumours", []).append({
        "tumour_id": ints(t.tumour_id), "patient_id": ints(t.patient),
        "practice_code": coded(ch.idx[t.practice], ch.geo.practices.code),
        "icd10": t.icd.astype(str), "tumour_group": coded(t.group, GROUPS),
        "stage": coded(t.stage, codes.STAGES), "route": coded(t.route, codes.ROUTES),
        "diagnosis_date": dates(t.diagnosis),
        "diagnosing_trust": coded(t.trust, ch.geo.trust_codes),
        "decision_to_treat_date": dates(dtt), "age_at_diagnosis": ints(t.age)})
    _cancer_admissions(ch, out, ids, t)
    return out, t


def _referrals_for_tumours(ch, out, ids, pi, patient, group, route, base, seen_delay,
                           fds_delay, diagnosis, tumour_id, trust) -> None:
    """USC referrals for two-week-wait cancers and urgent/routine GP referrals."""
    rng, win = ch.rng, ch.window
    is_tww = route == R["two_week_wait"]
    is_gp = route == R["gp_referral"]
    sel = is_tww | is_gp
    n = int(sel.sum())
    ref_date = np.where(is_tww, base, base - days(rng.integers(14, 90, len(base))))[sel]
    seen = np.where(is_tww, base + days(seen_delay), base - days(rng.integers(0, 14, len(base))))
    seen = seen[sel]
    fds = np.where(is_tww, base + days(fds_delay), diagnosis)[sel]
    pending = fds > win.end
    outcome = np.where(pending, codes.REFERRAL_OUTCOMES.index("pending"),
                       codes.REFERRAL_OUTCOMES.index("cancer"))
    rtype = np.where(is_tww[sel], 0, np.where(rng.random(n) < GP_URGENT_SHARE, 1, 2))
    seen_missing = seen > win.end
    out.setdefault("referrals", []).append({
        "referral_id": ints(ids["referral"] + np.arange(n)),
        "patient_id": ints(patient[sel]),
        "practice_code": coded(ch.idx[pi[sel]], ch.geo.practices.code),
        "referral_type": coded(rtype, codes.REFERRAL_TYPES),
        "suspected_site": coded(group[sel], GROUPS),
        "referral_date": dates(ref_date),
        "first_seen_date": dates(np.where(seen_missing, np.datetime64("NaT"), seen)),
        "first_seen_provider": coded(trust[sel], ch.geo.trust_codes, mask=seen_missing),
        "outcome": coded(outcome, codes.REFERRAL_OUTCOMES),
        "faster_diagnosis_date": dates(np.where(pending, np.datetime64("NaT"), fds)),
        "tumour_id": ints(tumour_id[sel], mask=tumour_id[sel] < 0)})
    ids["referral"] += n


# Suspected site of USC referrals without cancer, by sex (CWT July 2024 USC referral to
# first appointment, England, by suspected cancer; breast and gynaecological to women).
USC_SITE_MIX = {
    "M": {"skin": 0.33, "lower_gi": 0.20, "head_and_neck": 0.13, "urological": 0.16,
          "upper_gi": 0.09, "lung": 0.03, "haematological": 0.01, "brain_cns": 0.01,
          "breast": 0.01, "other": 0.03},
    "F": {"breast": 0.30, "skin": 0.23, "gynaecological": 0.17, "lower_gi": 0.12,
          "head_and_neck": 0.08, "upper_gi": 0.05, "urological": 0.02, "lung": 0.01,
          "haematological": 0.005, "brain_cns": 0.005},
}


def _usc_no_cancer(ch: Chunk, out: dict, ids: dict[str, int]) -> None:
    """Referrals that find no cancer: USC at the calibrated rate, plus urgent and routine
    referrals for suspected cancer (outside the faster-diagnosis standard)."""
    rng, win = ch.rng, ch.window
    mult = ch.planted.usc_mult[ch.idx][:, None, None, None] * (1 + OTHER_REFERRAL_SHARE)
    pi, y, s, b = expand(rng, usc_no_cancer_rates()[None, None] * ch.pop_y * mult)
    n = len(pi)
    rtype = np.where(rng.random(n) < 1 / (1 + OTHER_REFERRAL_SHARE), 0,
                     np.where(rng.random(n) < GP_URGENT_SHARE, 1, 2))
    age = ages_in_band(rng, b)
    ref = ch.event_dates(y)
    patient = ch.people.new(rng, pi, s, age, ref)
    mix = np.array([[USC_SITE_MIX[sx].get(g, 0.0) for g in GROUPS] for sx in codes.SEX])
    site = categorical(rng, mix[s])
    fds_delay = lognormal_days(rng, n, anchors.FDS_28_DAY, 28, SIGMA_FDS)
    seen = ref + days(np.minimum(lognormal_days(rng, n, FIRST_SEEN_WITHIN_14, 14,
                                                SIGMA_FIRST_SEEN), fds_delay))
    slow = ref + days(lognormal_days(rng, n, 0.5, NON_USC_SEEN_MEDIAN, 0.5)
                      * np.where(rtype == 2, 2, 1))
    seen = np.where(rtype == 0, seen, slow)
    fds = ref + days(fds_delay)
    pending = np.where(rtype == 0, fds, seen) > win.end
    seen_missing = seen > win.end
    fds_missing = pending | (rtype != 0)
    out.setdefault("referrals", []).append({
        "referral_id": ints(ids["referral"] + np.arange(n)), "patient_id": ints(patient),
        "practice_code": coded(ch.idx[pi], ch.geo.practices.code),
        "referral_type": coded(rtype, codes.REFERRAL_TYPES),
        "suspected_site": coded(site, GROUPS), "referral_date": dates(ref),
        "first_seen_date": dates(np.where(seen_missing, np.datetime64("NaT"), seen)),
        "first_seen_provider": coded(_trust(ch, pi), ch.geo.trust_codes, mask=seen_missing),
        "outcome": coded(np.where(pending, 2, 1), codes.REFERRAL_OUTCOMES),
        "faster_diagnosis_date": dates(np.where(fds_missing, np.datetime64("NaT"), fds))})
    ids["referral"] += n


def _cancer_deaths(rng: np.random.Generator, t: Tumours, end: np.datetime64) -> np.ndarray:
    """Date of death from the cancer (NaT when alive a year after the window ends)."""
    n = len(t.stage)
    p_die = np.minimum(anchors.CANCER_DEATH_PROB[t.stage] * np.where(t.age >= 75, 1.2, 1.0),
                       0.97)
    dies = rng.random(n) < p_die
    years = rng.exponential(anchors.CANCER_DEATH_MEAN_YEARS[t.stage])
    years = np.where(t.age >= 80, years * 0.6, years)
    delay = np.maximum(1, np.round(years * DAYS_PER_YEAR)).astype(np.int64)
    delay = np.where(t.route == R["dco"], 0, delay)
    dies |= t.route == R["dco"]
    death = t.diagnosis + days(delay)
    return np.where(dies & (death <= end + days(DAYS_PER_YEAR)), death, np.datetime64("NaT"))


def _modalities(rng: np.random.Generator, t: Tumours) -> np.ndarray:
    """Boolean matrix [tumour, modality] in codes.TREATMENT_MODALITIES order."""
    n = len(t.stage)
    mods = codes.TREATMENT_MODALITIES
    has = np.zeros((n, len(mods)), dtype=bool)
    for name, p in MODALITY_P.items():
        has[:, mods.index(name)] = rng.random(n) < np.array(p)[t.stage]
    haem = t.group == G["haematological"]
    has[haem, mods.index("surgery")] = rng.random(haem.sum()) < 0.03
    has[haem, mods.index("chemotherapy")] = rng.random(haem.sum()) < 0.8
    prostate = t.icd == "C61"
    hormone_p = np.where((t.group == G["breast"]) & (t.stage < 3), 0.7, np.where(prostate, 0.6,
                                                                                  0.0))
    has[:, mods.index("hormone")] = rng.random(n) < hormone_p
    immuno = np.isin(t.group, [G["lung"], G["skin"]]) & (t.stage == 3)
    has[:, mods.index("immunotherapy")] = immuno & (rng.random(n) < 0.35)
    monitor = (prostate & (t.stage < 2) & (rng.random(n) < 0.35)) | (haem & (rng.random(n) < 0.15))
    has[monitor] = False
    has[monitor, mods.index("active_monitoring")] = True
    none_yet = ~has.any(axis=1)
    has[none_yet, mods.index("other")] = True
    bsc = (t.stage >= 3) & (t.age >= 80) & (rng.random(n) < NO_TREATMENT_OLD_LATE)
    has[bsc | (t.route == R["dco"])] = False
    return has


def _treatments(ch: Chunk, out: dict, ids: dict[str, int], t: Tumours) -> np.ndarray:
    """Treatment rows (first definitive treatment flagged); returns the decision-to-treat
    dates (NaT when untreated)."""
    rng, win = ch.rng, ch.window
    n = len(t.stage)
    has = _modalities(rng, t)
    dtt = t.diagnosis + days(lognormal_days(rng, n, 0.5, DIAG_TO_DTT_MEDIAN, SIGMA_DTT))
    first = dtt + days(lognormal_days(rng, n, anchors.CWT_31_DAY_FIRST, 31, SIGMA_TREAT))
    gaps = lognormal_days(rng, n * has.shape[1], 0.5, GAP_MEDIAN_DAYS, 0.4).reshape(has.shape)
    offset = np.cumsum(np.where(has, gaps, 0), axis=1) - np.where(has, gaps, 0)
    start = first[:, None] + days(offset)
    alive = np.isnat(t.death)[:, None] | (start < t.death[:, None])
    rows = has & alive & (start <= win.end)
    is_first = rows & (np.cumsum(rows, axis=1) == 1)
    tum, mod = np.nonzero(rows)
    k = len(tum)
    radio = mod == codes.TREATMENT_MODALITIES.index("radiotherapy")
    per_icb = len(ch.geo.trusts) // len(ch.geo.icbs)
    centre = ch.geo.practices.icb[ch.idx[t.practice[tum]]] * per_icb  # radiotherapy centre
    out.setdefault("treatments", []).append({
        "treatment_id": ints(ids["treatment"] + np.arange(k)),
        "tumour_id": ints(t.tumour_id[tum]), "patient_id": ints(t.patient[tum]),
        "modality": coded(mod, codes.TREATMENT_MODALITIES), "start_date": dates(start[rows]),
        "provider_code": coded(np.where(radio, centre, t.trust[tum]), ch.geo.trust_codes),
        "first_treatment": is_first[rows]})
    ids["treatment"] += k
    treated = rows.any(axis=1)
    nat = np.datetime64("NaT")
    t.first_treatment = np.where(treated, first, nat).astype("datetime64[D]")
    last = np.where(rows, start, np.datetime64("1900-01-01")).max(axis=1)
    t.last_treatment = np.where(treated, last, nat).astype("datetime64[D]")
    t.surgery_rows = (tum[mod == 0], start[rows][mod == 0])  # for elective admissions
    return np.where(treated, dtt, nat).astype("datetime64[D]")


def _cancer_admissions(ch: Chunk, out: dict, ids: dict[str, int], t: Tumours) -> None:
    """Elective admissions for surgery and the emergency admission of an emergency
    presentation."""
    rng = ch.rng
    s_tum, s_date = t.surgery_rows
    ep = np.flatnonzero(t.route == R["emergency"])
    tum = np.concatenate([s_tum, ep])
    admit = np.concatenate([s_date, t.diagnosis[ep] - days(rng.integers(0, 3, len(ep)))])
    elective = np.arange(len(tum)) < len(s_tum)
    mean = np.where(elective, SURGERY_BED_DAYS_MEAN, EP_BED_DAYS_MEAN)
    bed = rng.geometric(1.0 / mean) - elective.astype(int)
    discharge = admit + days(bed)
    death = t.death[tum]
    cut = ~np.isnat(death) & (discharge > death)
    discharge = np.where(cut, death, discharge)
    bed = (discharge - admit).astype(np.int64)
    k = len(tum)
    out.setdefault("admissions", []).append({
        "admission_id": ints(ids["admission"] + np.arange(k)), "patient_id": ints(t.patient[tum]),
        "provider_code": coded(t.trust[tum], ch.geo.trust_codes),
        "admission_type": coded(np.where(elective, 0, 1), codes.ADMISSION_TYPES),
        "admission_date": dates(admit), "discharge_date": dates(discharge),
        "bed_days": ints(bed), "primary_diagnosis": t.icd[tum].astype(str)})
    ids["admission"] += k
