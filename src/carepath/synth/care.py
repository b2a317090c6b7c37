"""Personalised care (Recovery Package): holistic needs assessments with scored concerns,
care and support plans, end-of-treatment summaries, cancer care reviews, health and
wellbeing events and the follow-up pathway, with COSD offered/declined status."""

from __future__ import annotations

import numpy as np

from carepath.model import codes
from carepath.synth import anchors
from carepath.synth.cancer import GROUPS, G, Tumours
from carepath.synth.context import Chunk, categorical, days, sigmoid
from carepath.synth.writer import coded, dates, ints

EV = {e: i for i, e in enumerate(codes.CARE_EVENT_TYPES)}
COSD = {c: i for i, c in enumerate(codes.COSD_STATUS)}
# Offered HNA: accepted / declined / undecided / unable (COSD v9 order).
OFFERED_SPLIT = np.array([0.72, 0.18, 0.05, 0.05])
HNA_NO_RECORD = 0.08  # trusts that send no HNA data for a patient: missing, not "not offered"
HNA_GROUP_LOGIT = {"breast": 0.5, "lower_gi": 0.2, "lung": 0.1, "gynaecological": 0.2,
                   "urological": -0.3, "skin": -0.7, "haematological": -0.4, "upper_gi": 0.0,
                   "head_and_neck": 0.0, "brain_cns": -0.2, "other": -0.6}
HNA_BASE_LOGIT = float(np.log(anchors.HNA_OFFERED_TARGET / (1 - anchors.HNA_OFFERED_TARGET))) + 0.55
CARE_PLAN_AFTER_HNA = 0.85
SECOND_HNA = 0.30
TREATMENT_SUMMARY = 0.55
CANCER_CARE_REVIEW = 0.85
HEALTH_WELLBEING = {"breast": 0.35, "lower_gi": 0.25, "urological": 0.25, "gynaecological": 0.2}
HEALTH_WELLBEING_OTHER = 0.10
SELF_MANAGEMENT = {"breast": 0.70, "lower_gi": 0.50, "urological": 0.60}
CONCERNS_MEAN_EXTRA, CONCERNS_MAX, SCORE_P = 3.0, 10, 0.45
# The Macmillan concerns checklist, shortened: (domain, concern, how common).
CHECKLIST = (
    ("physical", "fatigue", 5.0), ("physical", "pain", 3.0), ("physical", "sleep", 3.0),
    ("physical", "breathing", 1.5), ("physical", "eating_appetite", 2.0),
    ("physical", "mobility", 1.5), ("practical", "housework", 1.5),
    ("practical", "transport", 1.0), ("practical", "work_education", 1.2),
    ("practical", "caring_responsibilities", 0.8), ("emotional", "worry_anxiety", 5.0),
    ("emotional", "sadness_depression", 2.5), ("emotional", "anger_frustration", 1.2),
    ("emotional", "loss_of_interest", 1.0), ("family", "partner", 1.0),
    ("family", "children", 1.0), ("family", "other_relatives", 0.6),
    ("spiritual", "faith", 0.4), ("spiritual", "meaning_purpose", 0.7),
    ("financial", "money_housing", 2.0), ("financial", "benefits", 1.0),
    ("lifestyle", "diet_nutrition", 1.2), ("lifestyle", "exercise", 1.0),
    ("lifestyle", "smoking_alcohol", 0.5),
)


class _Events:
    def __init__(self) -> None:
        self.parts: list[tuple] = []

    def add(self, tum, etype, when, provider, cosd=None, pathway=None) -> None:
        n = len(tum)
        self.parts.append((tum, np.full(n, etype), when, provider,
                           np.full(n, -1) if cosd is None else cosd,
                           np.full(n, -1) if pathway is None else pathway))


