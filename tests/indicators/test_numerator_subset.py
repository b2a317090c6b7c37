"""`indicators check` warns when a proportion's numerator does not say it keeps to its
denominator's rows (a value over 100% is then withheld cell by cell at compute)."""

from __future__ import annotations

import itertools

import yaml
from hypothesis import given
from hypothesis import strategies as st

from carepath.cli import main
from carepath.indicators import expr
from carepath.indicators.definition import load_file
from carepath.indicators.library import LIBRARY_DIR, builtin
from carepath.indicators.subset import implies, numerator_notes


def _variant(tmp_path, name: str, change) -> object:
    data = yaml.safe_load((LIBRARY_DIR / f"{name}.yaml").read_text())
    change(data)
    path = tmp_path / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data))
    return load_file(path)


def test_no_builtin_definition_is_warned_of():
    assert {d.id: numerator_notes(d) for d in builtin().values()
            if numerator_notes(d)} == {}


def test_a_numerator_dropping_a_denominator_condition_is_named(tmp_path):
    defn = _variant(tmp_path, "emergency_presentation_pct", lambda d: d["numerator"].update(
        where="route = 'emergency'"))
    (note,) = numerator_notes(defn)
    assert note.startswith("the numerator's filter does not say `not (startswith(icd10, "
                           "'C44'))`")
    assert "numerator exceeds denominator" in note


def test_a_wider_value_list_in_the_numerator_is_named(tmp_path):
    defn = _variant(tmp_path, "early_stage_known", lambda d: d["numerator"].update(
        where=d["numerator"]["where"].replace("stage in ('1', '2')", "stage in ('1', 'U')")))
    assert [n.split(", which")[0] for n in numerator_notes(defn)] == [
        "the numerator's filter does not say `stage in ('1', '2', '3', '4')`"]


def test_a_numerator_not_requiring_what_the_denominator_requires_is_named(tmp_path):
    def loosen(d):
        d["numerator"]["require"][0]["where"] = "treatments.start_date <= referral_date + 62 days"

    defn = _variant(tmp_path, "treatment_62_day", loosen)
    (note,) = numerator_notes(defn)
    assert note.startswith("the numerator does not require referrals rows (on tumour_id)")


def test_latest_by_counts_as_on_or_before_the_counted_date():
    """died_in_preferred_place's denominator says `date_recorded <= deaths.date_of_death`;
    its numerator's latest_by means the same (the engine takes the latest on or before)."""
    assert numerator_notes(builtin()["died_in_preferred_place"]) == []


def test_a_latest_row_chosen_otherwise_is_not_taken_for_the_same(tmp_path):
    """'The latest stated preference matches' was read as implying 'the latest preference
    is stated': a person who stated home, then 'not stated', and died at home is in the
    first and not the second (a review)."""
    def change(d):
        d["numerator"]["require"] = [{
            "table": "preferences", "on": "patient_id", "latest_by": "date_recorded",
            "among": "preferred_place != 'not_stated'",
            "where": "preferred_place = deaths.place_of_death"}]
        d["denominator"]["require"] = [{
            "table": "preferences", "on": "patient_id", "latest_by": "date_recorded",
            "where": "preferred_place != 'not_stated'"}]

    defn = _variant(tmp_path, "died_in_preferred_place", change)
    (note,) = numerator_notes(defn)
    assert note.startswith("the numerator does not require preferences rows")


def test_a_numerator_dated_otherwise_is_named():
    """(Another date column is refused by check already; until and dated_by are not.)"""
    base = builtin()["usc_conversion_rate"]
    defn = base.model_copy(update={"numerator": base.numerator.model_copy(
        update={"until": "referral_date"})})
    assert any(n.startswith("the numerator dates its rows") for n in numerator_notes(defn))


def test_check_prints_the_warning_and_still_passes(tmp_path, capsys):
    _variant(tmp_path, "emergency_presentation_pct",
             lambda d: d["numerator"].update(where="route = 'emergency'"))
    main(["indicators", "check", str(tmp_path)])
    out = capsys.readouterr()
    assert out.out.strip().endswith("OK (in " + str(tmp_path) + "), with 1 warning above")
    assert " ".join(out.err.split()).startswith(
        f"warning: {tmp_path / 'emergency_presentation_pct.yaml'}: the numerator's filter")


# Soundness: whenever `implies` says yes, every row meeting the first meets the second,
# over every row of a small domain (a, b in {x, y, z, null}; f true, false or null).
VALUES = ("x", "y", "z")
ROWS = [{"a": a, "b": b, "f": f} for a, b, f in itertools.product(
    (*VALUES, None), (*VALUES, None), (True, False, None))]


def _holds(node, row) -> bool:
    if isinstance(node, expr.ColumnRef):
        return row[node.name] is True
    if isinstance(node, expr.Compare):
        v = row[node.left.name]
        return v is not None and v == node.right.value
    if isinstance(node, expr.InList):
        v = row[node.operand.name]
        inside = v is not None and v in {lit.value for lit in node.values}
        return (v is not None and not inside) if node.negated else inside
    if isinstance(node, expr.IsNull):
        return (row[node.operand.name] is None) != node.negated
    if isinstance(node, expr.BoolOp):
        parts = [_holds(i, row) for i in node.items]
        return any(parts) if node.op == "or" else all(parts)
    raise AssertionError(node)


def _lit(v):
    return expr.Literal(v, "text")


columns = st.sampled_from([expr.ColumnRef("a"), expr.ColumnRef("b")])
atoms = st.one_of(
    st.builds(lambda c, v: expr.Compare("=", c, _lit(v)), columns, st.sampled_from(VALUES)),
    st.builds(lambda c, vs, n: expr.InList(c, tuple(_lit(v) for v in sorted(vs)), n),
              columns, st.sets(st.sampled_from(VALUES), min_size=1), st.booleans()),
    st.builds(expr.IsNull, columns, st.booleans()),
    st.just(expr.ColumnRef("f")),
)
conditions = st.recursive(atoms, lambda inner: st.builds(
    lambda items: expr.BoolOp("or", tuple(items)), st.lists(inner, min_size=2, max_size=3)),
    max_leaves=6)


@given(conditions, conditions)
def test_implies_never_claims_what_a_row_breaks(first, second):
    if implies(first, second):
        assert all(_holds(second, row) for row in ROWS if _holds(first, row))


def test_implies_reads_the_forms_definitions_use():
    p = expr.parse
    assert implies(p("stage in ('1', '2')"), p("stage in ('1', '2', '3', '4')"))
    assert implies(p("stage = '1'"), p("stage in ('1', '2')"))
    assert implies(p("positive"), p("positive is not null"))
    assert implies(p("a = 'x' or a = 'y'"), p("a in ('x', 'y', 'z')"))
    assert implies(p("a = 'x'"), p("a = 'x' or b = 'y'"))
    assert not implies(p("stage in ('1', 'U')"), p("stage in ('1', '2', '3', '4')"))
    assert not implies(p("a is not null"), p("a = 'x'"))
