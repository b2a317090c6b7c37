"""Peer-review records: outliers discussed, explanations, actions (business logic layer).

Following job-server's actions: keyword-only arguments, an explicit actor (``by``), and an
audit event written in the same transaction as the change, so the record and its audit
trail can never disagree.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass
from datetime import UTC, date, datetime

import duckdb
import pandas as pd

from carepath.errors import ValidationError
from carepath.workspace import Workspace

REVIEW_STATUSES = ("open", "done", "dropped")
# A record is an open action when it agreed an action not yet done or dropped.
OPEN_ACTION_SQL = ("status = 'open' AND regexp_replace(coalesce(action, ''), '\\s', '', 'g') "
                   "<> ''")  # any white space, as str.strip (trim() takes spaces only)


def is_open_action(record: dict) -> bool:
    return record["status"] == "open" and bool((record.get("action") or "").strip())


# Longest texts a record keeps, in characters.
MAX_TEXT = {"explanation": 2000, "action": 2000, "owner": 200}


@dataclass(frozen=True)
class ReviewInput:
    indicator_id: str
    area_code: str
    period: str
    date_discussed: date
    explanation: str | None = None
    accepted: bool | None = None
    action: str | None = None
    owner: str | None = None
    due_date: date | None = None
    status: str = "open"

    def validate(self) -> None:
        for name in ("indicator_id", "area_code", "period"):
            if not str(getattr(self, name) or "").strip():
                raise ValidationError(f"{name} is required", where="peer review")
        if self.status not in REVIEW_STATUSES:
            raise ValidationError(
                f"status {self.status!r} is not one of {', '.join(REVIEW_STATUSES)}",
                where="peer review",
            )
        if self.due_date and self.due_date < self.date_discussed:
            raise ValidationError(
                f"due date {self.due_date} is before the meeting ({self.date_discussed})",
                where="due date",
            )
        # An empty form saved an open record that counted as an open action, and a meeting
        # in 2099 was accepted (a walkthrough).
        if self.date_discussed > date.today():
            raise ValidationError(f"the meeting date {self.date_discussed} is in the future: "
                                  "record a discussion once it has happened",
                                  where="date discussed")
        if not (self.explanation or self.action) and self.accepted is None:
            raise ValidationError("say what was discussed: an explanation, whether it was "
                                  "accepted, or an action", where="peer review")
        for name in ("explanation", "action", "owner"):
            text = getattr(self, name) or ""
            if len(text) > MAX_TEXT[name]:
                raise ValidationError(f"{len(text):,} characters; at most "
                                      f"{MAX_TEXT[name]:,}", where=name)


def _audit(con: duckdb.DuckDBPyConnection, *, by: str, action: str, target: str, detail) -> None:
    con.execute(
        "INSERT INTO audit_log VALUES (?, ?, ?, ?, ?)",
        [datetime.now(UTC).replace(tzinfo=None), by, action, target,
         json.dumps(detail, default=str)],
    )


def record_review(ws: Workspace, *, by: str, review: ReviewInput) -> str:
    """Add a peer-review record and its audit event; returns the review id."""
    review.validate()
    review_id = uuid.uuid4().hex[:12]
    now = datetime.now(UTC).replace(tzinfo=None)
    with ws.transaction() as con:
        con.execute(
            "INSERT INTO peer_reviews VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
            [review_id, review.indicator_id, review.area_code, review.period,
             review.date_discussed, review.explanation, review.accepted, review.action,
             review.owner, review.due_date, review.status, by, now],
        )
        # Which fields were given, not their words: free text can name people, and the
        # record itself holds it (a red team found it copied into the audit log).
        given = [k for k, v in asdict(review).items() if v not in (None, "")]
        _audit(con, by=by, action="peer_review.add", target=review_id, detail={
            "indicator_id": review.indicator_id, "area_code": review.area_code,
            "period": review.period, "status": review.status, "fields": given})
    return review_id


def update_status(ws: Workspace, *, by: str, review_id: str, status: str) -> None:
    if status not in REVIEW_STATUSES:
        raise ValidationError(f"status {status!r} is not one of {', '.join(REVIEW_STATUSES)}")
    with ws.transaction() as con:
        found = con.execute(
            "SELECT count(*) FROM peer_reviews WHERE review_id = ?", [review_id]
        ).fetchone()[0]
        if not found:
            raise ValidationError(f"no peer review with id {review_id!r}")
        con.execute("UPDATE peer_reviews SET status = ? WHERE review_id = ?", [status, review_id])
        _audit(con, by=by, action="peer_review.status", target=review_id,
               detail={"status": status})


def reviews(con: duckdb.DuckDBPyConnection, area_codes: list[str] | None = None) -> pd.DataFrame:
    """Peer-review records, newest first, optionally for some areas only."""
    sql = "SELECT * FROM peer_reviews"
    params: list = []
    if area_codes is not None:
        if not area_codes:
            return con.execute(sql + " WHERE false").df()
        sql += f" WHERE area_code IN ({', '.join('?' * len(area_codes))})"
        params = list(area_codes)
    return con.execute(sql + " ORDER BY date_discussed DESC, recorded_at DESC", params).df()
