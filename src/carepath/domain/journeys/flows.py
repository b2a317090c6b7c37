"""Routes through the pathway, as flows between stages for a Sankey-style diagram:
route to diagnosis -> first treatment -> follow-up pathway -> outcome (alive, or place of
death). Counts of tumours; counts are aggregate, so disclosure control applies downstream.
"""

from __future__ import annotations

import itertools
from datetime import date

import duckdb
import pandas as pd

from carepath.domain.journeys._shared import check_period

STAGES = ("route", "first_treatment", "follow_up", "outcome")

_PATHS = """
SELECT t.tumour_id,
       t.route AS route,
       coalesce((SELECT arg_min(x.modality, x.start_date) FROM treatments x
                 WHERE x.tumour_id = t.tumour_id), 'no_treatment') AS first_treatment,
       coalesce((SELECT arg_max(e.follow_up_pathway, e.event_date) FROM care_events e
                 WHERE e.patient_id = t.patient_id AND e.event_type = 'follow_up_pathway'
                   AND e.event_date >= t.diagnosis_date), 'none_recorded') AS follow_up,
       CASE WHEN d.patient_id IS NULL THEN 'alive' ELSE 'died_' || d.place_of_death END
         AS outcome
FROM tumours t LEFT JOIN deaths d ON d.patient_id = t.patient_id
WHERE t.diagnosis_date BETWEEN $start AND $end
"""


def pathway_flows(con: duckdb.DuckDBPyConnection, *, start: date, end: date) -> pd.DataFrame:
    """Edges: from_stage, source, to_stage, target, tumours."""
    check_period(start, end, "pathway flows")
    edges = " UNION ALL ".join(
        f"SELECT '{a}' AS from_stage, {a} AS source, '{b}' AS to_stage, {b} AS target "
        f"FROM paths" for a, b in itertools.pairwise(STAGES))
    return con.execute(f"""
        WITH paths AS ({_PATHS}), e AS ({edges})
        SELECT from_stage, source, to_stage, target, count(*) AS tumours
        FROM e GROUP BY ALL ORDER BY from_stage, source, to_stage, target
    """, {"start": start, "end": end}).df()
