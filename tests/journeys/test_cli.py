from __future__ import annotations

import pandas as pd
import pytest

from carepath.cli import main


def _run(*args):
    main([str(a) for a in args])


def test_journey_command_writes_timeline_and_audits(jws, tmp_path):
    out = tmp_path / "a.csv"
    _run("journey", "E", "-w", jws.path, "--out", out)
    tl = pd.read_csv(out)
    assert tl["event"].iloc[-1] == "eol_register_entry"
    with jws.connect(read_only=True) as con:
        actor, action = con.execute("SELECT actor, action FROM audit_log").fetchone()
    assert actor.startswith("cli:") and action == "journey.view"


def test_pathway_gaps_counts_and_list(jws, tmp_path):
    counts, people = tmp_path / "c.csv", tmp_path / "p.xlsx"
    _run("pathway", "gaps", "-w", jws.path, "--start", "2024-01-01", "--end", "2024-12-31",
         "--as-of", "2025-03-31", "--days", 150, "--out", counts)
    c = pd.read_csv(counts).set_index("rule")
    assert c.loc["no_contact", "flagged"] == 1
    # as a percentage, as the export and the terminal (0.0 to 1.0 beside the export's
    # 0 to 100 mixed scales: a walkthrough), with its interval
    row = c.loc["no_contact"]
    assert 1 < row["value_pct"] <= 100
    assert row["lower_pct"] <= row["value_pct"] <= row["upper_pct"]
    assert row["value_pct"] == pytest.approx(100 * row["flagged"] / row["denominator"])
    _run("pathway", "gaps", "-w", jws.path, "--start", "2024-01-01", "--end", "2024-12-31",
         "--as-of", "2025-03-31", "--days", 150, "--list", "--out", people)
    assert "C" in set(pd.read_excel(people)["patient_id"])


@pytest.mark.parametrize("args", [
    ("pathway", "waits", "--group", "tumour_group"), ("pathway", "recovery", "--equity"),
    # A measure with no standard has no share within it (it raised a KeyError: a check)
    ("pathway", "waits", "--measure", "diagnosis_to_treatment", "--group", "trust"),
    ("pathway", "hna", "--top", 3), ("pathway", "flows"), ("pathway", "quality"),
    ("eol", "--view", "progress", "--group", "locality"), ("eol", "--view", "place"),
])
def test_read_commands_run_on_default_period(jws, tmp_path, args):
    out = tmp_path / "x.csv"
    _run(*args, "-w", jws.path, "--out", out)
    assert out.exists()


def test_recovery_defaults_to_the_latest_year_every_element_is_due_for(jws, tmp_path,
                                                                         capsys):
    """The year up to the data's end had most reviews not due (29% beside 68% the year
    before, with no word of it: a walkthrough)."""
    out = tmp_path / "r.csv"
    _run("pathway", "recovery", "-w", jws.path, "--as-of", "2025-03-31", "--out", out)
    said = " ".join(capsys.readouterr().out.split())
    assert "tumours diagnosed 2023-04-01 to 2024-03-31, elements due by 2025-03-31" in said
    assert (pd.read_csv(out)["not_due"] == 0).all()
    _run("pathway", "recovery", "-w", jws.path, "--as-of", "2025-03-31", "--start",
         "2024-01-01", "--end", "2024-12-31", "--out", out, "--replace")
    late = pd.read_csv(out).set_index(["dimension", "element"]).loc["all"]
    assert late.loc["cancer_care_review", "not_due"] > 0


def test_bad_date_is_one_line_error(jws, capsys):
    with pytest.raises(SystemExit) as exit_:
        _run("eol", "-w", jws.path, "--end", "31/03/2025")
    assert exit_.value.code == 2
    assert "--end: '31/03/2025' is not a date" in capsys.readouterr().err


