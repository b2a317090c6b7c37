"""`carepath journey`, `carepath pathway ...` and `carepath eol`: a person's journey (audited),
pathway waits, people who fell between services, Recovery Package coverage and equity, HNA
concerns, routes, data quality, and end-of-life measures.

The command line is used by analysts with the workspace on their own machine, who can read
the database anyway; person-level output is still audited under their login name.
"""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console

from carepath.cli._common import ReplaceOption, WorkspaceOption, cli_actor, open_workspace
from carepath.cli._frames import EndOption, OutFile, StartOption, parse_date, period, show

pathway_app = typer.Typer(help="Pathway measures: waits, gaps, Recovery Package, HNA, flows "
                               "(routes between services), data quality.",
                          no_args_is_help=True)


def journey(patient_id: Annotated[str, typer.Argument(help="The person's pseudonym.")],
            workspace: WorkspaceOption = None, out: OutFile = None,
            replace: ReplaceOption = False) -> None:
    """One person's timeline across providers (person-level; the view is audited)."""
    from carepath.domain.journeys.timeline import person_timeline

    ws = open_workspace(workspace)
    tl = person_timeline(ws, patient_id, actor=cli_actor(), can_see_person_level=True)
    show(tl, f"Journey of {patient_id} ({len(tl)} events)", out, replace=replace)
    flagged = (tl["flag"] != "").sum()
    if flagged:
        typer.echo(f"{flagged} event(s) flagged: out of order or after death")


@pathway_app.command("waits")
def waits(workspace: WorkspaceOption = None, start: StartOption = None, end: EndOption = None,
          measure: Annotated[str, typer.Option(help="referral_to_diagnosis, "
                             "diagnosis_to_treatment, decision_to_treatment, "
                             "referral_to_treatment")] = "referral_to_diagnosis",
          group: Annotated[str, typer.Option(help="all, tumour_group, trust, locality, "
                                             "age_group, year (financial, of the wait's "
                                             "start)")] = "all",
          out: OutFile = None, replace: ReplaceOption = False) -> None:
    """Distribution of waits with the share within the national standard."""
    from carepath.domain.journeys.waits import wait_summary

    ws = open_workspace(workspace)
    with ws.connect(read_only=True) as con:
        s, e = period(con, start, end, "cancer")
        df = wait_summary(con, measure, start=s, end=e, group=group)
    share = ["within_standard_value"] if "within_standard_value" in df else []  # no standard
    show(df, f"{measure}: waits that began {s} to {e}, followed to their end (the "
         "waiting-time indicators count a wait in the period it ended); too recent: began "
         "less than the standard's days before the data's end", out,
         columns=["group", "completed", "pending", "negative", "too_recent", "median", "p90",
                  *share], percent=tuple(share), replace=replace)


@pathway_app.command("gaps")
def gaps(workspace: WorkspaceOption = None, start: StartOption = None, end: EndOption = None,
         as_of: Annotated[str | None, typer.Option(
             "--as-of", help="Date to look from (default: latest date in the data).")] = None,
         days: Annotated[int, typer.Option(help="Days without contact that count as a gap.",
                                           min=1)] = 90,
         group: Annotated[str, typer.Option(help="all, tumour_group, trust, locality")] = "all",
         list_people: Annotated[bool, typer.Option(
             "--list", help="Also list the people (person-level; audited).")] = False,
         out: OutFile = None, replace: ReplaceOption = False) -> None:
    """People who fell between services: counts, and with --list the people themselves."""
    from carepath.domain.journeys._shared import default_period
    from carepath.domain.journeys.gaps import fell_between_counts, fell_between_lists
    from carepath.domain.journeys.recovery import all_due_by

    ws = open_workspace(workspace)
    with ws.connect(read_only=True) as con:
        # Look from the latest date in the data, so elements have had time to fall due.
        data_end = period(con, None, None, "contacts")[1]
        at = parse_date(as_of, "--as-of") or data_end
        # By default the latest year whose pathways are over by then: in the year up to
        # the data's end, few could have fallen due (as `pathway recovery`).
        s, e = default_period(con, "cancer", parse_date(start, "--start"),
                              parse_date(end, "--end") or all_due_by(at))
        counts = fell_between_counts(con, start=s, end=e, as_of=at, no_contact_days=days,
                                     group=group)
    if at > data_end:  # accepted without a word (an independent check)
        Console(stderr=True).print(
            f"Note: --as-of {at} is after the data's latest date ({data_end}): what fell "
            "due after that reads as missing unless the data are complete to it.",
            highlight=False)
    show(counts, f"Fell between services, {s} to {e}, as of {at}", None if list_people else out,
         percent=("value", "lower", "upper"), replace=replace)
    if list_people:
        people = fell_between_lists(ws, start=s, end=e, as_of=at, actor=cli_actor(),
                                    can_see_person_level=True, no_contact_days=days)
        show(people, "People flagged (pseudonyms)", out, replace=replace)


