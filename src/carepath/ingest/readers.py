"""Readers: CSV (any delimiter; UTF-8, UTF-8 with BOM, Windows-1252), Parquet and Excel.

Every reader streams the file in batches of text columns (never the whole file in
memory) and numbers each record as a spreadsheet would: the header is row 1, the
first data row is row 2. Records the reader cannot split into the header's columns
are returned as :class:`BadRow` so the loader can quarantine them by number.

Excel is read with openpyxl: DuckDB's Excel extension downloads itself at run time,
which Carepath never does.
"""

from __future__ import annotations

import codecs
import csv
import hashlib
import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from carepath.errors import ValidationError
from carepath.ingest import nhs_number
from carepath.ingest.line_breaks import (
    LINE_BREAK,
    SPANNING_LINES,
    line_break_marks,
    lines_of,
    swallows_rows,
)

HASH_CHUNK = 8 * 1024 * 1024
# Bytes looked at to find the delimiter and header.
SNIFF_BYTES = 256 * 1024
SNIFF_LINES = 50
DELIMITERS = (",", ";", "\t", "|")
# A CSV record must fit in one block; larger records are refused with a clear message.
CSV_BLOCK_BYTES = 16 * 1024 * 1024
# Rows per batch for Excel and Parquet.
BATCH_ROWS = 200_000
HEADER_ROW = 1
UTF8_BOM = codecs.BOM_UTF8
# Files a CSV reader cannot read as text, known by their first bytes.
NOT_TEXT_STARTS = {codecs.BOM_UTF16_LE: "UTF-16 text (Excel's 'Unicode Text'); save it as "
                   "'CSV UTF-8'", codecs.BOM_UTF16_BE: "UTF-16 text; save it as 'CSV UTF-8'",
                   b"\x1f\x8b": "a gzip archive; unpack it first",
                   b"PK\x03\x04": "a zip archive or a workbook; unpack it or name it .xlsx"}
CSV_SUFFIXES = (".csv", ".txt", ".tsv")
PARQUET_SUFFIXES = (".parquet", ".pq")
EXCEL_SUFFIXES = (".xlsx", ".xlsm")
ENCODINGS = {"utf-8": "utf-8", "utf8": "utf-8", "utf-8-sig": "utf-8",
             "cp1252": "cp1252", "windows-1252": "cp1252", "latin-1": "latin-1"}


@dataclass(frozen=True)
class BadRow:
    row_number: int
    reason: str
    lines: int = 1  # lines of the file read as this one row (a quote left open joins them)


@dataclass
class Batch:
    """Text columns keyed by header name, and the file row number of each record."""

    columns: dict[str, pa.Array]
    rows: np.ndarray
    bad_rows: list[BadRow] = field(default_factory=list)
    blank_rows: int = 0  # records with every field empty, dropped as layout
    # Header name -> which rows' values in it run over lines without holding rows of the
    # file (see _rows_over_lines): refused by the loader if it loads the column.
    line_breaks: dict[str, np.ndarray] = field(default_factory=dict)
    # Header name -> {index of a row in this batch: why its value there cannot be read
    # (an Excel error, a formula never saved, a float too narrow for the number)}: the
    # row is refused, naming the column, if the load uses the column.
    cell_problems: dict[str, dict[int, str]] = field(default_factory=dict)

    @property
    def num_rows(self) -> int:
        return len(self.rows)


@dataclass(frozen=True)
class FileFacts:
    sha256: str
    size: int
    encoding: str | None  # None for binary formats
    bom: bool
    # Bytes of a character cut off at the very end of a UTF-8 file (a truncated last line):
    # left out when reading, so that line is quarantined rather than the file refused.
    cut_tail: int = 0
    # Whether the file has a double quote anywhere: only then can a value run over lines.
    quotes: bool = True


def _not_a_file(path: Path) -> str | None:
    """Why ``path`` is no file to read, or None: named as what it is (a folder was called
    an 'unknown file type (none)', a pipe 'no such file')."""
    try:
        if path.is_dir():
            return "is a folder, not a file: name the files in it"
        if not path.exists():
            return ("a link to no file (or a loop of links)" if path.is_symlink()
                    else "no such file")
        if not path.is_file():
            return "is not a regular file (a pipe or a device): copy it to a file first"
    except OSError as exc:  # a loop of symbolic links, a name too long
        return f"cannot be read: {exc.strerror or exc}"
    return None