def test_experience_and_coproduction_commands(jws, tmp_path, capsys):
    wide = tmp_path / "cpes.csv"
    wide.write_text("respondent_id,org_code,response_date,Q1\n"
                    + "".join(f"r{i},T1,2024-06-01,{1 if i < 25 else 3}\n" for i in range(30)))
    rules = tmp_path / "rules.yaml"
    rules.write_text("Q1: {positive: [1, 2]}\n")
    long = tmp_path / "long.csv"
    _run("experience", "reshape", wide, "--rules", rules, "--out", long)
    df = pd.read_csv(long)
    assert df["positive"].sum() == 25
    with jws.transaction() as con:
        con.execute("INSERT INTO survey_responses (survey, respondent_id, org_code, "
                    "question_id, positive, response_date) SELECT survey, respondent_id, "
                    "org_code, question_id, positive, response_date "
                    f"FROM read_csv('{long}')")
    scores = tmp_path / "s.csv"
    _run("experience", "score", "-w", jws.path, "--out", scores)
    s = pd.read_csv(scores).set_index("org_code")
    assert s.loc["T1", "value_pct"] == pytest.approx(100 * 25 / 30)

    capsys.readouterr()
    _run("coproduction", "workstream", "Dying at home", "-w", jws.path, "--progress", 20)
    wid = capsys.readouterr().out.strip()
    _run("coproduction", "event", "Listening event", "-w", jws.path, "--date", "2024-03-01",
         "--stage", "needs_assessment", "--participants", "patients=5,carers=3",
         "--workstream", wid)
    summary = tmp_path / "events.csv"
    _run("coproduction", "summary", "-w", jws.path, "--out", summary)
    ev = pd.read_csv(summary).iloc[0]
    assert (ev["patients"], ev["carers"], ev["total"]) == (5, 3, 8)
    with pytest.raises(SystemExit):
        _run("coproduction", "event", "x", "-w", jws.path, "--participants", "patients=lots")


def test_proportions_are_shown_as_percentages_as_on_the_web(jws, capsys):
    """The terminal showed 0.332 where the page shows 33.2% (a new user's walkthrough)."""
    _run("pathway", "gaps", "-w", jws.path, "--start", "2024-01-01", "--end", "2024-12-31",
         "--as-of", "2025-03-31", "--days", 150)
    out = capsys.readouterr().out
    assert "%" in out.split("no_contact")[1].split("\n")[0]


def test_an_empty_answer_says_so_and_an_as_of_before_the_period_is_refused(jws, tmp_path,
                                                                            capsys):
    """An empty table, or zeros for every rule, said nothing of why (a walkthrough)."""
    out_file = tmp_path / "w.csv"
    _run("pathway", "waits", "-w", jws.path, "--start", "2030-01-01", "--end", "2030-12-31",
         "--out", out_file)
    assert "nothing in the data for what was asked" in " ".join(capsys.readouterr().out.split())
    assert out_file.read_text().strip()  # the header, for a script that reads it
    with pytest.raises(SystemExit) as stopped:
        _run("pathway", "gaps", "-w", jws.path, "--start", "2024-01-01", "--end",
             "2024-12-31", "--as-of", "2019-01-01")
    assert stopped.value.code == 2
    assert "as of 2019-01-01 is before the period starts (2024-01-01)" in \
        " ".join(capsys.readouterr().err.split())


def test_an_nhs_number_for_a_pseudonym_is_explained_not_echoed(jws, capsys):
    """It said only 'no person with this pseudonym' (a walkthrough)."""
    with pytest.raises(SystemExit) as exit_:
        _run("journey", "9434765919", "-w", jws.path)
    err = " ".join(capsys.readouterr().err.split())
    assert exit_.value.code == 2
    assert "looks like an NHS number: journeys take the pseudonym" in err
    assert "9434765919" not in err


def test_a_recorded_event_says_so_and_gives_its_id_alone(jws, capsys):
    _run("coproduction", "event", "Carers' evening", "-w", jws.path, "--date", "2024-05-01",
         "--stage", "needs_assessment", "--participants", "carers=7")
    out, err = capsys.readouterr()
    assert out.strip().startswith("ev-") and len(out.split()) == 1  # for scripts
    assert "Recorded co-production event \"Carers' evening\"" in err
