"""The filter language: parse, type-check against the schema, compile to Ibis."""

from __future__ import annotations

from datetime import date, timedelta

import ibis
import pytest
from hypothesis import given
from hypothesis import strategies as st

from carepath.engine import filters
from carepath.indicators import expr

SCOPE = {"stage": "text", "age": "int", "diagnosis_date": "date", "seen": "date",
         "flag": "bool", "icd10": "text"}


def run(text: str, rows: dict) -> list:
    table = ibis.memtable(rows)
    node = expr.parse_filter(text, SCOPE)
    return table.filter(filters.to_ibis(node, lambda r: table[r.name])).to_pandas().to_dict("list")


@pytest.mark.parametrize("text, kept", [
    ("stage in ('1', '2')", [1, 2]),
    ("stage not in ('1', '2')", [3]),
    ("age between 50 and 70", [2]),
    ("not (age < 60) and stage != '3'", [2]),
    ("stage = '1' or age >= 70", [1, 3]),
    ("seen <= diagnosis_date + 28 days", [1, 2]),
    ("seen is null", []),
    ("startswith(icd10, 'C4')", [3]),
    ("year(diagnosis_date) = 2024", [1, 2, 3]),
])
def test_filters_keep_the_rows_a_reader_expects(text, kept):
    rows = {"id": [1, 2, 3], "stage": ["1", "2", "3"], "age": [40, 65, 80],
            "diagnosis_date": [date(2024, 1, 1)] * 3,
            "seen": [date(2024, 1, 20), date(2024, 1, 29), date(2024, 3, 1)],
            "flag": [True, False, True], "icd10": ["C50", "C34", "C44"]}
    assert run(text, rows)["id"] == kept


@pytest.mark.parametrize("text, message", [
    ("stag = '1'", "unknown column 'stag'"),
    ("stage = 1", "mixes text and int at 'stage = 1'"),
    # Found by a user test: the message quoted the whole filter, not the wrong comparison.
    ("age > 3 and diagnosis_date > 'yesterday'",
     "mixes date and text at \"diagnosis_date > 'yesterday'\""),
    ("seen + 3 days between 1 and 2", "mixes date and int at 'seen \\+ 3 days between"),
    ("stage in ('1', 2)", "mixes text and int at 'stage in \\(... 2 ...\\)'"),
    ("stage in ('1',", "expected a literal value"),
    ("age + 3", "only date offsets"),
    ("drop table tumours", "unexpected token"),
    ("stage = '1'; delete", "unexpected character ';'"),
    ("age", "must be true or false"),
    ("frobnicate(stage)", "unknown function"),
    ("date '2024-13-01' < seen", "not a date"),
    # Once past `check` and then a traceback that rolled back the whole compute:
    ("age > 99999999999999999999999999", "below 2\\^63 at '99999999999999999999999999'"),
    ("seen <= seen + 99999999999999999999 days", "at most 36,525 days"),
    # From a bad-input hunt: 3,000 chained offsets overflowed the checker's stack (a
    # traceback from every command reading the folder), and the language read more than
    # it says: compact and week dates, other scripts' digits and spaces.
    ("seen <= diagnosis_date" + " + 1 days" * 6, "more than 5 date offsets in a row"),
    ("seen >= date '20240101'", "not a date \\(use 'YYYY-MM-DD'\\)"),
    ("seen >= date '2024-W01-1'", "not a date"),
    ("age > \u0667\u0665", "unexpected character"),
    ("age > \uff17\uff15", "unexpected character"),
    ("age\u00a0> 75", "unexpected character"),
    ("age between 84 and 65", "'between 84 and 65' has its bounds the wrong way round"),
    ("age not between 84 and 65", "wrong way round, so the condition holds everything"),
    ("year(" * 1000 + "seen" + ")" * 1000 + " = 1", "nested more than 40 deep"),
    ("seen between date '2024-02-01' and date '2024-01-01'", "lower bound comes first"),
    ("seen <= seen + 0.5 days", "whole number of days at '0.5'"),
])
def test_bad_filters_name_the_offending_token(text, message):
    """Each error names the part of the filter that is wrong."""
    with pytest.raises(expr.ExprError, match=message) as info:
        expr.parse_filter(text, SCOPE, where="file.yaml: field numerator.where")
    assert "file.yaml" in str(info.value)


CODED = {**SCOPE, "stage": expr.ColumnType("text", ("1", "2", "3", "4", "U")),
         "quintile": expr.ColumnType("int", (1, 2, 3, 4, 5))}


def test_an_unknown_table_column_lists_that_tables_columns():
    """A misspelt tumours.column inside a related table's filter listed the related table's
    columns (found by a user test)."""
    scope = {"tumours.diagnosis_date": "date", "tumours.stage": "text", "event_date": "date"}
    with pytest.raises(expr.ExprError, match="available: tumours.diagnosis_date, "
                                             "tumours.stage in"):
        expr.parse_filter("event_date >= tumours.diagnosis_datex", scope)
    with pytest.raises(expr.ExprError, match="unknown table 'tumors' in 'tumors.diagnosis_date'"
                                             "; tables here: tumours"):
        expr.parse_filter("event_date >= tumors.diagnosis_date", scope)