def file_format(path: Path) -> str:
    problem = _not_a_file(path)
    if problem:
        raise ValidationError(problem, where=str(path))
    suffix = path.suffix.lower()
    if suffix in CSV_SUFFIXES:
        return "csv"
    if suffix in PARQUET_SUFFIXES:
        return "parquet"
    if suffix in EXCEL_SUFFIXES:
        return "excel"
    if suffix == ".xls":
        raise ValidationError("old-style .xls workbooks are not read; save it as .xlsx",
                              where=str(path))
    raise ValidationError(f"unknown file type {suffix or '(none)'}; use .csv, .tsv, .txt, "
                          ".parquet or .xlsx", where=str(path))


def inspect(path: Path, *, text: bool) -> FileFacts:
    """Hash the file and, for text, decide its encoding in the same pass."""
    if not path.is_file():
        raise ValidationError("no such file", where=str(path))
    digest = hashlib.sha256()
    decoder = codecs.getincrementaldecoder("utf-8")()
    size, first_bad, lines_before_bad, bom, quotes = 0, None, 0, False, False
    first_nul = None
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            if size == 0:
                bom = chunk.startswith(UTF8_BOM)
                if text:
                    _refuse_non_text(path, chunk)
            digest.update(chunk)
            quotes = quotes or b'"' in chunk
            if text and first_nul is None and (at := chunk.find(b"\x00")) >= 0:
                first_nul = size + at
            if text and first_bad is None:
                try:
                    decoder.decode(chunk)
                except UnicodeDecodeError as exc:
                    first_bad = size + exc.start
                    lines_before_bad += chunk[: exc.start].count(b"\n")
                else:
                    lines_before_bad += chunk.count(b"\n")
            size += len(chunk)
    if first_nul is not None:  # past the first chunk: a file damaged part way through
        raise ValidationError(
            f"line {line_at(path, first_nul)} has a NUL byte, which no text holds (a damaged "
            "or partly overwritten file?); nothing was loaded", where=str(path))
    cut_tail = 0
    if text and first_bad is None:
        cut_tail = len(decoder.getstate()[0])  # an unfinished character at the end
    encoding = None
    if text:
        encoding = "utf-8" if first_bad is None else _fallback_encoding(path, lines_before_bad)
    return FileFacts(digest.hexdigest(), size, encoding, bom, cut_tail, quotes)


def line_at(path: Path, offset: int) -> int:
    """The line number (from 1) of the byte at ``offset``."""
    lines = 1
    with path.open("rb") as fh:
        while offset > 0 and (chunk := fh.read(min(HASH_CHUNK, offset))):
            lines += chunk.count(b"\n")
            offset -= len(chunk)
    return lines


def _refuse_non_text(path: Path, first: bytes) -> None:
    for start, what in NOT_TEXT_STARTS.items():
        if first.startswith(start):
            raise ValidationError(f"not a CSV: the file is {what}", where=str(path))
    if b"\x00" in first:
        raise ValidationError("not a CSV: the file has NUL bytes (a binary file, or UTF-16 "
                              "text without its mark)", where=str(path))


# Non-ASCII characters other than the surrogates that stand for undecodable bytes.
_REAL_NON_ASCII = re.compile("[\u0080-\udc7f\udd00-\U0010ffff]")


def _fallback_encoding(path: Path, bad_line: int) -> str:
    """A file that is not UTF-8 is Windows-1252, unless it also holds real UTF-8
    sequences: then it mixes encodings and no single reading is right."""
    decoder = codecs.getincrementaldecoder("utf-8")(errors="surrogateescape")
    with path.open("rb") as fh:
        while chunk := fh.read(HASH_CHUNK):
            if _REAL_NON_ASCII.search(decoder.decode(chunk)):
                raise ValidationError(
                    f"mixed encodings: the file has UTF-8 text but line {bad_line + 1} is "
                    "not UTF-8 (perhaps Windows-1252); save the whole file in one encoding",
                    where=str(path))
    return "cp1252"


