"""Row validation as one set-based SQL statement over the staged rows.

Each column becomes a typed expression and a list of possible problems (required,
type, code list, range, pattern, future date, reference, duplicate key, date order,
and date sense across tables). A row with no problem is loaded; a row with any is
quarantined once per problem, each naming the column, a shown (masked) value and the
rule broken.
"""

from __future__ import annotations

from dataclasses import dataclass

from carepath.ingest import nhs_number
from carepath.model.schema import Column, Table

# Date formats accepted, tried in order. Day-first: NHS extracts are British.
DATE_FORMATS = ("%Y-%m-%d", "%d/%m/%Y", "%d-%b-%Y", "%d %b %Y", "%d%b%Y", "%Y%m%d",
                "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d/%m/%Y %H:%M:%S",
                "%d/%m/%Y %H:%M")
DATE_HINT = "use YYYY-MM-DD, DD/MM/YYYY or 01-Jan-2024"
# Spreadsheet day numbers (1900 date system) of the years 1927 to 2118 are said to be one.
EXCEL_SERIAL_FIRST, EXCEL_SERIAL_LAST = 10_000, 80_000
SERIAL_DATE_TEXT = ("not a valid date: a spreadsheet's day number (45352 is 2024-03-01)? "
                    "format the column as dates before saving")
COMPACT_DATE_DIGITS = len("20240131")  # a date written as digits alone: YYYYMMDD
# A date-and-time in ISO form (fractions of a second, a 'T', a zone): read, time dropped.
ISO_DATE_TIME = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}[ T]"
# No care record is older: an earlier date is a two-digit year read as 00xx (01/03/24).
EARLIEST_DATE = "1900-01-01"
# A whole number, perhaps written by a spreadsheet as 1960.0; never 1960.5, 1e3 or 0x10.
WHOLE_NUMBER = r"[+-]?[0-9]+(\.0*)?"
# A figure as written in a CSV or saved from a spreadsheet (1.2E+05 too). DuckDB's cast
# alone would also take 1_000, which no extract writes and a typo may.
DECIMAL_NUMBER = r"[+-]?([0-9]+(\.[0-9]*)?|\.[0-9]+)([eE][+-]?[0-9]+)?"
# Written as a spreadsheet shows a figure: 1,000 or £1,000.50 or 12%.
FORMATTED_NUMBER = r"[+-]?[£$€]?[0-9][0-9,]*(\.[0-9]+)?%?"
NUMBER_FORMAT_HINT = ("write figures without thousands separators, currency signs or %: "
                      "1000.50, not £1,000.50")
# Year columns that cannot be in the future.
YEARS_NOT_FUTURE = frozenset({"year_of_birth"})
TRUE_WORDS = ("true", "t", "yes", "y", "1")
FALSE_WORDS = ("false", "f", "no", "n", "0")
# Excel's error values: what a cell shows when its formula failed.
EXCEL_ERRORS = ("#N/A", "#REF!", "#NAME?", "#VALUE!", "#DIV/0!", "#NUM!", "#NULL!",
                "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!",
                "#GETTING_DATA", "#UNKNOWN!")
EXCEL_ERROR_TEXT = "Excel's error value (the formula behind it failed)"
EXCEL_ERROR_NAMED = "Excel's error value {value} (the formula behind it failed)"
# Longest value shown in the quarantine table: a 100 MB cell stays out of it.
SHOWN_CHARS = 60
# Columns whose values are never shown unmasked.
ALWAYS_MASKED = frozenset({"nhs_number", "patient_id", "respondent_id"})
# Columns that may hold a future date (a closing date, a due date).
FUTURE_ALLOWED = frozenset({"valid_to", "due_date"})
ICD10 = (r"^[A-Z][0-9]{2}(\.?[0-9A-Z]{1,2})?$", "an ICD-10 code like C50 or C50.9")
PATTERNS = {"icd10": ICD10, "primary_diagnosis": ICD10, "underlying_cause": ICD10}
# Within-row date order: (earlier, later) column pairs, by table.
ORDER_RULES: dict[str, tuple[tuple[str, str], ...]] = {
    "organisations": (("valid_from", "valid_to"),),
    "org_hierarchy": (("valid_from", "valid_to"),),
    "patients": (("registered_from", "registered_to"),),
    "referrals": (("referral_date", "first_seen_date"), ("referral_date", "faster_diagnosis_date")),
    "admissions": (("admission_date", "discharge_date"),),
    "eol_register": (("entry_date", "exit_date"),),
}


