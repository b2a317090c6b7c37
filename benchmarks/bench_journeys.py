"""Journeys benchmark: one person's journey page (issue target <= 100 ms) and all
"fell between services" counts (target: England workspace <= 60 s), on a generated workspace
of ~1.4 million journey events (quick: ~140,000), on synthetic Wessex, and (with
CAREPATH_BENCH_ENGLAND=1) on synthetic England. No peer tool exists for these, so ``peer``
is empty; without the England run its figure is extrapolated."""

from __future__ import annotations

import os
import shutil
import statistics
import tempfile
import time
from datetime import date
from pathlib import Path

from carepath.domain.journeys.gaps import fell_between_counts
from carepath.domain.journeys.timeline import person_timeline
from carepath.workspace import Workspace

PEOPLE = {True: 20_000, False: 200_000}
JOURNEY_TARGET_S = 0.100
FELL_BETWEEN_TARGET_S = 60.0
# England: ~400,000 new cancers a year over five years, ~7 journey events each.
ENGLAND_EVENTS = 2_000_000 * 7
JOURNEY_SAMPLES = 25
ENGLAND_ENV = "CAREPATH_BENCH_ENGLAND"
# England's population over synthetic Wessex's (~57 million / ~780,000).
ENGLAND_OVER_WESSEX = 57_000_000 / 780_000
START, END, AS_OF = date(2020, 1, 1), date(2024, 12, 31), date(2025, 3, 31)

_FILL = [
    """INSERT INTO patients (patient_id, sex, year_of_birth, practice_code, imd_quintile)
       SELECT 'p' || i, CASE WHEN i % 2 = 0 THEN 'F' ELSE 'M' END, 1930 + i % 60,
              'P' || i % 900, 1 + i % 5 FROM range($n) r(i)""",
    """INSERT INTO org_hierarchy SELECT 'P' || i, 'L' || i % 13, 'locality',
              DATE '2015-01-01', NULL FROM range(900) r(i)""",
    """INSERT INTO tumours (tumour_id, patient_id, practice_code, icd10, tumour_group, stage,
              route, diagnosis_date, diagnosing_trust, age_at_diagnosis)
       SELECT 't' || i, 'p' || i, 'P' || i % 900, 'C50', 'breast', '2', 'gp_referral',
              DATE '2020-01-01' + INTERVAL (hash(i) % 1800) DAY, 'T' || i % 12, 40 + i % 50
       FROM range($n) r(i)""",
    """INSERT INTO referrals (referral_id, patient_id, practice_code, referral_type,
              referral_date, faster_diagnosis_date, outcome, tumour_id)
       SELECT 'r' || tumour_id, patient_id, practice_code, 'usc',
              diagnosis_date - INTERVAL (hash(tumour_id) % 40) DAY, diagnosis_date, 'cancer',
              tumour_id FROM tumours""",
    """INSERT INTO treatments SELECT 'x' || tumour_id, tumour_id, patient_id, 'surgery',
              diagnosis_date + INTERVAL (hash(tumour_id) % 60) DAY, diagnosing_trust, TRUE
       FROM tumours""",
    """INSERT INTO care_events (event_id, patient_id, tumour_id, event_type, event_date,
              provider_code, cosd_status)
       SELECT 'e' || t.tumour_id || '_' || k, t.patient_id, t.tumour_id,
              ['hna', 'care_plan', 'treatment_summary', 'cancer_care_review'][k + 1],
              t.diagnosis_date + INTERVAL (k * 80 + hash(t.tumour_id || k) % 90) DAY,
              t.diagnosing_trust, 'offered_accepted'
       FROM tumours t, range(4) r(k) WHERE hash(t.tumour_id || 'e' || k) % 10 < 8""",
    """INSERT INTO admissions (admission_id, patient_id, provider_code, admission_type,
              admission_date, discharge_date, bed_days)
       SELECT 'a' || tumour_id, patient_id, diagnosing_trust, 'emergency',
              diagnosis_date + INTERVAL (hash(tumour_id || 'a') % 300) DAY,
              diagnosis_date + INTERVAL (hash(tumour_id || 'a') % 300 + 3) DAY, 3
       FROM tumours WHERE hash(tumour_id) % 3 = 0""",
    """INSERT INTO deaths (patient_id, practice_code, date_of_death, place_of_death)
       SELECT patient_id, practice_code, diagnosis_date + INTERVAL 400 DAY, 'hospital'
       FROM tumours WHERE hash(tumour_id) % 7 = 0""",
    """INSERT INTO eol_register SELECT patient_id, practice_code,
              date_of_death - INTERVAL 30 DAY, NULL FROM deaths WHERE hash(patient_id) % 2 = 0""",
]
_EVENT_TABLES = ("referrals", "treatments", "care_events", "admissions", "eol_register",
                 "tumours", "deaths")


def build(path: Path, people: int) -> tuple[Workspace, int]:
    ws = Workspace.init(path)
    with ws.transaction() as con:
        for sql in _FILL:
            con.execute(sql, {"n": people} if "$n" in sql else None)
        events = sum(con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                     for t in _EVENT_TABLES)
    return ws, events


def _time(fn) -> float:
    started = time.perf_counter()
    fn()
    return time.perf_counter() - started


