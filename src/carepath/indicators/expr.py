"""The filter language of indicator definitions: small, typed, never raw SQL.

    stage in ('1', '2') and tumour_group != 'skin'
    faster_diagnosis_date <= referral_date + 28 days
    underlying_cause is not null and not startswith(underlying_cause, 'C44')
    date_of_death between period_start and period_end

Grammar (lowest precedence first)::

    expr      := and_expr ("or" and_expr)*
    and_expr  := not_expr ("and" not_expr)*
    not_expr  := "not" not_expr | predicate
    predicate := sum [cmp sum | ["not"] "in" "(" literal ("," literal)* ")"
                      | ["not"] "between" sum "and" sum | "is" ["not"] "null"]
    sum       := atom (("+" | "-") (NUMBER UNIT | atom))*
    atom      := literal | column | table "." column | func "(" args ")" | "(" expr ")"
    literal   := 'text' | NUMBER | true | false | date 'YYYY-MM-DD'
    UNIT      := days | months | years

`parse` turns text into a tree, `check` types it against the columns a definition can
see (so an unknown column or a text-to-date comparison is an error with the offending
token); `carepath.engine.filters` compiles it for any Ibis backend.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Self

from carepath.errors import ValidationError
from carepath.indicators.expr_tree import (  # the tree, as expr.Compare ... to readers
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

# Parentheses (and 'not's) nested deeper than any real filter needs are refused, as the
# compiled query would overflow the stack.
MAX_NESTING = 40
KEYWORDS = {"and", "or", "not", "in", "between", "is", "null", "true", "false", "date"}
UNITS = {"day": "days", "days": "days", "month": "months", "months": "months",
         "year": "years", "years": "years"}
COMPARISONS = {"=", "!=", "<>", "<", "<=", ">", ">="}
EQUALITIES = {"=", "!=", "<>"}
FUNCTIONS = {"startswith": (("text", "text"), "bool"), "year": (("date",), "int")}
NUMERIC = {"int", "float"}
# Whole-number literals are 64-bit integers in every engine.
MAX_INT_LITERAL = 2**63 - 1
# Date offsets are whole units within a century: anything longer is a typing slip, and an
# engine's date arithmetic overflows long before such numbers.
MAX_OFFSET = {"days": 36_525, "months": 1_200, "years": 100}
# Offsets added to one date in a row ('+ 1 years - 1 days' is two): a few say anything a
# definition needs, and a long chain is a slip (thousands overflowed the checker's stack).
MAX_CHAINED_OFFSETS = 5
# A date literal is written one way: 'YYYY-MM-DD' (Python also reads 20240101 and week
# dates, which a reader of the definition would not).
DATE_LITERAL = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")

_TOKEN = re.compile(r"""
    (?P<ws>[\ \t\r\n]+)
  | (?P<string>'(?:[^']|'')*')
  | (?P<number>[0-9]+(?:\.[0-9]+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*)
  | (?P<op><=|>=|!=|<>|[=<>(),.+-])
""", re.VERBOSE)


@dataclass(frozen=True)
class Token:
    kind: str
    text: str
    pos: int


class ExprError(ValidationError):
    pass


class ColumnType(str):
    """A column's type in a scope ('text', 'date' ...), carrying the codes the data model
    allows in it, if it lists them: a filter comparing it with any other value can never
    be true, and would count nothing without a word (`route = 'Emergency'`)."""

    codes: tuple | None

    def __new__(cls, type_name: str, codes=None) -> Self:
        made = super().__new__(cls, type_name)
        made.codes = tuple(codes) if codes else None
        return made


# ----- parsing --------------------------------------------------------------------------
def tokenize(text: str, where: str | None = None) -> list[Token]:
    tokens, pos = [], 0
    while pos < len(text):
        m = _TOKEN.match(text, pos)
        if not m:
            raise ExprError(f"unexpected character {text[pos]!r} at position {pos + 1} in "
                            f"{text!r}", where=where)
        if m.lastgroup != "ws":
            tokens.append(Token(m.lastgroup, m.group(), pos))
        pos = m.end()
    tokens.append(Token("end", "", len(text)))
    return tokens


# A filter is quoted whole in an error up to this length, else the part around the error.
QUOTED_FILTER_MAX = 120
QUOTED_CONTEXT = 40


def _around(text: str, pos: int) -> str:
    """``text``, or the part of a long one around ``pos``: one message is not 30,000
    characters long because a filter is."""
    if len(text) <= QUOTED_FILTER_MAX:
        return text
    start, end = max(0, pos - QUOTED_CONTEXT), pos + QUOTED_CONTEXT
    return ("…" if start else "") + text[start:end] + ("…" if end < len(text) else "")


class _Parser:
    def __init__(self, text: str, where: str | None) -> None:
        self.text, self.where = text, where
        self.tokens = tokenize(text, where)
        self.i = 0
        self.depth = 0  # parentheses and 'not's open around the current token

    def error(self, msg: str, tok: Token | None = None) -> ExprError:
        tok = tok or self.peek()
        shown = tok.text or "end of expression"
        return ExprError(f"{msg} at {shown!r} (position {tok.pos + 1}) in "
                         f"{_around(self.text, tok.pos)!r}", where=self.where)

    def peek(self) -> Token:
        return self.tokens[self.i]

    def word(self) -> str:
        tok = self.peek()
        return tok.text.lower() if tok.kind == "name" else tok.text

    def take(self, expected: str | None = None) -> Token:
        tok = self.peek()
        if expected is not None and self.word() != expected:
            raise self.error(f"expected {expected!r}")
        self.i += 1
        return tok

    def parse(self):
        node = self.or_expr()
        if self.peek().kind != "end":
            raise self.error("unexpected token")
        return node

    def or_expr(self):
        items = [self.and_expr()]
        while self.word() == "or":
            self.take()
            items.append(self.and_expr())
        return items[0] if len(items) == 1 else BoolOp("or", tuple(items))

    def and_expr(self):
        items = [self.not_expr()]
        while self.word() == "and":
            self.take()
            items.append(self.not_expr())
        return items[0] if len(items) == 1 else BoolOp("and", tuple(items))

    def not_expr(self):
        if self.word() == "not":
            self._deeper()
            self.take()
            node = Not(self.not_expr())
            self.depth -= 1
            return node
        return self.predicate()

    def _deeper(self) -> None:
        self.depth += 1
        if self.depth > MAX_NESTING:
            raise self.error(f"nested more than {MAX_NESTING} deep (parentheses, calls or "
                             "'not's); write it flatter")

    def predicate(self):
        left = self.sum()
        word = self.word()
        if word in COMPARISONS:
            op = self.take().text
            return Compare("!=" if op == "<>" else op, left, self.sum())
        negated = False
        if word == "not" and self.tokens[self.i + 1].text.lower() in ("in", "between"):
            self.take()
            negated, word = True, self.word()
        if word == "in":
            self.take()
            self.take("(")
            values = [self.literal()]
            while self.word() == ",":
                self.take()
                values.append(self.literal())
            self.take(")")
            return InList(left, tuple(values), negated)
        if word == "between":
            self.take()
            low = self.sum()
            self.take("and")
            return Between(left, low, self.sum(), negated)
        if word == "is":
            self.take()
            neg = self.word() == "not"
            if neg:
                self.take()
            self.take("null")
            return IsNull(left, neg)
        return left

    def sum(self):
        node = self.atom()
        offsets = 0
        while self.word() in ("+", "-"):
            sign = 1 if self.take().text == "+" else -1
            tok = self.peek()
            if tok.kind == "number" and self.tokens[self.i + 1].text.lower() in UNITS:
                offsets += 1
                if offsets > MAX_CHAINED_OFFSETS:
                    raise self.error(f"more than {MAX_CHAINED_OFFSETS} date offsets in a row; "
                                     "add them up into one", tok)
                self.take()
                unit = UNITS[self.take().text.lower()]
                node = Offset(node, sign * self._offset_amount(tok, unit), unit)
            else:
                raise self.error("only date offsets such as '+ 31 days' may follow + or -")
        return node

    def _offset_amount(self, tok: Token, unit: str) -> int:
        if "." in tok.text:
            raise self.error(f"a date offset is a whole number of {unit}", tok)
        amount = int(tok.text)
        if amount > MAX_OFFSET[unit]:
            raise self.error(f"a date offset is at most {MAX_OFFSET[unit]:,} {unit}", tok)
        return amount

    def literal(self) -> Literal:
        tok = self.peek()
        word = self.word()
        if tok.kind == "string":
            self.take()
            return Literal(tok.text[1:-1].replace("''", "'"), "text")
        if tok.kind == "number":
            if "." not in tok.text and int(tok.text) > MAX_INT_LITERAL:
                raise self.error("a whole number must be below 2^63", tok)
            self.take()
            return Literal(float(tok.text), "float") if "." in tok.text else \
                Literal(int(tok.text), "int")
        if word in ("true", "false"):
            self.take()
            return Literal(word == "true", "bool")
        if word == "date":
            self.take()
            text = self.peek()
            if text.kind != "string":
                raise self.error("expected a quoted date after 'date'")
            self.take()
            try:
                if not DATE_LITERAL.fullmatch(text.text[1:-1]):
                    raise ValueError(text.text)
                return Literal(date.fromisoformat(text.text[1:-1]), "date")
            except ValueError:
                raise self.error("not a date (use 'YYYY-MM-DD')", text) from None
        raise self.error("expected a literal value")

    def atom(self):
        tok = self.peek()
        if tok.text == "(":
            self._deeper()
            self.take()
            node = self.or_expr()
            self.take(")")
            self.depth -= 1
            return node
        if tok.kind in ("string", "number") or self.word() in ("true", "false", "date"):
            return self.literal()
        if tok.kind == "name" and self.word() not in KEYWORDS:
            self.take()
            if self.peek().text == "(":
                return self.call(tok)
            if self.peek().text == ".":
                self.take()
                col = self.take()
                if col.kind != "name":
                    raise self.error("expected a column name after '.'", col)
                return ColumnRef(col.text, tok.text)
            return ColumnRef(tok.text)
        raise self.error("expected a column, value or '('")

    def call(self, name: Token) -> Call:
        func = name.text.lower()
        if func not in FUNCTIONS:
            raise self.error(f"unknown function (known: {', '.join(sorted(FUNCTIONS))})", name)
        self._deeper()  # a call's parentheses nest as others do
        self.take("(")
        args = [self.sum()]
        while self.word() == ",":
            self.take()
            args.append(self.sum())
        self.take(")")
        self.depth -= 1
        return Call(func, tuple(args))


def parse(text: str, *, where: str | None = None):
    """Parse a filter; raises ExprError naming the offending token."""
    if not text or not text.strip():
        raise ExprError("empty expression", where=where)
    return _Parser(text, where).parse()


# ----- checking -------------------------------------------------------------------------
Scope = Mapping[str, str]  # "column" or "table.column" -> logical type


def columns_used(node) -> set[ColumnRef]:
    found: set[ColumnRef] = set()

    def walk(n):
        if isinstance(n, ColumnRef):
            found.add(n)
        elif isinstance(n, (tuple, list)):
            for item in n:
                walk(item)
        elif hasattr(n, "__dataclass_fields__"):
            for name in n.__dataclass_fields__:
                walk(getattr(n, name))

    walk(node)
    return found


def check(node, scope: Scope, *, text: str = "", where: str | None = None) -> str:
    """The type of ``node`` in ``scope``; a filter must be 'bool'."""

    def fail(msg: str) -> ExprError:
        return ExprError(f"{msg} in {text!r}" if text else msg, where=where)

    def typ(n) -> str:
        if isinstance(n, Literal):
            return n.type
        if isinstance(n, ColumnRef):
            key = str(n)
            if key not in scope:
                # A table.column name lists that table's columns, a plain one the plain ones.
                prefix = f"{n.table}." if n.table else ""
                known = sorted(k for k in scope if k.startswith(prefix)
                               and "." not in k[len(prefix):])
                if not known:  # no such table here: say which tables are
                    tables = sorted({k.split(".")[0] for k in scope if "." in k})
                    raise fail(f"unknown table {n.table!r} in {key!r}; tables here: "
                               f"{', '.join(tables) or 'none (columns are named plainly)'}")
                raise fail(f"unknown column {key!r}; available: {', '.join(known)}")
            return scope[key]
        if isinstance(n, Offset):
            if typ(n.base) != "date":
                raise fail(f"a date offset needs a date, not {typ(n.base)}")
            return "date"
        if isinstance(n, Call):
            arg_types, result = FUNCTIONS[n.func]
            if len(n.args) != len(arg_types):
                raise fail(f"{n.func} takes {len(arg_types)} argument(s)")
            for arg, want in zip(n.args, arg_types, strict=True):
                if typ(arg) != want:
                    raise fail(f"{n.func} needs {want} arguments, got {typ(arg)}")
            return result
        if isinstance(n, Compare):
            _same(typ(n.left), typ(n.right), f"{n.op} comparison",
                  f"{shown(n.left)} {n.op} {shown(n.right)}")
            if n.op in EQUALITIES:
                _known_codes(n.left, [n.right])
                _known_codes(n.right, [n.left])
            return "bool"
        if isinstance(n, InList):
            t = typ(n.operand)
            for v in n.values:
                _same(t, v.type, "'in' list", f"{shown(n.operand)} in (... {shown(v)} ...)")
            _known_codes(n.operand, n.values)
            return "bool"
        if isinstance(n, Between):
            t = typ(n.operand)
            for bound in (n.low, n.high):
                _same(t, typ(bound), "'between'", f"{shown(n.operand)} between ... "
                      f"{shown(bound)}")
            if isinstance(n.low, Literal) and isinstance(n.high, Literal) and \
                    n.low.value > n.high.value:
                # Accepted, it matched nothing and published 0% everywhere (a user test).
                said = ("holds everything" if n.negated else "holds nothing")
                raise fail(f"'between {shown(n.low)} and {shown(n.high)}' has its bounds the "
                           f"wrong way round, so the condition {said}: the lower bound "
                           "comes first")
            return "bool"
        if isinstance(n, IsNull):
            typ(n.operand)
            return "bool"
        if isinstance(n, Not):
            _want_bool(typ(n.operand))
            return "bool"
        if isinstance(n, BoolOp):
            for item in n.items:
                _want_bool(typ(item))
            return "bool"
        raise fail(f"cannot type {n!r}")

    def _same(a: str, b: str, what: str, at: str) -> None:
        if a == b or (a in NUMERIC and b in NUMERIC):
            return
        raise fail(f"{what} mixes {a} and {b} at {at!r}")

    def _known_codes(column, others) -> None:
        codes = getattr(scope.get(str(column)), "codes", None) \
            if isinstance(column, ColumnRef) else None
        for other in others if codes else ():
            if isinstance(other, Literal) and other.value not in codes:
                raise fail(f"{other.value!r} is not a code of {column} (its codes, exactly "
                           f"as written: {', '.join(map(str, codes))})")

    def _want_bool(t: str) -> None:
        if t != "bool":
            raise fail(f"'and', 'or' and 'not' need true/false operands, got {t}")

    return typ(node)


def shown(node) -> str:
    """A node written back as filter text, to point at the part of a filter that is wrong."""
    if isinstance(node, Literal):
        if isinstance(node.value, str):
            return "'" + node.value.replace("'", "''") + "'"
        if isinstance(node.value, date):
            return f"date '{node.value.isoformat()}'"
        return str(node.value).lower() if isinstance(node.value, bool) else str(node.value)
    if isinstance(node, ColumnRef):
        return str(node)
    if isinstance(node, Offset):
        sign = "-" if node.amount < 0 else "+"
        return f"{shown(node.base)} {sign} {abs(node.amount):g} {node.unit}"
    if isinstance(node, Call):
        return f"{node.func}({', '.join(shown(a) for a in node.args)})"
    return _shown_condition(node)


def _shown_condition(node) -> str:
    if isinstance(node, Compare):
        return f"{shown(node.left)} {node.op} {shown(node.right)}"
    if isinstance(node, InList):
        listed = ", ".join(shown(v) for v in node.values)
        return f"{shown(node.operand)} {'not in' if node.negated else 'in'} ({listed})"
    if isinstance(node, Between):
        return (f"{shown(node.operand)} {'not between' if node.negated else 'between'} "
                f"{shown(node.low)} and {shown(node.high)}")
    if isinstance(node, IsNull):
        return f"{shown(node.operand)} is {'not null' if node.negated else 'null'}"
    if isinstance(node, Not):
        return f"not ({shown(node.operand)})"
    if isinstance(node, BoolOp):
        return f" {node.op} ".join(f"({shown(i)})" if isinstance(i, BoolOp) else shown(i)
                                   for i in node.items)
    return "(...)"


def parse_filter(text: str, scope: Scope, *, where: str | None = None):
    node = parse(text, where=where)
    result = check(node, scope, text=text, where=where)
    if result != "bool":
        raise ExprError(f"a filter must be true or false, but {text!r} is {result}",
                        where=where)
    return node