@pytest.mark.parametrize("text, message", [
    ("stage in ('I', 'II')", "'I' is not a code of stage"),
    ("stage = 'u'", "'u' is not a code of stage (its codes, exactly as written: 1, 2, 3, 4, U)"),
    ("'5' != stage", "'5' is not a code of stage"),
    ("quintile not in (1, 6)", "6 is not a code of quintile"),
])
def test_a_value_the_data_model_does_not_allow_is_named(text, message):
    """`route = 'Emergency'` passed check and published 0% (found by a user test): the
    data model lists the codes a coded column holds, and nothing else can match."""
    with pytest.raises(expr.ExprError, match=message.replace("(", "\\(").replace(")", "\\)")):
        expr.parse_filter(text, CODED)


@pytest.mark.parametrize("text", ["stage in ('1', '2', 'U')", "stage != '4'",
                                  "quintile = 1", "stage > '1'", "stage is null"])
def test_codes_the_data_model_allows_pass(text):
    assert expr.parse_filter(text, CODED)


@given(st.text(alphabet="abcdefg '()=<>!,.+-0123456789", max_size=40))
def test_any_text_parses_or_fails_with_an_expr_error(text):
    try:
        expr.parse_filter(text, SCOPE)
    except expr.ExprError:
        pass


@given(st.integers(min_value=0, max_value=120), st.integers(min_value=0, max_value=120))
def test_between_agrees_with_python(low, high):
    """Bounds the wrong way round hold nothing, so they are refused (they published 0%
    everywhere without a word); others select what Python's low <= a <= high does."""
    rows = {"id": list(range(121)), "age": list(range(121))}
    table = ibis.memtable(rows)
    text = f"age between {low} and {high}"
    if low > high:
        with pytest.raises(expr.ExprError, match="lower bound comes first"):
            expr.parse_filter(text, {"age": "int"})
        return
    node = expr.parse_filter(text, {"age": "int"})
    got = table.filter(filters.to_ibis(node, lambda r: table[r.name])).to_pandas()["id"].tolist()
    assert got == [a for a in range(121) if low <= a <= high]


OPS = {"<": lambda x, y: x < y, "<=": lambda x, y: x <= y, "=": lambda x, y: x == y,
       "!=": lambda x, y: x != y, ">": lambda x, y: x > y, ">=": lambda x, y: x >= y}


@given(st.lists(st.tuples(st.dates(date(2000, 1, 1), date(2030, 12, 31)),
                          st.dates(date(2000, 1, 1), date(2030, 12, 31))),
                min_size=1, max_size=20),
       st.integers(min_value=-400, max_value=400), st.sampled_from(sorted(OPS)),
       st.booleans())
def test_date_offsets_agree_with_python(pairs, days, op, offset_on_left):
    """Offsets in days between two dates are compiled as a difference in days (cheaper than
    date + interval in DuckDB); either side, either sign, every comparison."""
    rows = {"id": list(range(len(pairs))), "seen": [p[0] for p in pairs],
            "diagnosis_date": [p[1] for p in pairs]}
    offset = f"diagnosis_date {'+' if days >= 0 else '-'} {abs(days)} days"
    text = f"{offset} {op} seen" if offset_on_left else f"seen {op} {offset}"
    shifted = [d + timedelta(days=days) for _, d in pairs]
    expected = [i for i, ((seen, _), s) in enumerate(zip(pairs, shifted, strict=True))
                if (OPS[op](s, seen) if offset_on_left else OPS[op](seen, s))]
    assert sorted(run(text, rows)["id"]) == expected


@pytest.mark.parametrize("op, terms", [("or", 300), ("and", 257)])
def test_a_long_chain_of_ors_or_ands_compiles_and_keeps_the_right_rows(op, terms):
    """Compiled as a balanced tree: a 250-term 'or' overflowed the stack in compute after
    passing check."""
    rows = {"icd10": ["C50", "C34", "C18", "X99"], "age": [50, 60, 70, 80]}
    if op == "or":
        text = " or ".join(f"icd10 = 'C{i:02d}'" for i in range(terms))
        kept = ["C50", "C34", "C18"]
    else:
        text = " and ".join(f"age < {100 + i}" for i in range(terms))
        kept = ["C50", "C34", "C18", "X99"]
    assert run(text, rows)["icd10"] == kept


def test_deep_nesting_is_refused_by_check_not_a_traceback():
    with pytest.raises(expr.ExprError, match="nested more than 40 deep"):
        expr.parse_filter("(" * 400 + "age > 1" + ")" * 400, SCOPE)
    with pytest.raises(expr.ExprError, match="nested more than 40 deep"):
        expr.parse_filter("not " * 100 + "age > 1", SCOPE)
    assert run("(" * 40 + "age > 65" + ")" * 40, {"age": [60, 70]})["age"] == [70]


def test_an_error_in_a_long_filter_quotes_the_part_around_it():
    """3,000 chained offsets gave a message of 30,000 characters."""
    text = "seen <= diagnosis_date" + " + 1 days" * 3000
    with pytest.raises(expr.ExprError, match="more than 5 date offsets") as info:
        expr.parse_filter(text, SCOPE)
    assert len(str(info.value)) < 300 and "…" in str(info.value)
