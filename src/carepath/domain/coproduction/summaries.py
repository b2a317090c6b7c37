"""Read models for co-production: participation by group, pledges by status (with overdue
ones), workstream progress, and where each outcome was co-designed."""

from __future__ import annotations

from datetime import date

import duckdb
import pandas as pd

from carepath.model import schema

# Lived experience: the groups whose voice co-production exists to bring in.
LIVED_EXPERIENCE_GROUPS = ("patients", "carers")
OPEN_PLEDGE_STATUSES = ("made", "in_progress")


def _has_tables(con: duckdb.DuckDBPyConnection) -> bool:
    names = {t.name for t in schema.COPRODUCTION_TABLES}
    found = con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    return names <= {r[0] for r in found}


def participation(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """One row per event: date, stage, workstream, people per group, total, and the share
    with lived experience (patients and carers)."""
    groups = schema.PARTICIPANT_GROUPS
    cols = ["event_id", "title", "event_date", "stage", "workstream_id", *groups, "total",
            "lived_experience_share"]
    if not _has_tables(con):
        return pd.DataFrame(columns=cols)
    per_group = ", ".join(
        f"coalesce(sum(p.participants) FILTER (WHERE p.participant_group = '{g}'), 0) "
        f"AS {g}" for g in groups)
    lived = ", ".join(f"'{g}'" for g in LIVED_EXPERIENCE_GROUPS)
    df = con.execute(f"""
        SELECT e.event_id, e.title, e.event_date, e.stage, e.workstream_id, {per_group},
               coalesce(sum(p.participants), 0) AS total,
               sum(p.participants) FILTER (WHERE p.participant_group IN ({lived}))
                 / nullif(sum(p.participants), 0) AS lived_experience_share
        FROM coproduction_events e
        LEFT JOIN coproduction_participants p USING (event_id)
        GROUP BY ALL ORDER BY e.event_date, e.event_id
    """).df()
    return df[cols]


def pledges_by_status(con: duckdb.DuckDBPyConnection, *, as_of: date) -> pd.DataFrame:
    """Per organisation: pledges in each status, and how many open pledges are overdue."""
    statuses = schema.PLEDGE_STATUSES
    if not _has_tables(con):
        return pd.DataFrame(columns=["org_code", "org_name", *statuses, "overdue"])
    counts = ", ".join(f"count(*) FILTER (WHERE status = '{s}') AS {s}" for s in statuses)
    open_ = ", ".join(f"'{s}'" for s in OPEN_PLEDGE_STATUSES)
    return con.execute(f"""
        SELECT p.org_code, arg_max(o.name, o.valid_from) AS org_name, {counts},
               count(*) FILTER (WHERE status IN ({open_}) AND due_date < $as_of) AS overdue
        FROM pledges p LEFT JOIN organisations o ON o.org_code = p.org_code
        GROUP BY p.org_code ORDER BY p.org_code
    """, {"as_of": as_of}).df()


def workstream_progress(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Workstreams with lead, status, progress, and counts of their events, participants,
    pledges (and pledges met) and co-designed outcomes."""
    cols = ["workstream_id", "name", "lead", "outcome_domain", "status", "progress_pct",
            "updated_on", "events", "participants", "pledges", "pledges_met", "outcomes"]
    if not _has_tables(con):
        return pd.DataFrame(columns=cols)
    return con.execute("""
        SELECT w.workstream_id, w.name, w.lead, w.outcome_domain, w.status, w.progress_pct,
               w.updated_on,
               (SELECT count(*) FROM coproduction_events e
                 WHERE e.workstream_id = w.workstream_id) AS events,
               (SELECT coalesce(sum(p.participants), 0) FROM coproduction_participants p
                  JOIN coproduction_events e USING (event_id)
                 WHERE e.workstream_id = w.workstream_id) AS participants,
               (SELECT count(*) FROM pledges p WHERE p.workstream_id = w.workstream_id)
                 AS pledges,
               (SELECT count(*) FROM pledges p WHERE p.workstream_id = w.workstream_id
                   AND p.status = 'met') AS pledges_met,
               (SELECT count(DISTINCT outcome) FROM codesigned_outcomes c
                 WHERE c.workstream_id = w.workstream_id) AS outcomes
        FROM coproduction_workstreams w ORDER BY w.name
    """).df()[cols]


def codesigned_outcomes(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Each co-designed outcome with the events (and dates) and workstreams it came from."""
    cols = ["outcome", "events", "first_codesigned", "workstreams", "notes"]
    if not _has_tables(con):
        return pd.DataFrame(columns=cols)
    return con.execute("""
        SELECT c.outcome, string_agg(DISTINCT e.title, '; ') AS events,
               min(e.event_date) AS first_codesigned,
               string_agg(DISTINCT w.name, '; ') AS workstreams,
               string_agg(DISTINCT c.note, '; ') AS notes
        FROM codesigned_outcomes c
        LEFT JOIN coproduction_events e ON e.event_id = c.event_id
        LEFT JOIN coproduction_workstreams w
          ON w.workstream_id = coalesce(c.workstream_id, e.workstream_id)
        GROUP BY c.outcome ORDER BY c.outcome
    """).df()[cols]