# ----- CSV ---------------------------------------------------------------------------------
def sniff(path: Path, encoding: str, delimiter: str | None) -> tuple[str, list[str]]:
    """The delimiter (given or detected) and the header names."""
    with path.open("rb") as fh:
        raw = fh.read(SNIFF_BYTES)
    raw = raw.removeprefix(UTF8_BOM)
    text = raw.decode(encoding, errors="replace")
    if not text.strip():
        raise ValidationError("the file is empty (no header row)", where=str(path))
    lines = text.splitlines()[:SNIFF_LINES]
    if len(raw) == SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut by the sample
    if not lines[0].strip():  # a blank first line raised StopIteration (a check)
        raise ValidationError("the first line is blank: a CSV starts with a header row of "
                              "column names (delete the blank lines above it)",
                              where=f"{path}, row {HEADER_ROW}")
    if len(lines[0]) >= csv.field_size_limit():
        raise ValidationError(f"the first row is longer than {csv.field_size_limit() // 1024} "
                              "KB (no line break?): a CSV starts with a header row of column "
                              "names", where=f"{path}, row {HEADER_ROW}")
    if lines[0].count('"') % 2:
        raise ValidationError("a quote in the header row is not closed on that line (a column "
                              "name over several lines?): column names are on the first line, "
                              "each closing any quote it opens", where=f"{path}, row {HEADER_ROW}")
    # A huge cell says nothing about the delimiter (and Python's csv refuses it).
    usable = [ln for ln in lines if len(ln) < csv.field_size_limit()]
    chosen = delimiter or _best_delimiter(usable)
    header = next(csv.reader(io.StringIO(lines[0]), delimiter=chosen))
    if len(header) == 1 and delimiter is None and len(usable) > 1:
        _refuse_a_title(path, usable)
    names = [h.strip() for h in header]
    check_header(path, names)
    return chosen, names


def _refuse_a_title(path: Path, lines: list[str]) -> None:
    """A one-column first line above lines of several columns is a title ('Extract run
    2024-06-01'), not a header: it read as a one-column header, with a question about the
    delimiter (a check)."""
    rest = [ln for ln in lines[1:] if ln.strip()]
    if not rest:
        return
    below = _best_delimiter(rest)
    widths = {len(r) for r in csv.reader(io.StringIO("\n".join(rest)), delimiter=below)}
    if min(widths) > 1:
        raise ValidationError("the first line has one column and the lines below it several "
                              "(a title above the header?): delete the lines above the "
                              "column names", where=f"{path}, row {HEADER_ROW}")


def _best_delimiter(lines: list[str]) -> str:
    best, best_score = ",", (0, 0)
    for cand in DELIMITERS:
        counts = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=cand)]
        if not counts or counts[0] < 2:
            continue
        consistent = sum(c == counts[0] for c in counts)
        score = (consistent, counts[0])
        if score > best_score:
            best, best_score = cand, score
    return best


def check_header(path: Path, names: list[str]) -> None:
    if any(not n for n in names):
        pos = [i + 1 for i, n in enumerate(names) if not n]
        raise ValidationError(f"header has empty column names at positions {pos}",
                              where=f"{path}, row {HEADER_ROW}")
    seen: set[str] = set()
    for n in names:
        if n.lower() in seen:
            raise ValidationError(f"header repeats column {nhs_number.mask_in_text(n)!r}",
                                  where=f"{path}, row {HEADER_ROW}")
        seen.add(n.lower())


def read_csv(path: Path, *, encoding: str, delimiter: str | None = None,
             length: int | None = None, quotes: bool = True
             ) -> tuple[list[str], Iterator[Batch]]:
    """``length``: read only the file's first bytes (see FileFacts.cut_tail). ``quotes``:
    the file may quote values, so a value may run over lines (see _one_line_rows)."""
    delim, names = sniff(path, encoding, delimiter)
    return names, _csv_batches(path, encoding, delim, names, length, quotes)