@dataclass(frozen=True)
class CrossRule:
    """A date-sense rule against another table, joined on patient_id."""

    other: str
    condition: str  # SQL on t (the row) and o (the other table's row)
    column: str
    reason: str


CROSS_RULES: dict[str, tuple[CrossRule, ...]] = {
    "tumours": (CrossRule("deaths", "t.diagnosis_date > o.date_of_death", "diagnosis_date",
                          "diagnosis after the person's date of death"),),
    "deaths": (
        CrossRule("tumours", "o.diagnosis_date > t.date_of_death", "date_of_death",
                  "death before a recorded cancer diagnosis"),
        CrossRule("patients", "year(t.date_of_death) < o.year_of_birth", "date_of_death",
                  "death before the person's year of birth"),
    ),
    "patients": (CrossRule("deaths", "year(o.date_of_death) < t.year_of_birth", "year_of_birth",
                           "year of birth after the person's recorded death"),),
}


def q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def lit(value: object) -> str:
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    return repr(value)


def typed_expr(col: Column, raw: str) -> str:
    if col.type == "text":
        return raw
    if col.type == "int":
        return (f"CASE WHEN regexp_full_match({raw}, {lit(WHOLE_NUMBER)}) "
                f"THEN TRY_CAST({raw} AS BIGINT) END")
    if col.type == "float":  # not NaN or infinity: no figure is. + 0.0 makes -0 zero.
        return (f"CASE WHEN regexp_full_match({raw}, {lit(DECIMAL_NUMBER)}) AND "
                f"isfinite(TRY_CAST({raw} AS DOUBLE)) THEN TRY_CAST({raw} AS DOUBLE) + 0.0 END")
    if col.type == "date":
        fmts = ", ".join(lit(f) for f in DATE_FORMATS)
        # Digits alone are a date as YYYYMMDD only: %m and %d take one digit, so 2024111
        # would be read as 1 November (or was it 11 January?).
        return (f"CASE WHEN length({raw}) <> {COMPACT_DATE_DIGITS} AND regexp_full_match("
                f"{raw}, '[0-9]+') THEN NULL ELSE "
                f"CAST(COALESCE(TRY_STRPTIME({raw}, [{fmts}]), CASE WHEN regexp_matches("
                f"{raw}, {lit(ISO_DATE_TIME)}) THEN TRY_CAST({raw} AS TIMESTAMP) END) AS DATE)"
                " END")
    if col.type == "timestamp":
        return f"TRY_CAST({raw} AS TIMESTAMP)"
    trues = ", ".join(lit(w) for w in TRUE_WORDS)
    falses = ", ".join(lit(w) for w in FALSE_WORDS)
    return (f"CASE WHEN lower({raw}) IN ({trues}) THEN TRUE "
            f"WHEN lower({raw}) IN ({falses}) THEN FALSE END")


def _not_found(ref_table: str, ref_col: str, val: str) -> str:
    """Why a reference is not found; one in the wrong letter case says so ('w90001' read
    only as not found, where W90001 is there: a check). Codes are compared as written."""
    said = f"not found in {ref_table}.{ref_col}"
    upper = f"EXISTS (SELECT 1 FROM {q(ref_table)} u WHERE u.{q(ref_col)} = upper({val}))"
    return (f"CASE WHEN {val} <> upper({val}) AND {upper} THEN "
            f"{lit(said + ' as written: it is there in capitals (codes are compared as written)')}"
            f" ELSE {lit(said)} END")


