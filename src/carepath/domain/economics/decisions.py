"""PBMA decisions: each investment or disinvestment decided, with the panel's rationale,
written with its audit event in one transaction so the two can never disagree."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

import duckdb
import pandas as pd

from carepath.domain.economics import constants as K
from carepath.domain.economics.pbma import Exercise, score_options
from carepath.errors import ValidationError
from carepath.workspace import Workspace

# A rationale is the record of why; a word or two is not one.
MIN_RATIONALE_CHARS = 10
ALLOWED = {"wish": ("invest", "reject", "defer"), "shift": ("disinvest", "reject", "defer")}


@dataclass(frozen=True)
class DecisionInput:
    option_id: str
    decision: str
    rationale: str


def _check(ex: Exercise, d: DecisionInput) -> tuple[str, float]:
    where = f"decision on {d.option_id}"
    options = {o.id: o for o in ex.options}
    if d.option_id not in options:
        raise ValidationError(f"exercise {ex.id} has no option {d.option_id!r}", where=where,
                              field="option")
    if d.decision not in K.DECISIONS:
        raise ValidationError(f"decision {d.decision!r} is not one of "
                              f"{', '.join(K.DECISIONS)}", where=where, field="decision")
    option = options[d.option_id]
    if d.decision not in ALLOWED[option.list]:
        raise ValidationError(f"a {option.list}-list option can be "
                              f"{' / '.join(ALLOWED[option.list])}, not {d.decision}",
                              where=where, field="decision")
    if len((d.rationale or "").strip()) < MIN_RATIONALE_CHARS:
        raise ValidationError("a rationale is required (the panel's reasons, at least "
                              f"{MIN_RATIONALE_CHARS} characters)", where=where,
                              field="rationale")
    return option.list, option.cost


def _refuse_repeat(con: duckdb.DuckDBPyConnection, ex: Exercise, d: DecisionInput) -> None:
    """The decision standing for the option, made again in the same words, is not a new
    one: run twice, a command recorded it twice (a walkthrough). A change of decision, or
    of reasons, is recorded."""
    last = con.execute(
        "SELECT decision_id, decision, rationale, decided_at FROM pbma_decisions WHERE "
        "exercise_id = ? AND option_id = ? ORDER BY decided_at DESC LIMIT 1",
        [ex.id, d.option_id]).fetchone()
    if last and last[1] == d.decision and last[2] == d.rationale.strip():
        raise ValidationError(f"{d.decision} {d.option_id} with these reasons is already the "
                              f"decision recorded ({last[0]}, {str(last[3])[:16]}); nothing "
                              "recorded", where=f"decision on {d.option_id}")


def decision_warnings(ex: Exercise, d: DecisionInput) -> list[str]:
    """What the panel should know of a decision it may still make: investing in an option
    the selection within the money available left unfunded was recorded without a word."""
    from carepath.domain.economics.pbma import select

    sel = select(ex)
    if d.decision == "invest" and d.option_id in {s.option.id for s in sel.not_funded}:
        cost = next(o.cost for o in ex.options if o.id == d.option_id)
        return [(f"the selection within the money available (headroom £{ex.headroom:,.0f} "
                 f"and £{sel.released:,.0f} released) leaves {d.option_id} unfunded: "
                 f"investing in it commits £{cost:,.0f} a year beyond that")]
    return []


def record_decision(ws: Workspace, ex: Exercise, decision: DecisionInput, *, by: str) -> str:
    """Record one decision and its audit event; returns the decision id."""
    option_list, cost = _check(ex, decision)
    weighted = {s.option.id: s.weighted for s in score_options(ex)}[decision.option_id]
    decision_id = uuid.uuid4().hex[:12]
    now = datetime.now(UTC).replace(tzinfo=None)
    with ws.transaction() as con:
        _refuse_repeat(con, ex, decision)
        con.execute("INSERT INTO pbma_decisions VALUES (?,?,?,?,?,?,?,?,?,?)", [
            decision_id, ex.id, decision.option_id, option_list, decision.decision,
            decision.rationale.strip(), cost, weighted, by, now])
        # What the panel was warned of, as it stood then (the page works it out again from
        # the exercise as it is when viewed: a review).
        ws.audit(con, actor=by, action="economics.pbma.decision", target=decision_id,
                 detail=json.dumps({"exercise": ex.id, "option": decision.option_id,
                                    "decision": decision.decision,
                                    "warnings": decision_warnings(ex, decision)}))
    return decision_id


def decisions(con: duckdb.DuckDBPyConnection, exercise_id: str | None = None) -> pd.DataFrame:
    """Decisions, newest first; the latest per option is the one that stands."""
    sql = "SELECT * FROM pbma_decisions"
    params: list = []
    if exercise_id is not None:
        sql += " WHERE exercise_id = ?"
        params.append(exercise_id)
    return con.execute(sql + " ORDER BY decided_at DESC", params).df()
