"""How many decimals a contract figure is shown with.

A target is shown with its own decimals (9.05 as 9.05, never 9.1), and a value, its
interval and the baseline with one more, so a reader can see on which side of the target
a value lies: at one decimal a value of 9.04 against a target of 9.05 read "9.0 against
9.1", and 9.25 against 9.2 looked met when it was not.
"""

from __future__ import annotations

from decimal import Decimal

#: Fewest decimals shown for a target (a whole-number target reads 60.0).
MIN_DECIMALS = 1
#: Most decimals taken from a target as written (float noise beyond this is not intent).
MAX_DECIMALS = 4


def decimals(x: float | None) -> int:
    """Decimals of a number as written in the YAML (9.05 -> 2, 60 -> 0), within limits."""
    if x is None:
        return MIN_DECIMALS
    exponent = Decimal(repr(float(x))).normalize().as_tuple().exponent
    places = -exponent if isinstance(exponent, int) and exponent < 0 else 0
    return min(max(places, MIN_DECIMALS), MAX_DECIMALS)


def value_digits(target: float | None) -> int:
    """Decimals for a value compared with ``target``: one more than the target's."""
    return decimals(target) + 1


def fmt(v: float | None, digits: int) -> str:
    return "" if v is None else f"{v:.{digits}f}"


#: Most decimals of a percentage a share is shown with (1/3 reads 33.33%).
SHARE_DECIMALS = 2


def share(x: float | None) -> str:
    """A weight or share as the percentage it is, not rounded to a whole one: 20.5% at
    risk read "20%" beside £2,562,500, and a weight of 0.125 read "12%" (a walkthrough)."""
    if x is None:
        return ""
    text = f"{x * 100:.{SHARE_DECIMALS}f}".rstrip("0").rstrip(".")
    return f"{text}%"
