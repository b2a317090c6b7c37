"""A batch of read rows made ready for validation, at the door: our column names, codes
mapped, values trimmed, NHS numbers pseudonymised, and what must be refused before any
value is staged (an invalid NHS number, a raw one where a pseudonym belongs, a value over
several lines in a column that is loaded), each as the row's first problem."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from carepath.ingest import nhs_number
from carepath.ingest.line_breaks import VALUE_OVER_LINES, lines_of
from carepath.ingest.mapping import Mapping
from carepath.ingest.readers import Batch
from carepath.ingest.validate import ALWAYS_MASKED, SHOWN_CHARS
from carepath.model.schema import Column, Table

NHS_COLUMN = "nhs_number"
PATIENT_COLUMN = "patient_id"
# Columns that hold pseudonyms: an NHS number there would be stored as it is.
PSEUDONYM_COLUMNS = (PATIENT_COLUMN, "respondent_id")
# Values worth a closer look: ten or more digits of any script, a few characters apart.
NHS_LIKE = r"\p{Nd}(?:\P{Nd}{0,5}\p{Nd}){9}"

PRE_COLUMNS = ("__pre_column", "__pre_value", "__pre_reason")


# How extracts write "no value" in an id: read as missing (stored as ids, 'NULL' was never
# NULL: an independent check). Typed columns quarantine them instead.
MISSING_WORDS = pa.array(["null", "n/a", "na", "-", "none"])  # #N/A: Excel's error


def is_identifier(col: Column) -> bool:
    """A column holding another row's id or an organisation's code."""
    return col.type == "text" and col.codes is None and (
        col.references is not None or col.name.endswith(("_id", "_code")))


def _missing_words_as_null(arr: pa.Array, missing: list[int]) -> pa.Array:
    said = pc.fill_null(pc.is_in(pc.utf8_lower(arr), value_set=MISSING_WORDS), False)
    n = pc.sum(said).as_py() or 0
    if not n:
        return arr
    missing[0] += n
    return pc.if_else(said, pa.scalar(None, pa.string()), arr)


def is_free_text(col: Column) -> bool:
    """A column of words people write (a concern, a name): text with no code list, neither
    identifying nor an identifier. An NHS number typed into one was stored as it was (an
    independent check)."""
    return (col.type == "text" and col.codes is None and not col.identifying
            and not is_identifier(col))


def _mask_numbers(arr: pa.Array, masked: list[int]) -> pa.Array:
    """Free text with each NHS-number-shaped run masked (943*******), counted."""
    hit = pc.fill_null(pc.match_substring_regex(arr, nhs_number.NHS_IN_TEXT_SQL), False)
    if not pc.any(hit).as_py():
        return arr
    values = arr.to_pylist()
    for i in np.flatnonzero(hit.to_numpy(zero_copy_only=False)):
        values[i] = nhs_number.mask_in_text(values[i])
        masked[0] += 1
    return pa.array(values, pa.string())


def prepare_batch(batch: Batch, table: Table, colmap: dict[str, str], mapping: Mapping,
             present: list[str], key: bytes, masked: list[int] | None = None,
             missing: list[int] | None = None) -> pa.Table:
    """The batch with our column names, codes mapped and NHS numbers pseudonymised, NHS
    numbers in free text masked (``masked[0]`` counts them) and ids written as 'NULL',
    'N/A' or '-' read as missing (``missing[0]``)."""
    masked = masked if masked is not None else [0]
    missing = missing if missing is not None else [0]
    n = batch.num_rows
    cols: dict[str, pa.Array] = {"__row": pa.array(batch.rows)}
    pre = [[None] * n for _ in PRE_COLUMNS]
    for c in present:
        if c in mapping.constants:
            cols[c] = pa.array([str(mapping.constants[c]).strip()] * n, pa.string())
        elif c == PATIENT_COLUMN and NHS_COLUMN in colmap:
            raw = batch.columns[colmap[NHS_COLUMN]]
            cols[c] = _pseudonymise(raw, key, pre)
            _refuse_unreadable(NHS_COLUMN, raw, batch.cell_problems.get(colmap[NHS_COLUMN]),
                               pre)
        else:
            # Trimmed here, once, in Arrow: cheaper than in each SQL pass, and it also
            # strips the no-break spaces that spreadsheets leave around values.
            arr = pc.utf8_trim_whitespace(batch.columns[colmap[c]])
            if c in mapping.codes:
                codes = mapping.code_for(c)
                arr = pa.array([codes.get(v.lower(), v) if v is not None else None
                                for v in arr.to_pylist()], pa.string())
            if c in PSEUDONYM_COLUMNS:
                arr = _refuse_raw_nhs_numbers(c, arr, pre)
            elif is_free_text(table.column(c)):
                arr = _mask_numbers(arr, masked)
            if is_identifier(table.column(c)):
                arr = _missing_words_as_null(arr, missing)
            if colmap[c] in batch.line_breaks:
                _refuse_values_over_lines(table.column(c), arr, pre)
            _refuse_unreadable(c, arr, batch.cell_problems.get(colmap[c]), pre,
                               identifying=table.column(c).identifying)
            cols[c] = arr
    for name, values in zip(PRE_COLUMNS, pre, strict=True):
        cols[name] = pa.array(values, pa.string())
    return pa.table(cols)


def _refuse_values_over_lines(col: Column, arr: pa.Array, pre: list[list]) -> None:
    """A value of a column Carepath loads that runs over lines (once trimmed) is refused:
    no column of the data model holds more than one."""
    hit = pc.fill_null(pc.match_substring_regex(arr, "[\r\n]"), False).to_numpy(
        zero_copy_only=False)
    for i in np.flatnonzero(hit):
        if pre[2][i] is not None:
            continue  # one reason from here is enough: the row is refused
        value = arr[i].as_py()
        flat = value.replace("\r\n", "\n").replace("\r", "\n").replace("\n", " / ")
        shown = nhs_number.mask(value) if col.identifying or col.name in ALWAYS_MASKED \
            else nhs_number.mask_in_text(flat)[:SHOWN_CHARS]
        pre[0][i], pre[1][i] = col.name, shown
        pre[2][i] = VALUE_OVER_LINES.format(lines=lines_of(value))


def _refuse_unreadable(name: str, arr: pa.Array, problems: dict[int, str] | None,
                       pre: list[list], *, identifying: bool = True) -> None:
    """Cells the reader could not read truly (an Excel error, a formula never saved, a
    float too narrow for its number) refuse their rows, naming the column. The reader's
    reason is the cause, so it replaces a reason found from the value it gave."""
    for i, reason in (problems or {}).items():
        value = arr[i].as_py()
        masked = identifying or name in ALWAYS_MASKED or name == NHS_COLUMN
        pre[0][i], pre[2][i] = name, reason
        pre[1][i] = None if value is None else nhs_number.mask(value) if masked else \
            nhs_number.mask_in_text(value)[:SHOWN_CHARS]


def _pseudonymise(arr: pa.Array, key: bytes, pre: list[list]) -> pa.Array:
    out = nhs_number.Pseudonymiser(key).array(arr)
    invalid = np.flatnonzero(pc.is_null(out).to_numpy(zero_copy_only=False))
    if len(invalid):
        values = arr.to_pylist()
        for i in invalid:  # rare: the exact reason for each refused number
            raw = values[i]
            pre[0][i], pre[1][i] = NHS_COLUMN, nhs_number.mask(raw)
            pre[2][i] = nhs_number.problem(raw) or "NHS number not valid"
    return out


def _refuse_raw_nhs_numbers(column: str, arr: pa.Array, pre: list[list]) -> pa.Array:
    """A pseudonym column holding an NHS number is refused (and never staged): it must
    come in as nhs_number so that it is pseudonymised."""
    suspicious = pc.fill_null(pc.match_substring_regex(arr, NHS_LIKE), False)
    if not pc.any(suspicious).as_py():
        return arr
    values = arr.to_pylist()
    for i in np.flatnonzero(suspicious.to_numpy(zero_copy_only=False)):
        if nhs_number.looks_like_nhs_number(values[i]):
            pre[0][i], pre[1][i] = column, nhs_number.mask(values[i])
            pre[2][i] = (f"{column} looks like an NHS number; map the column to nhs_number "
                         "so it is pseudonymised" if column == PATIENT_COLUMN else
                         f"{column} looks like an NHS number; give a pseudonym instead")
            values[i] = None
    return pa.array(values, pa.string())
