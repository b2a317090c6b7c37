from __future__ import annotations

import pytest

from carepath.domain.journeys._shared import PersonLevelDenied
from carepath.domain.journeys.timeline import person_timeline
from carepath.errors import ValidationError


def _audit_rows(ws):
    with ws.connect(read_only=True) as con:
        return con.execute("SELECT actor, action, target FROM audit_log").fetchall()


def test_timeline_orders_events_across_providers_and_audits(jws):
    tl = person_timeline(jws, "A", actor="analyst1", can_see_person_level=True)
    # same-day events of one stage come in a fixed (alphabetical) order
    assert list(tl["event"][:4]) == ["referral_usc", "first_seen", "diagnosis",
                                     "faster_diagnosis_outcome"]
    assert list(tl["date"]) == sorted(tl["date"])
    assert {"Wessex General", "Alpha Surgery"} <= set(tl["org_name"].dropna())
    assert (tl["flag"] == "").all()
    assert _audit_rows(jws) == [("analyst1", "journey.view", "A")]


def test_timeline_flags_events_after_death_and_out_of_order(jws):
    e = person_timeline(jws, "E", actor="a", can_see_person_level=True)
    assert e["event"].iloc[-1] == "eol_register_entry"
    assert e["flag"].iloc[-1] == "after_death"
    f = person_timeline(jws, "F", actor="a", can_see_person_level=True)
    flagged = f.loc[f["flag"] == "out_of_order", "event"].tolist()
    assert flagged == ["faster_diagnosis_outcome"]


def test_timeline_refused_without_person_level_authority_and_not_audited(jws):
    with pytest.raises(PersonLevelDenied, match="counts only"):
        person_timeline(jws, "A", actor="public", can_see_person_level=False)
    assert _audit_rows(jws) == []


def test_timeline_unknown_person_is_a_clear_error(jws):
    with pytest.raises(ValidationError, match="no person"):
        person_timeline(jws, "nobody", actor="a", can_see_person_level=True)