def _wessex_rows(tmp: Path) -> list[dict]:
    """The same two measures on the synthetic county (real distributions, smaller)."""
    try:
        from carepath.synth.generator import SynthOptions, synthesise
    except ImportError:
        return []
    ws = synthesise(tmp / "wessex", SynthOptions()).workspace
    with ws.connect() as con:
        people = [r[0] for r in con.execute(
            "SELECT patient_id FROM tumours ORDER BY hash(tumour_id) LIMIT ?",
            [JOURNEY_SAMPLES]).fetchall()]
        person_timeline(ws, people[0], actor="bench", con=con, can_see_person_level=True)
        journey = statistics.median(
            _time(lambda p=p: person_timeline(ws, p, actor="bench", con=con,
                                              can_see_person_level=True)) for p in people)
        start, end = con.execute("SELECT min(diagnosis_date), max(diagnosis_date) "
                                 "FROM tumours").fetchone()
        gaps = min(_time(lambda: fell_between_counts(con, start=start, end=end, as_of=end))
                   for _ in range(2))
    return [
        {"benchmark": "synthetic Wessex (5 years): journey page, median of "
                      f"{JOURNEY_SAMPLES} people with cancer", "value": journey, "unit": "s",
         "target": JOURNEY_TARGET_S, "peer": None, "ratio": None},
        {"benchmark": "synthetic Wessex (5 years): all fell-between-services counts",
         "value": gaps, "unit": "s", "target": None, "peer": None, "ratio": None},
        {"benchmark": f"same, extrapolated to England by population "
                      f"(x{ENGLAND_OVER_WESSEX:.0f})", "value": gaps * ENGLAND_OVER_WESSEX,
         "unit": "s", "target": FELL_BETWEEN_TARGET_S, "peer": None, "ratio": None},
    ]


def _england_rows() -> list[dict]:
    """On the synthetic England workspace of bench_indicators (5 years, 76 million rows;
    about 6 minutes to build once, then cached): only when CAREPATH_BENCH_ENGLAND=1, so
    `make bench` stays short. Viewing journeys adds audit rows to that cached workspace."""
    if os.environ.get(ENGLAND_ENV) != "1":
        return []
    from benchmarks.bench_indicators import _workspace

    ws = Workspace.open(_workspace("england"))
    with ws.connect() as con:
        start, end = con.execute("SELECT min(diagnosis_date), max(diagnosis_date) "
                                 "FROM tumours").fetchone()
        gaps = _time(lambda: fell_between_counts(con, start=start, end=end, as_of=end))
        people = [r[0] for r in con.execute(
            "SELECT patient_id FROM tumours ORDER BY hash(tumour_id) LIMIT ?",
            [JOURNEY_SAMPLES]).fetchall()]
        person_timeline(ws, people[0], actor="bench", con=con, can_see_person_level=True)
        journey = statistics.median(
            _time(lambda p=p: person_timeline(ws, p, actor="bench", con=con,
                                              can_see_person_level=True)) for p in people)
    label = "synthetic England (5 years)"
    return [
        {"benchmark": f"{label}: journey page", "value": journey, "unit": "s",
         "target": JOURNEY_TARGET_S, "peer": None, "ratio": None},
        {"benchmark": f"{label}: all fell-between-services counts", "value": gaps,
         "unit": "s", "target": FELL_BETWEEN_TARGET_S, "peer": None, "ratio": None},
    ]


def run(quick: bool) -> list[dict]:
    tmp = Path(tempfile.mkdtemp(prefix="bench-journeys-"))
    try:
        ws, events = build(tmp / "ws", PEOPLE[quick])
        people = [f"p{i * 7919 % PEOPLE[quick]}" for i in range(JOURNEY_SAMPLES)]
        # Cold: the CLI opens the database for each view. Warm: the web server keeps one
        # connection open and passes it in (the journey page).
        person_timeline(ws, people[0], actor="bench", can_see_person_level=True)  # indexes
        cold = statistics.median(
            _time(lambda p=p: person_timeline(ws, p, actor="bench", can_see_person_level=True))
            for p in people)
        with ws.connect() as con:
            journey = statistics.median(
                _time(lambda p=p: person_timeline(ws, p, actor="bench", con=con,
                                                  can_see_person_level=True)) for p in people)
        with ws.connect(read_only=True) as con:
            gaps = min(_time(lambda: fell_between_counts(con, start=START, end=END,
                                                         as_of=AS_OF)) for _ in range(2))
        county = [] if quick else _wessex_rows(tmp) + _england_rows()
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    england = gaps * ENGLAND_EVENTS / events
    return [
        {"benchmark": f"journey page for one person (timeline + audit on the server's open "
                      f"connection), median of {JOURNEY_SAMPLES}, {events:,} events",
         "value": journey, "unit": "s", "target": JOURNEY_TARGET_S, "peer": None,
         "ratio": None},
        {"benchmark": "same from the CLI (opens the database each time)",
         "value": cold, "unit": "s", "target": None, "peer": None, "ratio": None},
        {"benchmark": f"all fell-between-services counts over {events:,} events",
         "value": gaps, "unit": "s", "target": None, "peer": None, "ratio": None},
        {"benchmark": f"same, extrapolated linearly to England (~{ENGLAND_EVENTS:,} events)",
         "value": england, "unit": "s", "target": FELL_BETWEEN_TARGET_S, "peer": None,
         "ratio": None},
        *county,
    ]


if __name__ == "__main__":
    for row in run(quick=False):
        print(row)