def simulate_care(ch: Chunk, out: dict, ids: dict[str, int], t: Tumours) -> None:
    rng, win = ch.rng, ch.window
    n = len(t.stage)
    geo = ch.geo
    trust_orgs = len(geo.trusts)
    practice_org = trust_orgs + ch.idx[t.practice]  # provider index space: trusts, practices
    voluntary_org = trust_orgs + len(geo.practices) + geo.practices.icb[ch.idx[t.practice]]
    alive_at = lambda when: np.isnat(t.death) | (when < t.death)
    ev = _Events()
    # HNA: offered with probability varying by trust (planted low trust) and tumour group.
    logit = (HNA_BASE_LOGIT + ch.planted.hna_trust_shift[t.trust]
             + np.array([HNA_GROUP_LOGIT[g] for g in GROUPS])[t.group])
    offered = rng.random(n) < sigmoid(logit)
    recorded = rng.random(n) >= HNA_NO_RECORD
    hna_date = t.diagnosis + days(rng.gamma(2.0, 8.0, n).astype(np.int64))
    status = np.where(offered, categorical(rng, np.tile(OFFERED_SPLIT, (n, 1))),
                      COSD["not_offered"])
    sel = recorded & alive_at(hna_date) & (hna_date <= win.end)
    ev.add(np.flatnonzero(sel), EV["hna"], hna_date[sel], t.trust[sel], status[sel])
    accepted = sel & (status == COSD["offered_accepted"])
    # Care and support plan after an accepted HNA.
    plan = accepted & (rng.random(n) < CARE_PLAN_AFTER_HNA)
    plan_date = hna_date + days(rng.integers(0, 15, n))
    plan &= plan_date <= win.end
    ev.add(np.flatnonzero(plan), EV["care_plan"], plan_date[plan], t.trust[plan],
           np.full(plan.sum(), COSD["offered_accepted"]))
    # A second HNA at the end of treatment.
    treated = ~np.isnat(t.last_treatment)
    end_tx = np.where(treated, t.last_treatment, t.diagnosis + days(90))
    second = accepted & treated & (rng.random(n) < SECOND_HNA)
    second_date = end_tx + days(rng.integers(14, 60, n))
    second &= (second_date <= win.end) & alive_at(second_date)
    ev.add(np.flatnonzero(second), EV["hna"], second_date[second], t.trust[second],
           np.full(second.sum(), COSD["offered_accepted"]))
    # End-of-treatment summary.
    eots_date = end_tx + days(rng.integers(20, 90, n))
    eots = treated & (rng.random(n) < TREATMENT_SUMMARY) & alive_at(eots_date)
    eots &= eots_date <= win.end
    ev.add(np.flatnonzero(eots), EV["treatment_summary"], eots_date[eots], t.trust[eots],
           np.full(eots.sum(), COSD["offered_accepted"]))
    # Cancer care review by the practice within a year of diagnosis.
    ccr_date = t.diagnosis + days(rng.integers(60, 366, n))
    ccr = (rng.random(n) < CANCER_CARE_REVIEW) & alive_at(ccr_date) & (ccr_date <= win.end)
    ev.add(np.flatnonzero(ccr), EV["cancer_care_review"], ccr_date[ccr], practice_org[ccr])
    # Health and wellbeing event, run by the voluntary-sector provider.
    p_hw = np.array([HEALTH_WELLBEING.get(g, HEALTH_WELLBEING_OTHER) for g in GROUPS])[t.group]
    hw_date = end_tx + days(rng.integers(30, 180, n))
    hw = (rng.random(n) < p_hw) & alive_at(hw_date) & (hw_date <= win.end)
    ev.add(np.flatnonzero(hw), EV["health_wellbeing"], hw_date[hw], voluntary_org[hw])
    # Stratified follow-up pathway for breast, colorectal and prostate cancers.
    p_ssm = np.array([SELF_MANAGEMENT.get(g, -1.0) for g in GROUPS])[t.group]
    prostate_or_other = (t.group != G["urological"]) | (t.icd == "C61")
    fu_date = end_tx + days(90)
    fu = ((p_ssm >= 0) & prostate_or_other & (t.stage < 3) & alive_at(fu_date)
          & (fu_date <= win.end))
    path = np.where(rng.random(n) < p_ssm, 0, 1)
    ev.add(np.flatnonzero(fu), EV["follow_up_pathway"], fu_date[fu], t.trust[fu],
           pathway=path[fu])
    _write_events(ch, out, ids, t, ev)


def _write_events(ch: Chunk, out: dict, ids: dict[str, int], t: Tumours, ev: _Events) -> None:
    geo = ch.geo
    parts = list(zip(*ev.parts, strict=True))
    tum, etype, when, provider, cosd, pathway = (np.concatenate(p) for p in parts)
    # Date order inside the chunk makes identifiers follow time, as a register would.
    order = np.lexsort((etype, tum, when))
    tum, etype, when, provider, cosd, pathway = (a[order] for a in
                                                 (tum, etype, when, provider, cosd, pathway))
    k = len(tum)
    event_ids = ids["event"] + np.arange(k)
    ids["event"] += k
    provider_codes = geo.trust_codes + list(geo.practices.code) + [c for c, _ in geo.voluntary]
    out.setdefault("care_events", []).append({
        "event_id": ints(event_ids), "patient_id": ints(t.patient[tum]),
        "tumour_id": ints(t.tumour_id[tum]), "event_type": coded(etype, codes.CARE_EVENT_TYPES),
        "event_date": dates(when),
        "provider_code": coded(provider, provider_codes),
        "cosd_status": coded(np.maximum(cosd, 0), codes.COSD_STATUS, mask=cosd < 0),
        "follow_up_pathway": coded(np.maximum(pathway, 0), codes.FOLLOW_UP_PATHWAYS,
                                   mask=pathway < 0)})
    hna = (etype == EV["hna"]) & (cosd == COSD["offered_accepted"])
    _concerns(ch, out, event_ids[hna])


def _concerns(ch: Chunk, out: dict, event_ids: np.ndarray) -> None:
    """Scored concerns of each completed HNA: 1-10 distinct checklist items (Gumbel top-k
    sampling by how common each concern is), scores 1-10."""
    rng = ch.rng
    n = len(event_ids)
    weights = np.log(np.array([w for _, _, w in CHECKLIST]))
    keys = weights[None, :] + rng.gumbel(size=(n, len(CHECKLIST)))
    ranked = np.argsort(-keys, axis=1)
    k = np.minimum(1 + rng.poisson(CONCERNS_MEAN_EXTRA, n), CONCERNS_MAX)
    take = np.arange(len(CHECKLIST))[None, :] < k[:, None]
    row, _ = np.nonzero(take)
    item = ranked[take]
    domains = np.array([d for d, _, _ in CHECKLIST])
    names = tuple(c for _, c, _ in CHECKLIST)
    out.setdefault("hna_concerns", []).append({
        "event_id": ints(event_ids[row]),
        "domain": coded(np.array([codes.HNA_DOMAINS.index(d) for d in domains])[item],
                        codes.HNA_DOMAINS),
        "concern": coded(item, names),
        "score": ints(1 + rng.binomial(9, SCORE_P, len(item)))})
