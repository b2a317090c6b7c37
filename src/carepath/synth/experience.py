"""Experience surveys (CPES-style, VOICES-style, local PREMs) and the services with their
costs, activity and payers."""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from carepath.model import codes
from carepath.synth.cancer import Tumours
from carepath.synth.context import DAYS_PER_YEAR, Chunk, days, sigmoid
from carepath.synth.geography import COUNTY_POPULATION, Geography
from carepath.synth.writer import coded, dates, ints

CPES_RESPONSE = 0.45  # share of treated patients who answer (CPES ~ 50-60% of those sent)
VOICES_RESPONSE = 0.12
PREM_RESPONSE = 0.10
TRUST_EXPERIENCE_SD = 0.25
# CPES-style evaluative questions: (question id, P(positive) nationally).
CPES_QUESTIONS = (("cns_contact", 0.91), ("diagnosis_explained", 0.76),
                  ("treated_with_respect", 0.88), ("care_plan_discussed", 0.38),
                  ("support_after_treatment", 0.66), ("gp_support", 0.60),
                  ("hospital_info", 0.80))
CPES_OVERALL_MEAN = 8.9  # overall rating of care, 0-10
VOICES_QUESTIONS = (("overall_quality", 0.75), ("pain_relief_last_days", 0.65),
                    ("right_place", 0.70))
PREM_QUESTIONS = (("involved_in_decisions", 0.82), ("knew_who_to_contact", 0.86))
# Services: (short id, name, provider kind, unit cost GBP, activity per 780,000 people,
# indicators it aims to move). Unit costs in the range of NHS reference costs / PSSRU.
SERVICES = (
    ("hah", "Hospice at home", "hospice", 180.0, 9000,
     "died_in_preferred_place;deaths_in_hospital"),
    ("rr", "Rapid response end-of-life nursing", "community", 95.0, 12000,
     "deaths_with_emergency_admission_last_90_days;emergency_bed_days_last_90_days"),
    ("cns", "Clinical nurse specialist HNA clinics", "trust", 60.0, 4000,
     "hna_within_31_days;care_plan_offered"),
    ("nav", "Cancer support workers (navigators)", "voluntary", 45.0, 6000,
     "treatment_summary_offered;patient_experience_positive"),
    ("hwb", "Health and wellbeing events", "voluntary", 30.0, 2500, "stratified_follow_up"),
    ("ipu", "Specialist palliative care inpatient unit (bed days)", "hospice", 450.0, 5000,
     "died_in_preferred_place"),
    ("epc", "End-of-life care coordination (EPaCCS) hub", "community", 35.0, 15000,
     "eol_register_before_death;preferred_place_recorded"),
    ("ssm", "Supported self-management follow-up", "trust", 25.0, 3000,
     "stratified_follow_up"),
)
COST_INFLATION = 0.03
ACTIVITY_SD = 0.08
# Who pays: (payer, share); "icb", "la" (county council) and "charity" (the provider's
# own charitable funds) are resolved per ICB.
PAYERS = {"hospice": (("icb", 0.35), ("charity", 0.65)),
          "community": (("icb", 0.85), ("la", 0.15)),
          "trust": (("icb", 1.0),),
          "voluntary": (("icb", 0.30), ("la", 0.20), ("charity", 0.50))}


