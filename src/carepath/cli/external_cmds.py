"""`carepath external list | show`: indicator values published by others, as loaded."""

from __future__ import annotations

from typing import Annotated

import typer

from carepath.cli._common import ReplaceOption, WorkspaceOption, open_workspace
from carepath.cli._frames import OutFile, show

external_app = typer.Typer(help="Published indicator values loaded by the named sources "
                                "(Fingertips, QOF, Cancer Waiting Times).", no_args_is_help=True)


@external_app.command("list")
def list_(workspace: WorkspaceOption = None, out: OutFile = None,
          replace: ReplaceOption = False) -> None:
    """Every published indicator loaded: source, id, name, periods, areas, values held."""
    from carepath.indicators import external

    show(external.catalogue(open_workspace(workspace)), "Published indicators loaded", out,
         columns=["indicator_id", "source", "first_period", "last_period", "areas",
                  "published", "suppressed", "missing"], whole=("indicator_id",), replace=replace)


@external_app.command("show")
def show_(
    indicator: Annotated[str, typer.Argument(help="Publisher's indicator id (see `list`).")],
    workspace: WorkspaceOption = None,
    area: Annotated[str | None, typer.Option(help="One area code.")] = None,
    period: Annotated[str | None, typer.Option(help="One period, as published.")] = None,
    out: OutFile = None, replace: ReplaceOption = False,
) -> None:
    """The loaded values of one published indicator, to read beside Carepath's own."""
    from carepath.indicators import external

    frame = external.values(open_workspace(workspace), indicator, area=area, period=period)
    show(frame, f"{indicator}: published values", out,
         columns=["area_code", "area_name", "period", "sex", "age", "category", "value",
                  "lower95", "upper95", "value_state"], replace=replace)


def register(app: typer.Typer) -> None:
    app.add_typer(external_app, name="external")
