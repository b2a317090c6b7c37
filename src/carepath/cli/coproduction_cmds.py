"""`carepath coproduction ...`: record co-design events, pledges, workstreams and
co-designed outcomes (each change audited), and summarise them."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer

from carepath.cli._common import ReplaceOption, WorkspaceOption, cli_actor, open_workspace
from carepath.cli._frames import OutFile, parse_date, show
from carepath.errors import ValidationError

coproduction_app = typer.Typer(help="Co-production: events, pledges, workstreams.",
                               no_args_is_help=True)
DateOption = Annotated[str | None, typer.Option("--date", help="YYYY-MM-DD (default today).")]



def _day(text: str | None, option: str = "--date") -> date:
    return parse_date(text, option) or date.today()


def _participants(text: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for part in filter(None, (p.strip() for p in text.split(","))):
        group, _, count = part.partition("=")
        if not count.strip().isdigit():
            raise ValidationError(f"{part!r}: write group=count, e.g. patients=6",
                                  where="--participants")
        out[group.strip()] = int(count)
    return out


@coproduction_app.command("workstream")
def workstream(name: str, workspace: WorkspaceOption = None,
               status: Annotated[str, typer.Option()] = "active",
               progress: Annotated[float | None, typer.Option(help="0-100.")] = None,
               lead: Annotated[str | None, typer.Option()] = None,
               domain: Annotated[str | None, typer.Option(help="Outcome domain.")] = None,
               workstream_id: Annotated[str | None, typer.Option(
                   "--id", help="Update this workstream.")] = None,
               on: DateOption = None) -> None:
    """Create or update a workstream."""
    from carepath.domain.coproduction.records import Workstream, save_workstream

    wid = save_workstream(open_workspace(workspace), by=cli_actor(), workstream=Workstream(
        name=name, status=status, updated_on=_day(on), lead=lead, outcome_domain=domain,
        progress_pct=progress, workstream_id=workstream_id))
    typer.echo(wid)


@coproduction_app.command("event")
def event(title: str, workspace: WorkspaceOption = None, on: DateOption = None,
          stage: Annotated[str, typer.Option()] = "other",
          participants: Annotated[str, typer.Option(
              help="e.g. patients=6,carers=4,clinicians=5")] = "",
          workstream_id: Annotated[str | None, typer.Option("--workstream")] = None,
          location: Annotated[str | None, typer.Option()] = None) -> None:
    """Record a co-design event and who took part."""
    from carepath.domain.coproduction.records import record_event

    event_id = record_event(open_workspace(workspace), by=cli_actor(), title=title,
                            event_date=_day(on), stage=stage,
                            participants=_participants(participants),
                            workstream_id=workstream_id, location=location)
    # The id alone on standard output, for scripts (a contract names it); what was done
    # on standard error, for people (it printed the bare id: a walkthrough).
    typer.echo(f"Recorded co-production event {title!r} ({stage}); its id:", err=True)
    typer.echo(event_id)


@coproduction_app.command("pledge")
def pledge(org_code: str, commitment: str, workspace: WorkspaceOption = None,
           on: DateOption = None, due: Annotated[str | None, typer.Option()] = None,
           event_id: Annotated[str | None, typer.Option("--event")] = None,
           workstream_id: Annotated[str | None, typer.Option("--workstream")] = None) -> None:
    """Record an organisation's pledge."""
    from carepath.domain.coproduction.records import add_pledge

    typer.echo(add_pledge(open_workspace(workspace), by=cli_actor(), org_code=org_code,
                          commitment=commitment, pledged_on=_day(on),
                          due_date=parse_date(due, "--due"), event_id=event_id,
                          workstream_id=workstream_id))


@coproduction_app.command("pledge-status")
def pledge_status(pledge_id: str, status: str, workspace: WorkspaceOption = None,
                  on: DateOption = None) -> None:
    """Update a pledge: made, in_progress, met, lapsed or withdrawn."""
    from carepath.domain.coproduction.records import update_pledge

    update_pledge(open_workspace(workspace), by=cli_actor(), pledge_id=pledge_id, status=status,
                  updated_on=_day(on))
    typer.echo(f"{pledge_id}: {status}")


@coproduction_app.command("outcome")
def outcome(name: str, workspace: WorkspaceOption = None,
            event_id: Annotated[str | None, typer.Option("--event")] = None,
            workstream_id: Annotated[str | None, typer.Option("--workstream")] = None,
            note: Annotated[str | None, typer.Option()] = None) -> None:
    """Record that an outcome (indicator id or statement) was co-designed."""
    from carepath.domain.coproduction.records import record_codesigned_outcome

    record_codesigned_outcome(open_workspace(workspace), by=cli_actor(), outcome=name,
                              event_id=event_id, workstream_id=workstream_id, note=note)
    typer.echo(f"recorded {name}")


@coproduction_app.command("summary")
def summary(workspace: WorkspaceOption = None, as_of: DateOption = None,
            out: OutFile = None, replace: ReplaceOption = False) -> None:
    """Participation by group, pledges by status, workstream progress, co-designed outcomes."""
    from carepath.domain.coproduction import summaries as s

    ws = open_workspace(workspace)
    with ws.connect(read_only=True) as con:
        show(s.participation(con), "Events and participants by group", out, replace=replace)
        show(s.pledges_by_status(con, as_of=_day(as_of)), "Pledges by organisation")
        show(s.workstream_progress(con), "Workstreams")
        show(s.codesigned_outcomes(con), "Co-designed outcomes")


def register(app: typer.Typer) -> None:
    app.add_typer(coproduction_app, name="coproduction")