def surveys(ch: Chunk, out: dict, ids: dict[str, int], t: Tumours) -> None:
    rng, win = ch.rng, ch.window
    n = len(t.stage)
    trust_effect = rng.normal(0.0, TRUST_EXPERIENCE_SD, len(ch.geo.trusts))
    when = t.first_treatment + days(rng.integers(90, 200, n))
    resp = ~np.isnat(t.first_treatment) & (rng.random(n) < CPES_RESPONSE) & (when <= win.end)
    resp &= np.isnat(t.death) | (when < t.death)
    who = np.flatnonzero(resp)
    k = len(who)
    rid = ids["respondent"] + np.arange(k)
    ids["respondent"] += k
    quint = ch.geo.practices.imd_quintile[ch.idx[t.practice[who]]]
    band = np.minimum(t.age[who] // 5, len(codes.AGE_BANDS) - 1)
    parts = []
    for q, base in CPES_QUESTIONS:
        logit = np.log(base / (1 - base)) + trust_effect[t.trust[who]]
        pos = rng.random(k) < sigmoid(logit)
        parts.append((q, np.where(pos, "yes", "no"), pos, None))
    score = np.clip(np.round(rng.normal(CPES_OVERALL_MEAN + trust_effect[t.trust[who]], 1.2)),
                    0, 10)
    parts.append(("overall", score.astype(int).astype(str), None, score))
    _write(out, "cpes", rid, t.trust[who], ch.geo.trust_codes, when[who], parts,
           sex=t.sex[who], band=band, group=t.group[who], quint=quint)


VOICES_POSITIVE_BY_PLACE = {  # overall quality / pain relief, by place of death (VOICES 2015)
    "home": (0.78, 0.60), "care_home": (0.76, 0.68), "hospice": (0.88, 0.85),
    "hospital": (0.68, 0.62), "other": (0.70, 0.55)}
VOICES_RIGHT_PLACE_NO_PREFERENCE = 0.60
VOICES_DELAY_DAYS = (120, 300)  # questionnaires reach the bereaved months after the death


def bereavement_surveys(ch: Chunk, out: dict, ids: dict[str, int], d: dict, died: np.ndarray,
                        place: np.ndarray, in_preferred: np.ndarray, stated: np.ndarray,
                        on_register: np.ndarray) -> None:
    """VOICES-style answers from the bereaved (about the place of death's provider) and
    local PREM answers from people on the EoL register (about the community provider)."""
    rng, win, geo = ch.rng, ch.window, ch.geo
    n = len(place)
    icb = geo.practices.icb[ch.idx[d["practice"]]]
    n_t, n_h = len(geo.trusts), len(geo.hospices)
    org_codes = geo.trust_codes + [c for c, _ in geo.hospices] + [c for c, _ in geo.community]
    place_name = np.array(codes.PLACES_OF_DEATH)[place]
    org = np.where(place_name == "hospital", geo.practices.trust[ch.idx[d["practice"]]],
                   np.where(place_name == "hospice", n_t + icb, n_t + n_h + icb))
    when = d["death"] + days(rng.integers(*VOICES_DELAY_DAYS, n))
    who = np.flatnonzero(died & (rng.random(n) < VOICES_RESPONSE) & (when <= win.end))
    k = len(who)
    rid = ids["respondent"] + np.arange(k)
    ids["respondent"] += k
    quality = np.array([VOICES_POSITIVE_BY_PLACE[p][0] for p in codes.PLACES_OF_DEATH])[place]
    pain = np.array([VOICES_POSITIVE_BY_PLACE[p][1] for p in codes.PLACES_OF_DEATH])[place]
    right = np.where(stated, in_preferred, rng.random(n) < VOICES_RIGHT_PLACE_NO_PREFERENCE)
    parts = []
    for q, p in (("overall_quality", quality), ("pain_relief_last_days", pain)):
        pos = rng.random(k) < p[who]
        parts.append((q, np.where(pos, "yes", "no"), pos, None))
    parts.append(("right_place", np.where(right[who], "yes", "no"), right[who], None))
    case_mix = {"sex": d["sex"][who], "band": np.minimum(d["age"][who] // 5, 18),
                "group": np.full(k, -1),
                "quint": geo.practices.imd_quintile[ch.idx[d["practice"][who]]]}
    _write(out, "voices", rid, org[who], org_codes, when[who], parts, **case_mix)
    # Local PREM: people on the register answer about community end-of-life care.
    prem_when = np.minimum(d["death"] - days(7), win.end)
    who = np.flatnonzero(on_register & (rng.random(n) < PREM_RESPONSE)
                         & (prem_when >= win.start))
    k = len(who)
    rid = ids["respondent"] + np.arange(k)
    ids["respondent"] += k
    parts = []
    for q, base in PREM_QUESTIONS:
        pos = rng.random(k) < base
        parts.append((q, np.where(pos, "yes", "no"), pos, None))
    _write(out, "local_prem", rid, n_t + n_h + icb[who], org_codes, prem_when[who], parts,
           sex=d["sex"][who], band=np.minimum(d["age"][who] // 5, 18), group=np.full(k, -1),
           quint=geo.practices.imd_quintile[ch.idx[d["practice"][who]]])


def _write(out, survey, rid, org, org_codes, when, parts, *, sex, band, group, quint) -> None:
    k = len(rid)
    missing = np.ones(k, dtype=bool)
    for q, code, positive, score in parts:
        out.setdefault("survey_responses", []).append({
            "survey": coded(np.full(k, codes.SURVEYS.index(survey)), codes.SURVEYS),
            "respondent_id": ints(rid), "org_code": coded(org, org_codes),
            "question_id": coded(np.zeros(k), (q,)), "response_code": np.asarray(code, dtype=str),
            "positive": pa.array(np.zeros(k, bool), mask=missing) if positive is None
            else pa.array(np.asarray(positive, dtype=bool)),
            "score": pa.array(np.zeros(k), mask=missing) if score is None
            else pa.array(np.asarray(score, dtype=float)),
            "response_date": dates(when),
            "sex": coded(sex, codes.SEX), "age_band": coded(band, codes.AGE_BANDS),
            "tumour_group": coded(np.maximum(group, 0), codes.TUMOUR_GROUPS, mask=group < 0),
            "imd_quintile": ints(quint)})


def services(geo: Geography, window) -> tuple[list[tuple], list[tuple]]:
    """Service rows per ICB and year, and payer shares per service and year."""
    rng = np.random.default_rng(len(geo.icbs))  # fixed: services do not depend on the seed
    rows, payers = [], []
    per_icb = len(geo.trusts) // len(geo.icbs)
    sizes = np.bincount(geo.practices.icb, weights=geo.practices.list_size)
    for i, (icb, _) in enumerate(geo.icbs):
        providers = {"hospice": geo.hospices[i][0], "community": geo.community[i][0],
                     "voluntary": geo.voluntary[i][0]}
        for j, (sid, name, kind, cost, activity, inds) in enumerate(SERVICES):
            code = providers.get(kind) or geo.trusts[i * per_icb + j % per_icb][0]
            service_id = f"SV-{icb}-{sid}"
            for y in range(window.years):
                year = window.first_fy + y
                act = activity * sizes[i] / COUNTY_POPULATION * rng.lognormal(0, ACTIVITY_SD)
                rows.append((service_id, name, code, year,
                             round(cost * (1 + COST_INFLATION) ** y, 2), round(float(act)), inds))
                for payer, share in PAYERS[kind]:
                    payer_code = {"icb": icb, "la": geo.councils[i][0], "charity": code}[payer]
                    payers.append((service_id, year, payer_code, share))
    return rows, payers


__all__ = ["DAYS_PER_YEAR", "services", "surveys"]
