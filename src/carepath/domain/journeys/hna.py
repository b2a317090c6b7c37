"""The most common concerns raised in holistic needs assessments, by domain and tumour group.

A concern counts as *raised* when scored at or above ``CONCERN_THRESHOLD`` (0-10 scale). The
share is out of the HNAs completed for that tumour group in the period, so a domain nobody
scored still shows a true zero for groups that had assessments.
"""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from carepath.domain.journeys._shared import check_period, with_wilson
from carepath.model.codes import HNA_DOMAINS

CONCERN_THRESHOLD = 5
DEFAULT_TOP = 5

_HNAS = """
SELECT e.event_id, coalesce(t.tumour_group, pt.tumour_group, 'unknown') AS tumour_group
FROM care_events e
LEFT JOIN tumours t ON t.tumour_id = e.tumour_id
LEFT JOIN (SELECT patient_id, arg_min(tumour_group, diagnosis_date) AS tumour_group
           FROM tumours GROUP BY patient_id) pt ON pt.patient_id = e.patient_id
WHERE e.event_type = 'hna' AND e.event_date BETWEEN $start AND $end
  AND EXISTS (SELECT 1 FROM hna_concerns c WHERE c.event_id = e.event_id)
"""


def concerns_by_domain(con: duckdb.DuckDBPyConnection, *, start: date, end: date,
                       threshold: int = CONCERN_THRESHOLD) -> pd.DataFrame:
    """tumour_group x domain: HNAs, HNAs raising a concern in the domain, share (Wilson CI),
    mean score among scored concerns, and the domain's rank within the tumour group."""
    check_period(start, end, "HNA concerns")
    domains = " UNION ALL ".join(f"SELECT '{d}' AS domain" for d in HNA_DOMAINS)
    df = con.execute(f"""
        WITH h AS ({_HNAS}),
        hd AS (SELECT h.event_id, h.tumour_group, c.domain, max(c.score) AS top_score,
                      sum(c.score) AS score_sum, count(*) AS scored
               FROM h JOIN hna_concerns c USING (event_id) GROUP BY ALL),
        hd_all AS (SELECT * FROM hd UNION ALL
                   SELECT event_id, 'all', domain, top_score, score_sum, scored FROM hd),
        groups AS (SELECT tumour_group, count(*) AS assessments FROM h GROUP BY ALL
                   UNION ALL SELECT 'all', count(*) FROM h)
        SELECT g.tumour_group, d.domain, any_value(g.assessments) AS assessments,
               count(hd_all.event_id) FILTER (WHERE hd_all.top_score >= $thr) AS raised,
               sum(hd_all.score_sum) / sum(hd_all.scored) AS mean_score
        FROM groups g CROSS JOIN ({domains}) d
        LEFT JOIN hd_all ON hd_all.tumour_group = g.tumour_group AND hd_all.domain = d.domain
        WHERE g.assessments > 0
        GROUP BY g.tumour_group, d.domain
    """, {"start": start, "end": end, "thr": threshold}).df()
    df = with_wilson(df, "raised", "assessments")
    df["rank"] = df.groupby("tumour_group")["raised"].rank(method="min", ascending=False)
    return df.sort_values(["tumour_group", "rank", "domain"]).reset_index(drop=True)


def top_concerns(con: duckdb.DuckDBPyConnection, *, start: date, end: date,
                 top: int = DEFAULT_TOP, threshold: int = CONCERN_THRESHOLD) -> pd.DataFrame:
    """The ``top`` named concerns per tumour group, by how many HNAs raised them."""
    check_period(start, end, "HNA concerns")
    if top < 1:
        raise ValueError(f"top must be >= 1, got {top}")
    return con.execute(f"""
        WITH h AS ({_HNAS}),
        counted AS (
          SELECT h.tumour_group, c.domain, coalesce(c.concern, '(unnamed)') AS concern,
                 count(DISTINCT c.event_id) AS raised
          FROM h JOIN hna_concerns c USING (event_id) WHERE c.score >= $thr GROUP BY ALL)
        SELECT * FROM counted
        QUALIFY row_number() OVER (PARTITION BY tumour_group
                                   ORDER BY raised DESC, domain, concern) <= $top
        ORDER BY tumour_group, raised DESC, domain, concern
    """, {"start": start, "end": end, "thr": threshold, "top": top}).df()
