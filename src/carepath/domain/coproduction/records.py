"""Record co-production: events with participants by group, pledges, workstreams and
co-designed outcomes. Business-logic layer in job-server's style: keyword-only arguments,
an explicit actor (``by``), validation with a clear message, and the audit event written in
the same transaction as the change."""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import duckdb

from carepath.errors import ValidationError
from carepath.model import schema
from carepath.workspace import Workspace

ID_LENGTH = 12


def _new_id(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:ID_LENGTH]}"


def _ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    # Workspaces made before co-production existed gain the tables on first use.
    for table in schema.COPRODUCTION_TABLES:
        con.execute(table.ddl())


def _actor(by: str) -> None:
    if not by or not by.strip():
        raise ValidationError("who made the change (by) is required", where="co-production")


def _audit(ws: Workspace, con, *, by: str, action: str, target: str, detail: dict) -> None:
    ws.audit(con, actor=by, action=action, target=target,
             detail=json.dumps(detail, default=str, sort_keys=True))


def _choice(value: str, allowed: tuple, field: str) -> None:
    if value not in allowed:
        raise ValidationError(f"{field} {value!r} is not one of {', '.join(allowed)}",
                              where="co-production")


def _required(**values) -> None:
    for name, value in values.items():
        if value is None or not str(value).strip():
            raise ValidationError(f"{name} is required", where="co-production")


def _exists(con, table: str, column: str, value: str | None) -> None:
    if value is None:
        return
    found = con.execute(f"SELECT count(*) FROM {table} WHERE {column} = ?", [value]).fetchone()
    if not found[0]:
        raise ValidationError(f"no {table[:-1].replace('_', ' ')} with {column} {value!r}",
                              where="co-production")


@dataclass(frozen=True)
class Workstream:
    name: str
    status: str
    updated_on: date
    lead: str | None = None
    lead_org_code: str | None = None
    outcome_domain: str | None = None
    progress_pct: float | None = None
    workstream_id: str | None = None


def save_workstream(ws: Workspace, *, by: str, workstream: Workstream) -> str:
    """Create a workstream, or replace the one with the same id (progress updates)."""
    _actor(by)
    w = workstream
    _required(name=w.name)
    _choice(w.status, schema.WORKSTREAM_STATUSES, "status")
    if w.progress_pct is not None and not 0 <= w.progress_pct <= 100:
        raise ValidationError(f"progress {w.progress_pct} is outside 0-100",
                              where="co-production")
    wid = w.workstream_id or _new_id("ws")
    with ws.transaction() as con:
        _ensure_tables(con)
        con.execute("DELETE FROM coproduction_workstreams WHERE workstream_id = ?", [wid])
        con.execute("INSERT INTO coproduction_workstreams VALUES (?,?,?,?,?,?,?,?)",
                    [wid, w.name, w.lead, w.lead_org_code, w.outcome_domain, w.status,
                     w.progress_pct, w.updated_on])
        _audit(ws, con, by=by, action="coproduction.workstream", target=wid,
               detail={"status": w.status, "progress_pct": w.progress_pct})
    return wid


def record_event(ws: Workspace, *, by: str, title: str, event_date: date, stage: str,
                 participants: Mapping[str, int], workstream_id: str | None = None,
                 location: str | None = None) -> str:
    """A co-design event and how many people of each group took part."""
    _actor(by)
    _required(title=title)
    _choice(stage, schema.COPRODUCTION_STAGES, "stage")
    for group, count in participants.items():
        _choice(group, schema.PARTICIPANT_GROUPS, "participant group")
        if count < 0:
            raise ValidationError(f"participants for {group} is negative ({count})",
                                  where="co-production")
    eid = _new_id("ev")
    with ws.transaction() as con:
        _ensure_tables(con)
        _exists(con, "coproduction_workstreams", "workstream_id", workstream_id)
        # Run twice, the command recorded the same event twice (a walkthrough).
        same = con.execute(
            "SELECT event_id FROM coproduction_events WHERE title = ? AND event_date = ? AND "
            "stage = ? AND workstream_id IS NOT DISTINCT FROM ? AND location IS NOT DISTINCT "
            "FROM ?", [title, event_date, stage, workstream_id, location]).fetchone()
        if same:
            raise ValidationError(f"an event {title!r} on {event_date} is already recorded "
                                  f"({same[0]}); nothing recorded", where="co-production")
        con.execute("INSERT INTO coproduction_events VALUES (?,?,?,?,?,?)",
                    [eid, title, event_date, stage, workstream_id, location])
        con.executemany("INSERT INTO coproduction_participants VALUES (?,?,?)",
                        [(eid, g, int(c)) for g, c in participants.items()])
        _audit(ws, con, by=by, action="coproduction.event", target=eid,
               detail={"stage": stage, "participants": dict(participants)})
    return eid


def add_pledge(ws: Workspace, *, by: str, org_code: str, commitment: str, pledged_on: date,
               event_id: str | None = None, workstream_id: str | None = None,
               due_date: date | None = None) -> str:
    _actor(by)
    _required(org_code=org_code, commitment=commitment)
    if due_date is not None and due_date < pledged_on:
        raise ValidationError(f"due date {due_date} is before the pledge ({pledged_on})",
                              where="co-production")
    pid = _new_id("pl")
    with ws.transaction() as con:
        _ensure_tables(con)
        _exists(con, "coproduction_events", "event_id", event_id)
        _exists(con, "coproduction_workstreams", "workstream_id", workstream_id)
        con.execute("INSERT INTO pledges VALUES (?,?,?,?,?,?,?,?,?)",
                    [pid, org_code, commitment, "made", event_id, workstream_id, pledged_on,
                     due_date, pledged_on])
        _audit(ws, con, by=by, action="coproduction.pledge", target=pid,
               detail={"org_code": org_code})
    return pid


def update_pledge(ws: Workspace, *, by: str, pledge_id: str, status: str,
                  updated_on: date) -> None:
    _actor(by)
    _choice(status, schema.PLEDGE_STATUSES, "status")
    with ws.transaction() as con:
        _ensure_tables(con)
        _exists(con, "pledges", "pledge_id", pledge_id)
        con.execute("UPDATE pledges SET status = ?, updated_on = ? WHERE pledge_id = ?",
                    [status, updated_on, pledge_id])
        _audit(ws, con, by=by, action="coproduction.pledge_status", target=pledge_id,
               detail={"status": status})


def record_codesigned_outcome(ws: Workspace, *, by: str, outcome: str,
                              event_id: str | None = None, workstream_id: str | None = None,
                              note: str | None = None) -> None:
    _actor(by)
    _required(outcome=outcome)
    if event_id is None and workstream_id is None:
        raise ValidationError("say where the outcome was co-designed (event or workstream)",
                              where="co-production")
    with ws.transaction() as con:
        _ensure_tables(con)
        _exists(con, "coproduction_events", "event_id", event_id)
        _exists(con, "coproduction_workstreams", "workstream_id", workstream_id)
        con.execute("INSERT INTO codesigned_outcomes VALUES (?,?,?,?)",
                    [outcome, event_id, workstream_id, note])
        _audit(ws, con, by=by, action="coproduction.outcome", target=outcome,
               detail={"event_id": event_id, "workstream_id": workstream_id})