def _date_reason(raw: str) -> str:
    """Why a date was not read; a spreadsheet's day number (45352, saved from a cell not
    formatted as a date) is said to be one (a generic error gave no hint: a check). One
    reason for them all, so the summary counts them together."""
    serial = f"TRY_CAST({raw} AS INTEGER)"
    return (f"CASE WHEN regexp_full_match({raw}, '[0-9]{{5}}') AND {serial} BETWEEN "
            f"{EXCEL_SERIAL_FIRST} AND {EXCEL_SERIAL_LAST} THEN {lit(SERIAL_DATE_TEXT)} "
            f"ELSE {lit(f'not a valid date ({DATE_HINT})')} END")


def _number_reason(col: Column, raw: str) -> str:
    """Why a number was not read; one formatted as a spreadsheet shows it (1,000, £12.50,
    12%) says how to write it. One reason for them all, so the summary counts them
    together."""
    said = f"not a valid {col.type}"
    return (f"CASE WHEN regexp_full_match({raw}, {lit(FORMATTED_NUMBER)}) AND "
            f"regexp_matches({raw}, '[,£$€%]') THEN "
            f"{lit(f'{said}: {NUMBER_FORMAT_HINT}')} ELSE {lit(said)} END")


def code_expr(col: Column, raw: str) -> str:
    """Coded text accepted in any letter case, stored as the code list spells it."""
    whens = " ".join(f"WHEN {lit(str(c).lower())} THEN {lit(c)}" for c in col.codes or ())
    return f"CASE lower({raw}) {whens} END"


def shown(col_name: str, raw: str, identifying: bool) -> str:
    if identifying or col_name in ALWAYS_MASKED:  # as nhs_number.mask
        keep = f"least({nhs_number.MASK_KEEP}, length({raw}) // {nhs_number.MASK_SHARE})"
        return (f"CASE WHEN {raw} IS NULL THEN NULL ELSE left({raw}, {keep}) || "
                f"repeat('*', length({raw}) - {keep}) END")
    # An NHS number typed into any other column is masked too.
    safe = raw
    for _ in range(nhs_number.MASK_PASSES):
        safe = (f"regexp_replace({safe}, '{nhs_number.NHS_IN_TEXT_SQL}', "
                f"'\\1\\2{nhs_number.NHS_IN_TEXT_MASKED}\\3', 'g')")
    return (f"CASE WHEN length({raw}) > {SHOWN_CHARS} THEN left({safe}, {SHOWN_CHARS}) || "
            f"'... (' || length({raw}) || ' characters)' ELSE {safe} END")


@dataclass(frozen=True)
class Check:
    """One rule: a SQL condition true for a bad row, and what to record when it is."""

    cond: str
    column_sql: str
    value_sql: str
    reason_sql: str

    def case(self) -> str:
        return (f"CASE WHEN {self.cond} THEN {{'column': {self.column_sql}, 'value': "
                f"{self.value_sql}, 'reason': {self.reason_sql}}} END")


def problem(cond: str, column: str, value_sql: str, reason_sql: str) -> Check:
    return Check(cond, lit(column), value_sql, reason_sql)


