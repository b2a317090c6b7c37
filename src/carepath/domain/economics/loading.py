"""Reading YAML and CSV definitions into pydantic models, with errors that name the file,
the row and the field.

A YAML definition may give any list section as the name of a CSV file beside it
(``benefits: benefits.csv``); the CSV's rows become the list, and an error in one names
the CSV file and its row number (header = row 1).
"""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any, TypeVar

import pydantic

from carepath.errors import ValidationError
from carepath.yamlfile import read_mapping

M = TypeVar("M", bound=pydantic.BaseModel)

# Marks a CSV-sourced list item with its file row, so an error can say "row N".
ROW_KEY = "__row__"
FILE_KEY = "__file__"
FIRST_DATA_ROW = 2  # the header is row 1


def read_yaml(path: Path) -> dict:
    return read_mapping(path)


def read_csv_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of a CSV as dicts; empty cells become None (missing), never zero."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError("file not found", where=str(path))
    with path.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        rows = []
        for number, row in enumerate(reader, start=FIRST_DATA_ROW):
            if None in row:
                raise ValidationError("more cells than header columns", where=f"{path}, row {number}")
            clean = {k.strip(): (v.strip() if v and v.strip() else None) for k, v in row.items()}
            clean[ROW_KEY] = number
            clean[FILE_KEY] = str(path)
            rows.append(clean)
    return rows


def expand_csv_sections(data: dict, base: Path, sections: tuple[str, ...],
                        source: Path | None = None) -> dict:
    """Replace a section given as 'file.csv' by the rows of that file. ``source``: the
    file naming them, named by an error (a missing file was said without the section or
    file that named it: a walkthrough)."""
    out = dict(data)
    for name in sections:
        value = out.get(name)
        if isinstance(value, str) and value.lower().endswith(".csv"):
            if not (base / value).is_file():  # said with the section naming it
                raise ValidationError(f"{name}: {value!r} names a file that is not there "
                                      f"(read beside the model, in {base})",
                                      where=str(source) if source else None)
            out[name] = read_csv_rows(base / value)
    return out


def _item_label(data: Any, loc: tuple) -> tuple[str | None, str]:
    """Walk the error location; return (file of a CSV row if any, readable path)."""
    parts: list[str] = []
    node = data
    csv_file = None
    for key in loc:
        if isinstance(key, int) and isinstance(node, list) and key < len(node):
            node = node[key]
            if isinstance(node, dict) and ROW_KEY in node:
                csv_file = node.get(FILE_KEY)
                parts.append(f"row {node[ROW_KEY]}")
                continue
            ident = node.get("id") if isinstance(node, dict) else None
            parts.append(f"[{key}]" + (f" (id {ident})" if ident else ""))
        else:
            node = node.get(key) if isinstance(node, dict) else None
            parts.append(str(key))
    return csv_file, ".".join(parts).replace(".[", "[")


def validate(model: type[M], data: dict, *, source: Path) -> M:
    """Build a model; a pydantic error becomes one ValidationError naming file, row, field."""
    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        messages = []
        where = str(source)
        for err in exc.errors()[:5]:
            csv_file, label = _item_label(data, tuple(err["loc"]))
            if csv_file:
                where = csv_file
            text = str(err["msg"]).removeprefix("Value error, ")
            messages.append(f"{label}: {text}" if label else text)
        more = exc.error_count() - len(messages)
        tail = f" (and {more} more)" if more > 0 else ""
        raise ValidationError("; ".join(messages) + tail, where=where) from None


def strip_row_markers(rows: list) -> list:
    return [{k: v for k, v in r.items() if k not in (ROW_KEY, FILE_KEY)}
            if isinstance(r, dict) else r for r in rows]