def _csv_batches(path: Path, encoding: str, delim: str, names: list[str],
                 length: int | None = None, quotes: bool = True) -> Iterator[Batch]:
    bad: list[BadRow] = []
    spanning: list[BadRow] = []  # rows running over lines, wherever found

    def on_invalid(row: pacsv.InvalidRow) -> str:
        fields = (f"row has {row.actual_columns} fields, the header has "
                  f"{row.expected_columns}")
        if swallows_rows(row.text, delim, len(names)):
            lines = lines_of(row.text)
            bad.append(BadRow(row.number or -1, f"{fields} and {lines:,} lines of the file "
                              "read as this one row: a quote left open joins the lines after "
                              "it; close the quote and load the file again", lines))
            spanning.append(bad[-1])
        else:
            bad.append(BadRow(row.number or -1, f"{fields} (wrong delimiter, stray quote or "
                              "truncated line?)"))
        return "skip"

    try:
        # The file's first bytes through a memory map: no copy, however large.
        source = path if length is None else pa.BufferReader(
            pa.memory_map(str(path)).read_buffer(length))
        reader = _open_csv(source, encoding, delim, names, on_invalid)
    except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
        if _header_only(path):  # no line ending after the header: no rows, not an error
            return
        raise ValidationError(_arrow_message(exc), where=f"{path}, from row 2") from None
    next_row = HEADER_ROW + 1
    while True:
        try:
            batch = reader.read_next_batch()
        except StopIteration:
            break
        except (pa.ArrowInvalid, UnicodeDecodeError) as exc:
            raise ValidationError(_arrow_message(exc), where=f"{path}, after row {next_row - 1}"
                                  ) from None
        rows, next_row, batch_bad = _number_rows(batch.num_rows, next_row, bad)
        bad = [b for b in bad if b not in batch_bad]
        read = len(rows)
        columns, rows = _without_blank_rows([batch.column(i) for i in range(len(names))], rows)
        blank = read - len(rows)
        marks: dict[str, np.ndarray] = {}
        if quotes:
            columns, rows, joined, marks = _rows_over_lines(columns, rows, names, delim)
            batch_bad = batch_bad + joined
            spanning.extend(joined)
        yield Batch(dict(zip(names, columns, strict=True)), rows, batch_bad,
                    blank_rows=blank, line_breaks=marks)
    last_row = max([next_row - 1, *(b.row_number for b in bad)])
    _refuse_never_closed(path, spanning, last_row)
    if bad:
        yield Batch({n: pa.array([], pa.string()) for n in names}, np.empty(0, np.int64), bad)


def _refuse_never_closed(path: Path, spanning: list[BadRow], last_row: int) -> None:
    """Refuse a file whose last row runs over lines: a quote opened there and never closed
    took every line after it into that row, and they would be lost unseen (whatever the
    quotes in the row, which a stray one in an unquoted value makes uneven)."""
    for bad in spanning:
        if bad.row_number == last_row:
            raise ValidationError(
                f"a quote opened in this row is never closed, so the {bad.lines:,} lines from "
                "there to the end of the file read as one row; nothing was loaded: close the "
                "quote and load the file again", where=f"{path}, row {bad.row_number}")


def _open_csv(path, encoding: str, delim: str, names: list[str], on_invalid):
    return pacsv.open_csv(
        path,
        read_options=pacsv.ReadOptions(encoding=encoding, block_size=CSV_BLOCK_BYTES,
                                       column_names=names, skip_rows=1, use_threads=False),
        # Blank lines are read as rows (then dropped as layout) so that every row after
        # one keeps the number a spreadsheet shows.
        parse_options=pacsv.ParseOptions(delimiter=delim, newlines_in_values=True,
                                         ignore_empty_lines=False,
                                         invalid_row_handler=on_invalid),
        convert_options=pacsv.ConvertOptions(column_types={n: pa.string() for n in names},
                                             strings_can_be_null=False,
                                             quoted_strings_can_be_null=False),
    )


def _without_blank_rows(columns: list[pa.Array], rows: np.ndarray
                        ) -> tuple[list[pa.Array], np.ndarray]:
    """Drop records with every field empty (blank lines, a spreadsheet's ',,,' rows): they
    are layout, as blank rows of a sheet are. Their numbers go with them."""
    blank = pc.equal(columns[0], "")
    if not pc.any(blank).as_py():  # the usual case: one cheap test of the first column
        return columns, rows
    for col in columns[1:]:
        blank = pc.and_(blank, pc.equal(col, ""))
    keep = pc.invert(blank)
    return [pc.filter(c, keep) for c in columns], rows[keep.to_numpy(zero_copy_only=False)]


