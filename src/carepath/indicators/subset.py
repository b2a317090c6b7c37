"""Whether a proportion's numerator says it counts only rows its denominator counts.

A numerator whose filter leaves out one of the denominator's conditions can count rows the
denominator does not: a value over 100%, which the compute then withholds cell by cell
("numerator exceeds denominator"). ``check`` says so of the definition beforehand.

Proving one filter narrower than another is undecidable in general; this reads the forms
definitions are written in: the same condition, a value list within a wider one (``stage in
('1', '2')`` within ``stage in ('1', '2', '3', '4')``), an equality with a listed value, a
comparison or a true flag implying "is not null", either side of an "or". What it cannot
read it reports, as a warning: the author knows whether it holds.
"""

from __future__ import annotations

from carepath.indicators import expr
from carepath.indicators.definition import Count, Definition, Related
from carepath.indicators.expr_tree import (
    Between,
    BoolOp,
    ColumnRef,
    Compare,
    InList,
    IsNull,
    Literal,
)
from carepath.indicators.semantics import top_conditions


def _tested(node) -> object | None:
    """The column a condition compares with a value (so it is not null where it holds)."""
    if isinstance(node, ColumnRef):  # a true flag
        return node
    if isinstance(node, Compare):
        return node.left if isinstance(node.right, Literal) else None
    if isinstance(node, (InList, Between)) and not node.negated:
        return node.operand
    return None


def implies(given, wanted) -> bool:
    """Whether a row meeting ``given`` always meets ``wanted`` (False when not provable)."""
    if given == wanted:
        return True
    if isinstance(given, BoolOp) and given.op == "or":
        return all(implies(item, wanted) for item in given.items)
    if isinstance(wanted, BoolOp) and wanted.op == "or":
        return any(implies(given, item) for item in wanted.items)
    if isinstance(wanted, InList) and not wanted.negated:
        if isinstance(given, InList) and not given.negated and given.operand == wanted.operand:
            return set(given.values) <= set(wanted.values)
        if isinstance(given, Compare) and given.op == "=" and given.left == wanted.operand:
            return given.right in wanted.values
    if isinstance(wanted, IsNull) and wanted.negated:
        return _tested(given) == wanted.operand
    return False


def _missing(given: list, wanted: list) -> list:
    return [w for w in wanted if not any(implies(g, w) for g in given)]


def _related_terms(rel: Related, count: Count) -> list:
    """What a related row meets: its filters, and for ``latest_by`` the engine's own
    condition, a row dated on or before the counted row's date."""
    terms = top_conditions(rel.where) + top_conditions(rel.among)
    if rel.latest_by:
        terms.append(Compare("<=", ColumnRef(rel.latest_by),
                             ColumnRef(count.date, count.table)))
    return terms


def _same_link(a: Related, b: Related) -> bool:
    return (a.table, a.on) == (b.table, b.on)


def _same_choice(a: Related, b: Related) -> bool:
    """Both pick the same related row: the latest (of the same candidates) by the same date.
    The latest row is then tested by ``where``, so the filters of two relations choosing
    differently say nothing of each other (a review: 'latest stated preference' is not
    'latest preference, stated')."""
    return (a.latest_by, top_conditions(a.among)) == (b.latest_by, top_conditions(b.among))


def _requires(given: Related, wanted: Related, num: Count, den: Count) -> bool:
    """Whether a row the numerator keeps by ``given`` is one the denominator keeps by
    ``wanted``."""
    if not _same_link(given, wanted):
        return False
    if wanted.latest_by:  # the denominator tests its latest row: the same row, narrower
        return _same_choice(given, wanted) and not _missing(
            top_conditions(given.where), top_conditions(wanted.where))
    # The denominator asks for some row: the numerator's (its latest, or any) is one.
    return not _missing(_related_terms(given, num), _related_terms(wanted, den))


def _excludes(given: Related, wanted: Related, num: Count, den: Count) -> bool:
    """Whether the numerator's exclusion ``given`` reaches every row the denominator's
    ``wanted`` excludes."""
    if not _same_link(given, wanted):
        return False
    if wanted.latest_by or given.latest_by:
        return _same_choice(given, wanted) and not _missing(
            top_conditions(wanted.where), top_conditions(given.where))
    return not _missing(_related_terms(wanted, den), _related_terms(given, num))


def numerator_notes(defn: Definition) -> list[str]:
    """Warnings, one per denominator condition the numerator does not say it keeps."""
    num, den = defn.numerator, defn.denominator
    if defn.statistic != "proportion" or not isinstance(den, Count) or num.table != den.table:
        return []  # a population, or rows dated by another table's: checked elsewhere
    notes = [f"the numerator's filter does not say `{expr.shown(term)}`, which the "
             f"denominator's does" for term in _missing(top_conditions(num.where),
                                                       top_conditions(den.where))]
    if (num.date, num.dated_by, num.until) != (den.date, den.dated_by, den.until):
        notes.append("the numerator dates its rows (date, dated_by or until) otherwise than "
                     "the denominator")
    for rel in den.require:
        if not any(_requires(r, rel, num, den) for r in num.require):
            notes.append(f"the numerator does not require {rel.table} rows (on {rel.on}) "
                         f"meeting everything the denominator's require does")
    for rel in den.exclude:
        if not any(_excludes(r, rel, num, den) for r in num.exclude):
            notes.append(f"the numerator does not exclude every {rel.table} row (on "
                         f"{rel.on}) the denominator's exclude does")
    return [f"{note}: if it counts rows the denominator does not, those values are "
            "withheld as 'numerator exceeds denominator'" for note in notes]
