"""Print a data frame as a Rich table and optionally write it to CSV or Excel (shared by the
journeys, EoL, experience and co-production commands)."""

from __future__ import annotations

import math
from datetime import date
from pathlib import Path
from typing import Annotated

import numpy as np
import pandas as pd
import typer
from rich.console import Console
from rich.table import Table

from carepath.cli._common import plain
from carepath.errors import ValidationError
from carepath.safe_export import check_output_path, write_table

console = Console()
MAX_ROWS = 60

OutFile = Annotated[Path | None, typer.Option(
    "--out", help="Also write the full table to this .csv or .xlsx file.")]
StartOption = Annotated[str | None, typer.Option(
    "--start", help="First day of the period (YYYY-MM-DD); default: a year before --end.")]
EndOption = Annotated[str | None, typer.Option(
    "--end", help="Last day of the period (YYYY-MM-DD); default: the latest date in the data.")]


def parse_date(text: str | None, option: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValidationError(f"{text!r} is not a date (YYYY-MM-DD)", where=option) from None


def period(con, start: str | None, end: str | None, topic: str) -> tuple[date, date]:
    """The period asked for, defaulting to the year up to the latest date in the data."""
    from carepath.domain.journeys._shared import default_period

    return default_period(con, topic, parse_date(start, "--start"), parse_date(end, "--end"))


def _cell(v, column: object = ""):
    """A value as people read it: whole numbers without '.0' (counts read '17.0' and
    '0.000') and with thousands marked however stored (respondents read '1692' beside
    '1,566'), years as years, days without a time of 00:00:00, yes or no for a flag, codes
    of a ``WORDED`` column in words (a walkthrough)."""
    if v is None or v is pd.NA or v is pd.NaT or (isinstance(v, float) and math.isnan(v)):
        return "–"
    if isinstance(v, (bool, np.bool_)):
        return "yes" if v else "no"
    if _is_year(column) and isinstance(v, (int, float, np.integer, np.floating)) \
            and float(v).is_integer():  # stored as a float where a year is missing
        return str(int(v))
    if isinstance(v, (int, np.integer)):
        return f"{v:,}"
    if isinstance(v, str) and column in WORDED:
        return plain(v.replace("_", " "))
    if isinstance(v, pd.Timestamp) and v == v.normalize():
        return v.date().isoformat()
    if isinstance(v, float):
        if v.is_integer():
            return f"{v:,.0f}"
        return f"{v:,.3f}" if abs(v) < 1 else f"{v:,.1f}"
    return plain(v)


# Columns of judgements and states, shown in words ('significantly below target').
WORDED = frozenset({"status", "judgement", "variation", "assurance", "significance"})


def _is_year(column: object) -> bool:
    name = str(column).lower()
    return name == "year" or name.endswith("_year") or name.startswith("year_")


def show(df: pd.DataFrame, title: str, out: Path | None = None,
         columns: list[str] | None = None, whole: tuple[str, ...] = (),
         percent: tuple[str, ...] = (), replace: bool = True) -> None:
    """``whole``: columns never cut short, the others narrowing instead (an id a user copies
    into the next command was shown 'percen…' at 80 columns). ``percent``: proportions
    shown as percentages, as the web pages show them, and so written to the ``out`` file
    with their intervals, named ``_pct`` (``file_percent``)."""
    if out is not None:  # a bad name refused before the table, not after it
        check_output_path(out, replace=replace)
    if df.empty:  # an empty table said nothing of why (a walkthrough)
        console.print(plain(f"{title}: nothing in the data for what was asked (a period "
                            "the data do not cover?)"), soft_wrap=True)
        if out is not None:
            write(file_percent(df, percent), out)
        return
    view = _as_percent(df[columns] if columns else df, percent)
    view, said = _same_in_every_row(view, whole)
    if said:  # on lines of their own: a table's title wraps to the table's width
        console.print(plain(title), soft_wrap=True)
        console.print(plain(said), soft_wrap=True)
        title = None
    shown = view.head(MAX_ROWS)
    too_wide = _natural_width(view) > console.width
    if too_wide and not whole:  # cut to 'ev…', 'Lu…', '0.6…' (a walkthrough): as lines
        whole = (str(view.columns[0]),)
    widths = {c: max((len(str(v)) for v in shown[c]), default=0) for c in whole}
    others = [c for c in view.columns if c not in whole]
    if too_wide or whole and console.width < sum(widths.values()) + len(view.columns) * \
            (CELL_BORDERS + NARROWEST_CELL):
        _as_lines(shown, title, whole, others)
    else:
        table = Table(title=title, title_justify="left")
        shares = _percent_names(view.columns, percent)
        for col in view.columns:
            text = (view[col].dtype == object or pd.api.types.is_string_dtype(view[col])) \
                and col not in shares
            keep = {"no_wrap": True, "min_width": widths[col]} if col in whole else {}
            table.add_column(str(col), justify="left" if text else "right", **keep)
        for row in shown.itertuples(index=False):
            table.add_row(*(_cell(v, c) for v, c in zip(row, view.columns, strict=True)))
        console.print(table)
    if len(view) > MAX_ROWS:
        console.print(f"… {len(view) - MAX_ROWS} more rows (use --out for all)")
    if out is not None:
        write(file_percent(df, percent), out)


PERCENT = 100
INTERVAL_ENDS = ("lower", "upper")


def _percent_names(columns, percent: tuple[str, ...]) -> dict[str, str]:
    """The proportions among ``columns`` (``percent``, and each ``..._value``'s interval
    with it) -> their names as percentages."""
    out: dict[str, str] = {}
    for column in (c for c in percent if c in columns):
        base = column.removesuffix("value")
        if base != column:  # the value and its interval: '', or a prefix ending in '_'
            out[column] = f"{base}pct" if base else "value_pct"
            out.update({f"{base}{end}": f"{base}{end}_pct" for end in INTERVAL_ENDS
                        if f"{base}{end}" in columns})
        else:
            out[column] = f"{column}_pct"
    return out


def file_percent(df: pd.DataFrame, percent: tuple[str, ...]) -> pd.DataFrame:
    """Proportions written as percentages (0 to 100), as the export writes its values,
    and named so: a file of 0.7726 beside the export's 76.3 mixed scales for anyone
    joining them (a walkthrough). A ``..._value`` column's interval goes with it:
    within_standard_value, _lower, _upper -> within_standard_pct, _lower_pct, _upper_pct."""
    renamed = _percent_names(df.columns, percent)
    if not renamed:
        return df
    return df.assign(**{c: df[c] * PERCENT for c in renamed}).rename(columns=renamed)


def _as_percent(view: pd.DataFrame, percent: tuple[str, ...]) -> pd.DataFrame:
    shown = list(_percent_names(view.columns, percent))
    if not shown:
        return view
    view = view.assign(**{c: view[c].map(lambda v: None if pd.isna(v) else
                                         f"{v * PERCENT:.1f}%") for c in shown})
    return view


def _natural_width(view: pd.DataFrame) -> int:
    cells = view.head(MAX_ROWS)
    return sum(max(len(str(c)), *(len(str(_cell(v, c))) for v in cells[c])) + CELL_BORDERS
               for c in view.columns) + 1


def _one_value(column: pd.Series) -> bool:
    try:
        return column.nunique(dropna=False) == 1
    except TypeError:  # lists or mappings in the cells: shown as they are
        return False


def _same_in_every_row(view: pd.DataFrame, whole: tuple[str, ...]
                       ) -> tuple[pd.DataFrame, str | None]:
    """A table wider than the terminal loses the columns that say the same in every row
    ('sex all', 'category all'), said once under the title instead: at 80 columns a
    published indicator's ten columns were cut to 'E060…' and 'Hartl…' (a walkthrough)."""
    if len(view) < 2 or _natural_width(view) <= console.width:
        return view, None
    same = [c for c in view.columns if c not in whole and _one_value(view[c])]
    if not same or len(same) == len(view.columns):
        return view, None
    said = " · ".join(f"{c} {_cell(view[c].iloc[0], c)}" for c in same)
    return view.drop(columns=same), f"(every row: {said})"


# A table too narrow for its whole columns and this much of each other is shown as lines.
NARROWEST_CELL = 6
CELL_BORDERS = 3


def _as_lines(rows: pd.DataFrame, title: str | None, whole: tuple[str, ...], others: list
              ) -> None:
    """Each row as its whole columns on a line, then the others indented beneath."""
    if title:  # None: said already, with what every row says
        console.print(plain(title))
    for row in rows.to_dict("records"):
        console.print(plain("  ".join(str(row[c]) for c in whole)), soft_wrap=True)
        console.print(plain("    " + " · ".join(f"{c} {_cell(row[c], c)}" for c in others)))


def write(df: pd.DataFrame, out: Path, *, replace: bool = True) -> None:
    check_output_path(out, replace=replace)
    write_table(df, out)
    console.print(f"Wrote {len(df)} rows to [bold]{out}[/]")