@pathway_app.command("recovery")
def recovery(workspace: WorkspaceOption = None, start: StartOption = None,
             end: EndOption = None,
             dimension: Annotated[str | None, typer.Option(help="Only this breakdown.")] = None,
             equity: Annotated[bool, typer.Option(help="Show the equity view instead.")] = False,
             as_of: Annotated[str | None, typer.Option(
                 "--as-of", help="Date elements must have fallen due by (default: latest "
                 "date in the data).")] = None,
             out: OutFile = None, replace: ReplaceOption = False) -> None:
    """Recovery Package and stratified follow-up coverage, or the equity view. An element
    due some time after diagnosis (a cancer care review at 12 months) counts only the
    tumours it has fallen due for; the others are shown as not due."""
    from carepath.domain.journeys._shared import default_period
    from carepath.domain.journeys.recovery import all_due_by, coverage, equity_view

    ws = open_workspace(workspace)
    with ws.connect(read_only=True) as con:
        at = parse_date(as_of, "--as-of") or period(con, None, None, "contacts")[1]
        # By default the latest year every element has fallen due for: the year up to the
        # data's end showed most reviews not due, and an empty table.
        due = all_due_by(at)
        s, e = default_period(con, "cancer", parse_date(start, "--start"),
                              parse_date(end, "--end") or due)
        cov = coverage(con, start=s, end=e, as_of=at)
    if equity:
        show(equity_view(cov), f"Where support depends on cancer, trust or place ({s} to {e}, "
             f"elements due by {at})", out,
             columns=["element", "dimension", "groups", "overall", "lowest", "highest",
                      "p_value", "below"], percent=("overall", "lowest", "highest", "range"),
             replace=replace)
        return
    if dimension:
        cov = cov[cov["dimension"] == dimension]
    show(cov, f"Recovery Package coverage, tumours diagnosed {s} to {e}, elements due by "
         f"{at} (recorded: offered, accepted or not; not due, and not eligible — died "
         "before it was due, untreated for a treatment summary, no stratified follow-up for "
         "the cancer or no follow-up decision — left out of the denominator)", out,
         columns=["dimension", "group", "element", "recorded", "denominator", "not_due",
                  "not_eligible", "value"], percent=("value",), replace=replace)


@pathway_app.command("hna")
def hna(workspace: WorkspaceOption = None, start: StartOption = None, end: EndOption = None,
        top: Annotated[int, typer.Option(help="Show the top N named concerns instead.",
                                         min=0)] = 0,
        out: OutFile = None, replace: ReplaceOption = False) -> None:
    """Most common HNA concerns by domain and tumour group."""
    from carepath.domain.journeys.hna import concerns_by_domain, top_concerns

    ws = open_workspace(workspace)
    with ws.connect(read_only=True) as con:
        s, e = period(con, start, end, "care_events")
        df = (top_concerns(con, start=s, end=e, top=top) if top
              else concerns_by_domain(con, start=s, end=e))
    show(df, f"HNA concerns {s} to {e}", out, replace=replace,
         percent=() if top else ("value",))