@dataclass
class Plan:
    """SQL that types the staged rows and lists every problem of each row."""

    table: Table
    stage: str
    present: frozenset[str]
    check_references: frozenset[str]  # referenced tables that hold rows
    check_cross: frozenset[str]  # tables for cross-table date sense that hold rows
    org_intervals: str | None = None  # temp table from org_intervals_sql(), when built

    @property
    def needs_org_intervals(self) -> bool:
        """Rows carry a date and reference organisations: check 'open on that date'."""
        return bool(self.table.dates) and "organisations" in self.check_references and \
            self.table.name != "organisations" and bool(self._org_columns())

    def _org_columns(self) -> list[Column]:
        return [c for c in self.table.columns if c.references == "organisations.org_code"]

    @staticmethod
    def org_intervals_sql() -> str:
        """Each organisation's validity intervals as one list, so the date check is an
        equality join on the code plus a list test instead of a range join."""
        return ("SELECT org_code, list({'f': valid_from, 't': valid_to}) AS ivs "
                "FROM organisations GROUP BY org_code")

    def typed_select(self, *, for_checks: bool = True) -> str:
        """Staged values (the loader has already trimmed them) typed; empty text is NULL.
        ``for_checks``: with what only the checks read (the duplicate flag and the
        organisations' open intervals), which rows going into the table do not need."""
        parts = ['s."__id"', 's."__row"', 's."__pre_column"', 's."__pre_value"',
                 's."__pre_reason"']
        for col in self.table.columns:
            raw = f"nullif(s.{q(col.name)}, '')" if col.name in self.present else "NULL"
            parts.append(f"{raw} AS {q('raw:' + col.name)}")
            expr = code_expr(col, raw) if col.codes and col.type == "text" else \
                typed_expr(col, raw)
            parts.append(f"CAST({expr} AS {col.sql_type}) AS {q(col.name)}")
        if self.table.key and for_checks:
            parts.append(f's."__id" IN (SELECT "__id" FROM {q(self.dups)}) AS "__dup"')
        if self.org_intervals and for_checks:
            for col in self._org_columns():
                raw = f"nullif(s.{q(col.name)}, '')" if col.name in self.present \
                    else "NULL"
                parts.append(f"(SELECT o.ivs FROM {q(self.org_intervals)} o WHERE o.org_code = "
                             f"{raw}) AS {q('ivs:' + col.name)}")
        return f"SELECT {', '.join(parts)} FROM {q(self.stage)} s"

    @property
    def dups(self) -> str:
        return f"{self.stage}_dups"

    def _typed_keys(self) -> list[str]:
        keys = []
        for k in self.table.key:
            col = self.table.column(k)
            raw = f"nullif(s.{q(k)}, '')" if k in self.present else "NULL"
            keys.append(code_expr(col, raw) if col.codes and col.type == "text"
                        else typed_expr(col, raw))
        return keys

    def dups_sql(self) -> str:
        """Rows repeating the key of an earlier row of this load: of this chunk, or of a
        row quarantined from an earlier chunk or file (whichever chunk the repeat falls
        in, it is a duplicate; a repeat of a loaded row is found as already in the table).
        From the narrow ``chunk_keys`` table, so it stays cheap."""
        keys = ", ".join(f"k{i}" for i in range(len(self.table.key)))
        # Only keys whose hash repeats can repeat (a cheap integer group-by), so the
        # window that orders each key's rows runs over a handful of rows, not the chunk.
        repeated = (f"SELECT h FROM {q(self.chunk_keys)} GROUP BY h HAVING count(*) > 1")
        return (f"SELECT \"__id\" FROM (SELECT \"__id\", row_number() OVER (PARTITION BY "
                f"{keys} ORDER BY \"__id\") AS n FROM {q(self.chunk_keys)} "
                f"SEMI JOIN ({repeated}) r USING (h)) WHERE n > 1 UNION "
                f"SELECT c.\"__id\" FROM {q(self.chunk_keys)} c SEMI JOIN "
                f"{q(self.bad_keys)} x ON c.h = x.h AND {self._same_key('x')}")

    def _same_key(self, other: str) -> str:
        """The chunk's key (``c.k0`` ...) equals ``other``'s, an empty optional part
        equal to an empty one (a NULL = NULL test is never true)."""
        return " AND ".join(f"{other}.k{i} IS NOT DISTINCT FROM c.k{i}"
                            for i in range(len(self.table.key)))

    @property
    def bad_keys(self) -> str:
        """Keys of the rows of this load quarantined so far (one table for the load's
        transaction, shared by its files and chunks)."""
        return f"__load_bad_keys_{self.table.name}"

    def bad_keys_ddl(self) -> str:
        cols = ", ".join(f"k{i} {self.table.column(k).sql_type}"
                         for i, k in enumerate(self.table.key))
        return f"CREATE TEMP TABLE IF NOT EXISTS {q(self.bad_keys)} (h UBIGINT, {cols})"

    def remember_bad_keys_sql(self) -> str:
        return (f"INSERT INTO {q(self.bad_keys)} SELECT * EXCLUDE (\"__id\") FROM "
                f"{q(self.chunk_keys)} SEMI JOIN {q(self.bad_rows)} b USING (\"__id\")")

    @property
    def existing(self) -> str:
        return f"{self.stage}_existing"

    @property
    def seen(self) -> str:
        """Hashes of every key in the target: its rows before this load and each chunk's
        rows as they go in. Probing it is cheap and does not grow with the key's width."""
        return f"{self.stage}_seen"

    @property
    def chunk_keys(self) -> str:
        return f"{self.stage}_keys"

    def _key_hash(self, keys: list[str]) -> str:
        return f"hash({', '.join(keys)})"

    def seen_sql(self) -> str:
        return (f"SELECT {self._key_hash([q(k) for k in self.table.key])} AS h "
                f"FROM {q(self.table.name)}")

    def chunk_keys_sql(self) -> str:
        typed = [f"CAST({e} AS {self.table.column(k).sql_type})"
                 for e, k in zip(self._typed_keys(), self.table.key, strict=True)]
        aliased = ", ".join(f"{e} AS k{i}" for i, e in enumerate(typed))
        # A row lacking a required part of its key is quarantined for that, and repeats
        # nothing: two rows without an event_id are not duplicates of each other.
        complete = " AND ".join(f"{e} IS NOT NULL" for e, k in zip(typed, self.table.key,
                                                                  strict=True)
                                if self.table.column(k).required) or "TRUE"
        return (f"SELECT s.\"__id\", {self._key_hash(typed)} AS h, {aliased} "
                f"FROM {q(self.stage)} s WHERE {complete}")

    def existing_candidates_sql(self) -> str:
        """Rows whose key hash is already in the target: a superset of the rows whose key
        is (hashes can collide), checked exactly by ``existing_sql``."""
        return (f"SELECT c.* FROM {q(self.chunk_keys)} c SEMI JOIN {q(self.seen)} x "
                f"ON c.h = x.h")

    def existing_sql(self, candidates: str) -> str:
        """Candidate rows whose key really is in the target (earlier loads, earlier
        chunks)."""
        on = " AND ".join(f"x.{q(k)} IS NOT DISTINCT FROM c.k{i}"
                          for i, k in enumerate(self.table.key))
        return (f"SELECT DISTINCT c.\"__id\" FROM {q(candidates)} c "
                f"JOIN {q(self.table.name)} x ON {on}")

    def remember_keys_sql(self) -> str:
        """The keys of this chunk's loaded rows, added to the hashes already seen."""
        return (f"INSERT INTO {q(self.seen)} SELECT h FROM {q(self.chunk_keys)} "
                f"ANTI JOIN {q(self.bad_rows)} b USING (\"__id\")")

    def problems(self) -> list[Check]:
        out = [Check('t."__pre_reason" IS NOT NULL', 't."__pre_column"', 't."__pre_value"',
                     't."__pre_reason"')]
        for col in self.table.columns:
            out += self._column_problems(col)
        out += self._key_problems()
        out += self._order_problems()
        out += self._cross_problems()
        return out

    def _column_problems(self, col: Column) -> list[Check]:
        raw, val = f"t.{q('raw:' + col.name)}", f"t.{q(col.name)}"
        show = shown(col.name, raw, col.identifying)
        out = []
        if col.required:
            # A refused NHS number already explains an empty patient_id.
            cond = f"{raw} IS NULL" + (' AND t."__pre_reason" IS NULL'
                                       if col.name == "patient_id" else "")
            out.append(problem(cond, col.name, "NULL", lit("required value missing")))
        if col.codes and col.type == "text":
            allowed = ", ".join(str(c) for c in col.codes)
            out.append(problem(f"{raw} IS NOT NULL AND {val} IS NULL", col.name, show,
                               lit(f"not in the code list ({allowed})")))
        elif col.type == "date":
            out.append(problem(f"{raw} IS NOT NULL AND {val} IS NULL", col.name, show,
                               _date_reason(raw)))
        elif col.type in ("int", "float"):
            out.append(problem(f"{raw} IS NOT NULL AND {val} IS NULL", col.name, show,
                               _number_reason(col, raw)))
        else:
            out.append(problem(f"{raw} IS NOT NULL AND {val} IS NULL", col.name, show,
                               lit(f"not a valid {col.type}")))
        if col.type == "text" and not col.codes:
            # Saved from a spreadsheet as text (a CSV): '#N/A' is no id or name. (An
            # Excel file's error cells are refused by the reader, with the same words.)
            errors = ", ".join(lit(e) for e in EXCEL_ERRORS)
            out.append(problem(f"left({raw}, 1) = '#' AND {raw} IN ({errors})",
                               col.name, show, lit(EXCEL_ERROR_TEXT)))
        if col.codes and col.type != "text":
            allowed = ", ".join(lit(c) for c in col.codes)
            out.append(problem(f"{val} NOT IN ({allowed})", col.name, show,
                               lit(f"not in the code list ({allowed})")))
        if col.min is not None:
            out.append(problem(f"{val} < {col.min!r}", col.name, show,
                               lit(f"below the minimum {col.min:g}")))
        if col.max is not None:
            out.append(problem(f"{val} > {col.max!r}", col.name, show,
                               lit(f"above the maximum {col.max:g}")))
        if col.name in PATTERNS:
            pattern, what = PATTERNS[col.name]
            out.append(problem(f"NOT regexp_full_match(upper({val}), {lit(pattern)})",
                               col.name, show, lit(f"not {what}")))
        if col.type == "date" and col.name not in FUTURE_ALLOWED:
            out.append(problem(f"{val} > current_date", col.name, show,
                               lit("date in the future")))
        if col.type == "date":
            out.append(problem(f"{val} < DATE {lit(EARLIEST_DATE)}", col.name, show,
                               lit(f"date before {EARLIEST_DATE}: a two-digit year? "
                                   f"({DATE_HINT})")))
        if col.name in YEARS_NOT_FUTURE:
            out.append(problem(f"{val} > year(current_date)", col.name, show,
                               lit("year in the future")))
        out += self._reference_problems(col, val, show)
        return out

    def _reference_problems(self, col: Column, val: str, show: str) -> list[Check]:
        if not col.references:
            return []
        ref_table, ref_col = col.references.split(".")
        if ref_table not in self.check_references or ref_table == self.table.name:
            return []
        when = self.table.dates[0] if self.table.dates else None
        if ref_table == "organisations" and self.org_intervals and when:
            return self._org_open_problems(col, val, show, when)
        exists = f"EXISTS (SELECT 1 FROM {q(ref_table)} r WHERE r.{q(ref_col)} = {val})"
        out = [problem(f"{val} IS NOT NULL AND NOT {exists}", col.name, show,
                       _not_found(ref_table, ref_col, val))]
        if ref_table == "organisations" and when:
            d = f"t.{q(when)}"
            valid = (f"EXISTS (SELECT 1 FROM organisations r WHERE r.org_code = {val} AND "
                     f"r.valid_from <= {d} AND (r.valid_to IS NULL OR {d} <= r.valid_to))")
            out.append(problem(f"{val} IS NOT NULL AND {d} IS NOT NULL AND {exists} AND NOT "
                               f"{valid}", col.name, show,
                               lit(f"organisation not open on the row's {when}")))
        return out

    def _org_open_problems(self, col: Column, val: str, show: str, when: str) -> list[Check]:
        ivs, d = f"t.{q('ivs:' + col.name)}", f"t.{q(when)}"
        is_open = (f"coalesce(list_bool_or(list_transform({ivs}, lambda iv: iv.f <= {d} AND "
                   f"(iv.t IS NULL OR {d} <= iv.t))), FALSE)")
        return [
            problem(f"{val} IS NOT NULL AND {ivs} IS NULL", col.name, show,
                    _not_found("organisations", "org_code", val)),
            problem(f"{val} IS NOT NULL AND {d} IS NOT NULL AND {ivs} IS NOT NULL AND NOT "
                    f"{is_open}", col.name, show,
                    lit(f"organisation not open on the row's {when} in the organisations "
                        "loaded (load a map of that date first, then this table's files "
                        "again with --replace, which empties the table first)")),
        ]

    def _key_problems(self) -> list[Check]:
        if not self.table.key:
            return []
        cols = ", ".join(self.table.key)
        first = self.table.key[0]
        in_table = f't."__id" IN (SELECT "__id" FROM {q(self.existing)})'
        key_shown = self._key_shown()
        return [
            problem('t."__dup"', first, key_shown,
                    lit(f"duplicate of an earlier row in this load (same {cols})")),
            problem(f'NOT t."__dup" AND {in_table}', first, key_shown,
                    lit(f"already in {self.table.name} (same {cols}): loaded earlier in this "
                        "file, by another file of this load or by an earlier load (to "
                        "replace them, load again with --replace: load-source replaces the "
                        "rows with the same keys, load empties the table first)")),
        ]

    def _key_shown(self) -> str:
        """The key as shown: its one value, or each part named ("domain=physical,
        concern=(empty)") so the rows it repeats can be found; masked as each column is."""
        parts = [(k, shown(k, f"t.{q('raw:' + k)}", self.table.column(k).identifying))
                 for k in self.table.key]
        if len(parts) == 1:
            return parts[0][1]
        named = [f"{lit(k + '=')} || coalesce({sql}, '(empty)')" for k, sql in parts]
        return f"concat_ws(', ', {', '.join(named)})"

    def _order_problems(self) -> list[Check]:
        out = []
        for earlier, later in ORDER_RULES.get(self.table.name, ()):
            a, b = f"t.{q(earlier)}", f"t.{q(later)}"
            out.append(problem(f"{b} < {a}", later, f"CAST({b} AS VARCHAR)",
                               lit(f"{later} is before {earlier}")))
        return out

    def _cross_problems(self) -> list[Check]:
        out = []
        for rule in CROSS_RULES.get(self.table.name, ()):
            if rule.other not in self.check_cross:
                continue
            cond = (f"EXISTS (SELECT 1 FROM {q(rule.other)} o WHERE o.patient_id = t.patient_id "
                    f"AND {rule.condition})")
            out.append(problem(cond, rule.column, f"CAST(t.{q(rule.column)} AS VARCHAR)",
                               lit(rule.reason)))
        return out

    @property
    def bad_rows(self) -> str:
        return f"{self.stage}_bad"

    def bad_rows_sql(self) -> str:
        """The bad rows, typed: every rule as one cheap boolean, so good rows (most)
        never build a problem list, and the few bad rows are kept whole for
        ``problems_sql`` rather than typed again from the chunk."""
        bad = " OR ".join(f"coalesce({c.cond}, FALSE)" for c in self.problems())
        return f"SELECT * FROM ({self.typed_select()}) t WHERE {bad}"

    def problems_sql(self) -> str:
        """(row, problem) for every problem of the bad rows (from ``bad_rows_sql``). A
        column the reader refused a value of (an Excel error, an invalid NHS number) has
        that one problem: its empty or unreadable value breaks other rules only because
        of it. Applied here, to the few bad rows, rather than in every row's test."""
        pre, *rest = self.problems()
        cases = ",\n  ".join([pre.case(), *(
            Check(f'({c.cond}) AND t."__pre_column" IS DISTINCT FROM {c.column_sql}',
                  c.column_sql, c.value_sql, c.reason_sql).case() for c in rest)])
        return (f"SELECT \"__row\", unnest(list_filter([\n  {cases}\n], lambda p: p IS NOT "
                f"NULL)) AS p FROM {q(self.bad_rows)} t")

    def good_sql(self) -> str:
        return (f"SELECT * FROM ({self.typed_select(for_checks=False)}) t "
                f"ANTI JOIN {q(self.bad_rows)} b USING (\"__id\")")
