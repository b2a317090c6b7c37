"""Co-production records (workstreams, co-design events, participants, pledges,
co-designed outcomes) and practice deprivation scores for each ICB.

Small tables, made from tuples; one Generator seeded apart from the event streams so
adding them never changes the person-level data.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np

from carepath.synth.geography import Geography

WORKSTREAMS = (
    ("Living well with and beyond cancer", "personalised_care",
     ("hna_within_31_days", "care_plan_offered", "stratified_follow_up")),
    ("Early diagnosis", "early_diagnosis",
     ("emergency_presentation_pct", "early_stage_known", "screening_bowel_60_74")),
    ("End-of-life care coordination", "end_of_life",
     ("died_in_preferred_place", "eol_register_before_death", "preferred_place_recorded")),
    ("Experience of care", "experience",
     ("patient_experience_positive", "voices_overall_quality")),
)
STAGES = ("needs_assessment", "service_design", "pledge_and_design", "contract_negotiation",
          "monitoring_review")
GROUPS = ("patients", "carers", "clinicians", "providers", "voluntary_sector", "commissioners")
GROUP_MEAN = (9, 5, 6, 4, 3, 3)
PLEDGES = ("Offer every patient an HNA within 31 days of diagnosis",
           "Record preferred place of death for everyone on the register",
           "Run quarterly health and wellbeing events",
           "Share end-of-treatment summaries with the practice within 2 weeks",
           "Review every emergency presentation at the practice meeting",
           "Provide a single point of contact out of hours")
PLEDGE_STATUS = ("made", "in_progress", "met", "lapsed")
EVENTS_PER_WORKSTREAM = 3


def coproduction_rows(geo: Geography, rng: np.random.Generator, first_fy: int,
                      end: date) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {k: [] for k in (
        "coproduction_workstreams", "coproduction_events", "coproduction_participants",
        "pledges", "codesigned_outcomes")}
    start = date(first_fy, 4, 1)
    span = (end - start).days
    for i, (icb, _) in enumerate(geo.icbs):
        providers = [geo.hospices[i][0], geo.community[i][0], geo.voluntary[i][0]] + [
            c for t, (c, _) in enumerate(geo.trusts) if t * len(geo.icbs) // len(geo.trusts) == i]
        for w, (title, domain, outcomes) in enumerate(WORKSTREAMS):
            wid = f"WS-{icb}-{w + 1}"
            progress = float(rng.integers(10, 101))
            status = "complete" if progress == 100 else "active"
            out["coproduction_workstreams"].append(
                (wid, title, "Programme lead", icb, domain, status, progress, end))
            for e in range(EVENTS_PER_WORKSTREAM):
                eid = f"EV-{icb}-{w + 1}-{e + 1}"
                when = start + timedelta(days=int(rng.integers(0, span)))
                stage = STAGES[min(e + int(rng.integers(0, 2)), len(STAGES) - 1)]
                out["coproduction_events"].append(
                    (eid, f"{title}: {stage.replace('_', ' ')}", when,
                     stage, wid, "Community hall"))
                for g, mean in zip(GROUPS, GROUP_MEAN, strict=True):
                    out["coproduction_participants"].append(
                        (eid, g, int(rng.poisson(mean)) + 1))
                if stage == "pledge_and_design":
                    for p, org in enumerate(rng.choice(providers, 2, replace=False)):
                        due = when + timedelta(days=180)
                        out["pledges"].append(
                            (f"PL-{icb}-{w + 1}-{e + 1}-{p + 1}", str(org),
                             PLEDGES[int(rng.integers(len(PLEDGES)))],
                             PLEDGE_STATUS[int(rng.integers(len(PLEDGE_STATUS)))], eid, wid,
                             when, due, min(due, end)))
            for outcome in outcomes:
                out["codesigned_outcomes"].append(
                    (outcome, f"EV-{icb}-{w + 1}-1", wid, "agreed with patients and carers"))
    return out


def deprivation_rows(geo: Geography) -> list[tuple]:
    """Practice and PCN IMD 2019 scores (PCN: list-size weighted), with deciles."""
    p = geo.practices
    rows = []
    cuts = np.quantile(p.imd_score, np.linspace(0.1, 0.9, 9))
    for i in range(len(p)):
        decile = 10 - int(np.searchsorted(cuts, p.imd_score[i]))  # 1 = most deprived
        rows.append(("synth", p.code[i], p.name[i], "practice", 2019, "imd", "score",
                     float(p.imd_score[i]), decile))
    weights = np.bincount(p.pcn, weights=p.list_size)
    scores = np.bincount(p.pcn, weights=p.list_size * p.imd_score) / np.maximum(weights, 1)
    for c, (code, name) in enumerate(geo.pcns):
        rows.append(("synth", code, name, "pcn", 2019, "imd", "score", round(float(scores[c]), 2),
                     None))
    return rows

