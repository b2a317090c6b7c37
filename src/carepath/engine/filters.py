"""Filters of indicator definitions compiled to Ibis expressions, for any Ibis backend.

The filter language itself (parsing, type checking) is `carepath.indicators.expr`; it
knows nothing of engines. This module is where a checked tree meets Ibis.
"""

from __future__ import annotations

import operator
from collections.abc import Callable

import ibis

from carepath.indicators.expr_tree import (
    Between,
    BoolOp,
    Call,
    ColumnRef,
    Compare,
    InList,
    IsNull,
    Literal,
    Not,
    Offset,
)

Resolver = Callable[[ColumnRef], ibis.Value]

_INTERVAL_ARG = {"days": "days", "months": "months", "years": "years"}


_COMPARE = {"=": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le,
            ">": operator.gt, ">=": operator.ge}


def _compare_days(node: Compare, resolve: Resolver) -> ibis.Value | None:
    """``a <= b + 28 days`` on two dates as ``days from b to a <= 28``: the same answer,
    but date + interval is a timestamp in DuckDB, and casting every row to compare costs
    about twice as much over millions of rows. None when the comparison is not of this
    shape (other units, or not two dates)."""
    left, right = node.left, node.right
    if isinstance(right, Offset) and right.unit == "days":
        a, b, shift = to_ibis(left, resolve), to_ibis(right.base, resolve), int(right.amount)
    elif isinstance(left, Offset) and left.unit == "days":
        # b + k OP a  <=>  (b - a) OP -k
        a, b, shift = to_ibis(left.base, resolve), to_ibis(right, resolve), -int(left.amount)
    else:
        return None
    if not (a.type().is_date() and b.type().is_date()):
        return None
    return _COMPARE[node.op](a.delta(b, unit="day"), shift)


def to_ibis(node, resolve: Resolver) -> ibis.Value:
    """Compile a checked tree to an Ibis expression; ``resolve`` maps columns."""
    t = type(node)
    if t is Literal:
        return ibis.literal(node.value)
    if t is ColumnRef:
        return resolve(node)
    if t is Offset:
        amount = int(node.amount)
        return to_ibis(node.base, resolve) + ibis.interval(**{_INTERVAL_ARG[node.unit]: amount})
    if t is Call:
        args = [to_ibis(a, resolve) for a in node.args]
        if node.func == "startswith":
            return args[0].startswith(args[1])
        return args[0].year()
    if t is Compare:
        days = _compare_days(node, resolve)
        if days is not None:
            return days
        left, right = to_ibis(node.left, resolve), to_ibis(node.right, resolve)
        return _COMPARE[node.op](left, right)
    if t is InList:
        result = to_ibis(node.operand, resolve).isin([v.value for v in node.values])
        return ~result if node.negated else result
    if t is Between:
        result = to_ibis(node.operand, resolve).between(
            to_ibis(node.low, resolve), to_ibis(node.high, resolve))
        return ~result if node.negated else result
    if t is IsNull:
        result = to_ibis(node.operand, resolve).isnull()
        return ~result if node.negated else result
    if t is Not:
        return ~to_ibis(node.operand, resolve)
    if t is BoolOp:
        # Joined as a balanced tree: a chain of 250 'or's nested 250 deep overflowed
        # Python's stack in Ibis and SQL generation; balanced, it is 8 deep.
        parts = [to_ibis(i, resolve) for i in node.items]
        while len(parts) > 1:
            pairs = [(parts[i] & parts[i + 1]) if node.op == "and" else (parts[i] | parts[i + 1])
                     for i in range(0, len(parts) - 1, 2)]
            parts = pairs + parts[len(parts) - len(parts) % 2:]
        return parts[0]
    raise TypeError(f"cannot compile {node!r}")