def _rows_over_lines(columns: list[pa.Array], rows: np.ndarray, names: list[str], delim: str
                     ) -> tuple[list[pa.Array], np.ndarray, list[BadRow], dict[str, np.ndarray]]:
    """Rows with a value running over lines. One whose later lines look like rows of the
    file (as many delimiters as a row has) is a quote left open, which swallowed them: it
    is refused here, as they would otherwise vanish into it unseen. Any other is a line
    break typed in a cell: kept, and marked by column (the loader refuses it in a column
    it loads, and keeps free text in one it does not)."""
    hits = line_break_marks(dict(zip(names, columns, strict=True)))
    if not hits:
        return columns, rows, [], {}
    swallowed = np.zeros(len(rows), bool)
    for name, hit in hits.items():
        values = pc.filter(columns[names.index(name)], pa.array(hit)).to_pylist()
        swallowed[np.flatnonzero(hit)] |= [swallows_rows(v, delim, len(names))
                                           for v in values]
    keep = ~swallowed
    marks = {name: hit[keep] for name, hit in hits.items() if hit[keep].any()}
    if not swallowed.any():
        return columns, rows, [], marks
    # Lines of the file each such row took: one more than the breaks in all its values.
    # (Not the break ending the file, which a value running to its end takes too.)
    breaks = sum(pc.fill_null(pc.count_substring_regex(
        pc.utf8_rtrim(pc.filter(c, pa.array(swallowed)), characters="\r\n"),
        LINE_BREAK.pattern), 0).to_numpy() for c in columns)
    bad = [BadRow(int(n), SPANNING_LINES.format(lines=int(b) + 1), int(b) + 1)
           for n, b in zip(rows[swallowed], breaks, strict=True)]
    kept = pa.array(keep)
    return [pc.filter(c, kept) for c in columns], rows[keep], bad, marks


def _header_only(path: Path) -> bool:
    """The file is its header row alone, without a line ending (the parser cannot skip a
    header it does not see end). ``sniff`` has refused headers past the csv module's
    field limit, so looking that far is enough."""
    with Path(path).open("rb") as fh:
        head = fh.read(csv.field_size_limit() + 1)
    return b"\n" not in head and b"\r" not in head and len(head) <= csv.field_size_limit()


def _number_rows(count: int, start: int, bad: list[BadRow]) -> tuple[np.ndarray, int, list[BadRow]]:
    """Row numbers for ``count`` good records starting at ``start``, skipping the numbers
    of bad records the parser reported (they are rare, so a simple walk is fine)."""
    skip = sorted(b.row_number for b in bad if b.row_number >= start)
    if not skip:
        return np.arange(start, start + count, dtype=np.int64), start + count, []
    numbers, n, skip_set = [], start, set(skip)
    while len(numbers) < count:
        if n not in skip_set:
            numbers.append(n)
        n += 1
    used = [b for b in bad if b.row_number < n or b.row_number == -1]
    return np.array(numbers, dtype=np.int64), n, used


def _arrow_message(exc: Exception) -> str:
    text = str(exc)  # used only to classify, never shown
    if "straddling" in text or "block" in text:
        mb = CSV_BLOCK_BYTES // (1024 * 1024)
        return (f"a row is longer than {mb} MB (or a quote is never closed); nothing was "
                "loaded")
    if "UTF8" in text or isinstance(exc, UnicodeDecodeError):
        return "text is not valid in the file's encoding; nothing was loaded"
    # The parser's own message can quote the row, which may hold identifying values.
    return "the CSV cannot be parsed (an unclosed quote?); nothing was loaded"


def cell_text(value: object) -> str | None:
    """A cell as text: whole floats without '.0', dates as ISO."""
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == datetime.min.time() \
            else value.isoformat(sep=" ")
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def open_file(path: Path, *, encoding: str | None = None, delimiter: str | None = None,
              sheet: str | None = None) -> tuple[FileFacts, list[str], Iterator[Batch]]:
    """Hash, detect and open any supported file."""
    path = Path(path)
    kind = file_format(path)
    facts = inspect(path, text=kind == "csv" and encoding is None)
    if kind == "csv":
        enc = ENCODINGS.get((encoding or facts.encoding or "utf-8").lower())
        if enc is None:
            raise ValidationError(f"unknown encoding {encoding!r}; use one of "
                                  f"{', '.join(sorted(set(ENCODINGS)))}", where=str(path))
        cut = facts.cut_tail if enc == "utf-8" else 0
        facts = FileFacts(facts.sha256, facts.size, enc, facts.bom, cut, facts.quotes)
        if facts.size == 0:
            raise ValidationError("the file is empty (no header row)", where=str(path))
        names, batches = read_csv(path, encoding=enc, delimiter=delimiter,
                                  length=facts.size - cut if cut else None,
                                  quotes=facts.quotes)
    elif kind == "parquet":
        from carepath.ingest.parquet import read_parquet

        names, batches = read_parquet(path)
    else:
        from carepath.ingest.excel import read_excel  # only Excel loads pay for openpyxl

        names, batches = read_excel(path, sheet)
    return facts, names, batches
