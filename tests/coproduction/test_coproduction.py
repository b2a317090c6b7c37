from __future__ import annotations

from datetime import date

import pytest

from carepath.domain.coproduction.records import (
    Workstream,
    add_pledge,
    record_codesigned_outcome,
    record_event,
    save_workstream,
    update_pledge,
)
from carepath.domain.coproduction.summaries import (
    codesigned_outcomes,
    participation,
    pledges_by_status,
    workstream_progress,
)
from carepath.errors import ValidationError


@pytest.fixture
def coprod(empty_workspace):
    ws = empty_workspace
    with ws.transaction() as con:
        con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) VALUES "
                    "('H1', 'St Wessex Hospice', 'hospice', DATE '2015-01-01')")
    wid = save_workstream(ws, by="comm1", workstream=Workstream(
        name="Dying at home", status="active", updated_on=date(2024, 5, 1),
        lead="EoL programme lead", outcome_domain="place_of_death", progress_pct=40))
    e1 = record_event(ws, by="comm1", title="What good looks like", event_date=date(2024, 3, 1),
                      stage="needs_assessment", workstream_id=wid,
                      participants={"patients": 6, "carers": 4, "clinicians": 5,
                                    "voluntary_sector": 5})
    e2 = record_event(ws, by="comm1", title="Pledge and design", event_date=date(2024, 6, 1),
                      stage="pledge_and_design", workstream_id=wid,
                      participants={"providers": 8, "patients": 2})
    p1 = add_pledge(ws, by="comm1", org_code="H1", commitment="24/7 advice line",
                    pledged_on=date(2024, 6, 1), event_id=e2, workstream_id=wid,
                    due_date=date(2024, 12, 31))
    add_pledge(ws, by="comm1", org_code="H1", commitment="Carer training",
               pledged_on=date(2024, 6, 1), event_id=e2, workstream_id=wid,
               due_date=date(2024, 9, 30))
    update_pledge(ws, by="comm1", pledge_id=p1, status="met", updated_on=date(2024, 11, 1))
    record_codesigned_outcome(ws, by="comm1", outcome="eol_died_in_preferred_place",
                              event_id=e1, note="measured against recorded preference")
    return ws, wid, e1


def test_participation_by_group(coprod):
    ws, _, e1 = coprod
    with ws.connect(read_only=True) as con:
        p = participation(con).set_index("event_id")
    assert p.loc[e1, "total"] == 20
    assert p.loc[e1, "lived_experience_share"] == pytest.approx(0.5)
    assert p.loc[e1, "providers"] == 0  # a group nobody came from is a true zero
    assert p["patients"].sum() == 8


def test_pledges_and_overdue(coprod):
    ws, _, _ = coprod
    with ws.connect(read_only=True) as con:
        pl = pledges_by_status(con, as_of=date(2024, 10, 15)).iloc[0]
    assert (pl.org_name, pl.met, pl.made, pl.overdue) == ("St Wessex Hospice", 1, 1, 1)


def test_workstream_progress_and_codesigned_outcomes(coprod):
    ws, _, _ = coprod
    with ws.connect(read_only=True) as con:
        w = workstream_progress(con).iloc[0]
        o = codesigned_outcomes(con).iloc[0]
    assert (w.events, w.participants, w.pledges, w.pledges_met) == (2, 30, 2, 1)
    assert w.progress_pct == 40
    assert o.outcome == "eol_died_in_preferred_place"
    assert o.events == "What good looks like" and o.workstreams == "Dying at home"


def test_every_change_is_audited(coprod):
    ws, _, _ = coprod
    with ws.connect(read_only=True) as con:
        actions = [r[0] for r in con.execute(
            "SELECT action FROM audit_log ORDER BY \"at\"").fetchall()]
    assert actions.count("coproduction.event") == 2
    assert {"coproduction.workstream", "coproduction.pledge", "coproduction.pledge_status",
            "coproduction.outcome"} <= set(actions)


def test_bad_input_is_rejected_and_nothing_written(coprod):
    ws, workstream, _ = coprod
    with pytest.raises(ValidationError, match="participant group 'press'"):
        record_event(ws, by="c", title="x", event_date=date(2024, 1, 1),
                     stage="other", participants={"press": 1})
    with pytest.raises(ValidationError, match="no coproduction workstream"):
        record_event(ws, by="c", title="x", event_date=date(2024, 1, 1), stage="other",
                     participants={"patients": 1}, workstream_id="nope")
    # Run twice, the command recorded the same event twice (a walkthrough).
    with pytest.raises(ValidationError, match="already recorded"):
        record_event(ws, by="c", title="What good looks like", event_date=date(2024, 3, 1),
                     stage="needs_assessment", workstream_id=workstream,
                     participants={"patients": 1})
    with pytest.raises(ValidationError, match="before the pledge"):
        add_pledge(ws, by="c", org_code="H1", commitment="x", pledged_on=date(2024, 5, 1),
                   due_date=date(2024, 1, 1))
    with pytest.raises(ValidationError, match=r"\(by\) is required"):
        update_pledge(ws, by=" ", pledge_id="x", status="met", updated_on=date(2024, 1, 1))
    with ws.connect(read_only=True) as con:
        assert len(participation(con)) == 2


def test_summaries_on_workspace_without_tables(empty_workspace):
    with empty_workspace.connect() as con:
        con.execute("DROP TABLE coproduction_participants")
        assert participation(con).empty