@pathway_app.command("flows")
def flows(workspace: WorkspaceOption = None, start: StartOption = None, end: EndOption = None,
          out: OutFile = None, replace: ReplaceOption = False) -> None:
    """Routes through the pathway: route -> first treatment -> follow-up -> outcome."""
    from carepath.domain.journeys.flows import pathway_flows

    ws = open_workspace(workspace)
    with ws.connect(read_only=True) as con:
        s, e = period(con, start, end, "cancer")
        df = pathway_flows(con, start=s, end=e)
    show(df, f"Routes through the pathway, tumours diagnosed {s} to {e}", out, replace=replace)


@pathway_app.command("quality")
def quality(workspace: WorkspaceOption = None, out: OutFile = None,
            replace: ReplaceOption = False) -> None:
    """Data-quality findings across journey tables (events after death, out of order, ...)."""
    from carepath.domain.journeys.quality import findings

    ws = open_workspace(workspace)
    with ws.connect(read_only=True) as con:
        df = findings(con)
    if df.empty:
        typer.echo("No data-quality findings.")
        return
    show(df, "Data-quality findings", out, replace=replace)


@pathway_app.command("index")
def index(workspace: WorkspaceOption = None) -> None:
    """Build the patient_id indexes that make journey pages fast (otherwise built on the
    first journey view)."""
    from carepath.domain.journeys.timeline import ensure_person_indexes

    with open_workspace(workspace).transaction() as con:
        made = ensure_person_indexes(con)
    typer.echo(f"built {len(made)} index(es)" if made else "indexes already present")


EOL_VIEWS = ("summary", "place", "preferences", "progress")
# What fits on a terminal; --out writes every column (intervals included).
EOL_COLUMNS = {
    "summary": ["group", "deaths", "on_register_value", "preference_recorded_value",
                "achieved_value", "died_in_hospital_value", "with_emergency_admission_value",
                "bed_days_per_death"],
    "place": ["group", "place", "deaths", "value"],
    "progress": ["group", "deaths", "preference_recorded", "achieved", "achieved_value",
                 "people_short", "status", "below_overall"],
}


# Proportions of the EoL views, shown as percentages.
EOL_PERCENT = ("on_register_value", "preference_recorded_value", "achieved_value",
               "died_in_hospital_value", "died_in_usual_residence_value",
               "with_emergency_admission_value", "achieved_of_all_value", "target", "value")


def eol(workspace: WorkspaceOption = None, start: StartOption = None, end: EndOption = None,
        view: Annotated[str, typer.Option(help=", ".join(EOL_VIEWS))] = "summary",
        group: Annotated[str, typer.Option(help="all, locality, practice, cause, age_group, "
                                           "imd_quintile, year, place_of_death")] = "all",
        out: OutFile = None, replace: ReplaceOption = False) -> None:
    """End-of-life care for people who died in the period."""
    from carepath.domain.eol import measures as m
    from carepath.errors import ValidationError

    if view not in EOL_VIEWS:
        raise ValidationError(f"view {view!r} is not one of {', '.join(EOL_VIEWS)}",
                              where="--view")
    ws = open_workspace(workspace)
    with ws.connect(read_only=True) as con:
        s, e = period(con, start, end, "deaths")
        if view == "summary":
            df = m.eol_summary(con, start=s, end=e, group=group)
        elif view == "place":
            df = m.place_of_death(con, start=s, end=e, group=group)
        elif view == "preferences":
            df = m.preference_vs_actual(con, start=s, end=e)
        else:
            df = m.choice_progress(con, start=s, end=e, group=group)
    bed_days = (" (bed days: nights in hospital in the last 90 days, any admission)"
                if view == "summary" else "")
    show(df, f"End of life ({view}), deaths {s} to {e}{bed_days}", out,
         columns=EOL_COLUMNS.get(view),
         percent=EOL_PERCENT, replace=replace)


def register(app: typer.Typer) -> None:
    app.command("journey")(journey)
    app.command("eol")(eol)
    app.add_typer(pathway_app, name="pathway")
