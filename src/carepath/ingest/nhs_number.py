"""NHS numbers at the door: check, pseudonymise, mask.

An NHS number is ten digits whose last digit is a modulus-11 check digit. Carepath
never stores one: ingest replaces it with a keyed pseudonym (HMAC-SHA-256 with the
workspace secret), so the same person in two files gets the same pseudonym while the
number itself cannot be recovered without the key. Anything shown to a person (error
messages, the quarantine table) carries only a masked form.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import unicodedata

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

NHS_NUMBER_DIGITS = 10
CHECK_MODULUS = 11
# Weights 10..2 applied to the first nine digits (NHS Data Dictionary).
CHECK_WEIGHTS = tuple(range(10, 1, -1))
# Spaces people (and spreadsheets and word processors: no-break, thin, figure, narrow
# no-break ...) put between the 3-3-4 groups of a printed NHS number: every space of
# Unicode (category Zs), for use inside a character class. Written out, as DuckDB's and
# Arrow's regular expressions (RE2) take \s for ASCII spaces only.
SPACES = " \u00a0\u1680\u2000-\u200a\u202f\u205f\u3000"
SEPARATORS = re.compile(rf"[\s{SPACES}\-]")
# Hex characters kept from the HMAC: 64 bits is ample against collisions in a
# population of tens of millions while keeping ids short.
PSEUDONYM_HEX_CHARS = 16
PSEUDONYM_PREFIX = "p"
# How many leading characters of an identifying value a masked form keeps.
MASK_KEEP = 3
# ... and never more than one in this many of them.
MASK_SHARE = 3
MASK_CHAR = "*"
# Dashes of every kind (hyphen, en and em dashes, minus) and brackets: '844–736–2035' and
# '(844) 736-2035' went unmasked (an independent check).
DASHES = "\u2010-\u2015\u2212"
# Characters people put between the digits of an NHS number in text: spaces of any kind,
# tabs, dashes, dots, slashes, underscores, brackets; up to BETWEEN_MAX of them
# ('844   736   2035' and '844 - 736 - 2035' went unmasked with two).
BETWEEN_MAX = 5
_BETWEEN = rf"[\s{SPACES}./_()\-{DASHES}]{{0,{BETWEEN_MAX}}}"
# How an NHS number appears inside other text: ten digits not part of a longer run of
# digits, whatever is around them ('NHS9434765919'), grouped 3-3-4 by any of those
# characters or split anywhere by spaces ('9434 765 919'). Masked wherever a value is
# shown, valid check digit or not (a mistyped number still points at a person). Written for
# Python's re and DuckDB's RE2 alike (which has no look-behind, so the characters around the
# digits are groups 1 and 3).
NHS_IN_TEXT = (rf"(^|\D)(\d{{3}})(?:{_BETWEEN}\d{{3}}{_BETWEEN}\d{{4}}|"
               rf"(?:[\s{SPACES}]{{0,{BETWEEN_MAX}}}\d){{7}})(\D|$)")
# The same for DuckDB: RE2's \d is 0-9 only, Python's any decimal digit (full-width too).
NHS_IN_TEXT_SQL = NHS_IN_TEXT.replace(r"\d", r"\p{Nd}").replace(r"\D", r"\P{Nd}")
NHS_IN_TEXT_MASKED = MASK_CHAR * (NHS_NUMBER_DIGITS - MASK_KEEP)
# A match takes the character after it, so a number right after another is masked by a
# second pass.
MASK_PASSES = 2


def ascii_digits(text: str) -> str:
    """Decimal digits of any script as 0-9 (a full-width ９４３ is 943); nothing else
    changes. Superscripts and circled digits are no decimal digits and stay as they are."""
    if text.isascii():
        return text
    return "".join(str(unicodedata.decimal(c)) if c.isdecimal() else c for c in text)


def normalise(raw: str) -> str:
    """The number without spaces or dashes (as typed or printed 943 476 5919), its digits
    as 0-9."""
    return ascii_digits(SEPARATORS.sub("", raw))


def is_placeholder(digits: str) -> bool:
    """One digit ten times (0000000000, 9999999999): passes modulus 11, is nobody."""
    return len(set(digits)) == 1


def check_digit_ok(digits: str) -> bool:
    """True when ``digits`` (already normalised) is a valid ten-digit NHS number."""
    if len(digits) != NHS_NUMBER_DIGITS or not (digits.isascii() and digits.isdecimal()):
        return False
    if is_placeholder(digits):
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], CHECK_WEIGHTS, strict=True))
    check = CHECK_MODULUS - total % CHECK_MODULUS
    if check == CHECK_MODULUS:
        check = 0
    # A computed check of 10 means no valid number has these nine digits.
    return check != 10 and check == int(digits[9])


def problem(raw: str | None) -> str | None:
    """Why ``raw`` is not a valid NHS number, or None when it is."""
    if raw is None or not raw.strip():
        return "NHS number missing"
    digits = normalise(raw.strip())
    if not (digits.isascii() and digits.isdecimal()):
        return "NHS number has characters other than digits"
    if len(digits) != NHS_NUMBER_DIGITS:
        return f"NHS number has {len(digits)} digits, not {NHS_NUMBER_DIGITS}"
    if is_placeholder(digits):
        return "NHS number is a placeholder (one digit ten times), not a person's"
    if not check_digit_ok(digits):
        return "NHS number fails the modulus-11 check"
    return None


# What spreadsheets add to a number: a float's '.0'.
_FLOAT_TAIL = re.compile(r"\.0+$")


def looks_like_nhs_number(value: str) -> bool:
    """Ten digits with nothing but decoration, whether or not the check digit is right
    (used to refuse raw numbers where a pseudonym is expected, and to keep a typed number
    out of logs): '943 476 5919', and '9434765919.0' (a spreadsheet's float),
    "'9434765919", '="9434765919"', '943   476   5919', '943—476—5919' and full-width
    digits, which were stored as they are (an independent check); or 'NHS' and the
    number. A pseudonym has letters (Carepath's are 'p' and hex)."""
    text = _FLOAT_TAIL.sub("", value.strip())
    if text[:3].upper() == "NHS":
        text = text[3:]
    if any(c.isalpha() for c in text):
        return False
    return sum(c.isdecimal() for c in text) == NHS_NUMBER_DIGITS


def mask_in_text(text: str) -> str:
    """``text`` with every NHS-number-shaped run of digits masked: ``943*******``."""
    for _ in range(MASK_PASSES):
        text = re.sub(NHS_IN_TEXT, lambda m: m.group(1) + m.group(2) + NHS_IN_TEXT_MASKED +
                      m.group(3), text)
    return text


def pseudonym(digits: str, key: bytes) -> str:
    """Keyed pseudonym of a normalised, valid NHS number."""
    mac = hmac.new(key, digits.encode("ascii"), hashlib.sha256).hexdigest()
    return PSEUDONYM_PREFIX + mac[:PSEUDONYM_HEX_CHARS]


class Pseudonymiser:
    """The same pseudonyms as :func:`pseudonym`, faster for millions of values: the keyed
    HMAC states are computed once, and each distinct number is hashed once (an events
    file repeats the same people many times)."""

    def __init__(self, key: bytes) -> None:
        block = hashlib.sha256().block_size
        if len(key) > block:
            key = hashlib.sha256(key).digest()
        key = key.ljust(block, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in key))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in key))

    def one(self, digits: str) -> str:
        inner = self._inner.copy()
        inner.update(digits.encode("ascii"))
        outer = self._outer.copy()
        outer.update(inner.digest())
        return PSEUDONYM_PREFIX + outer.hexdigest()[:PSEUDONYM_HEX_CHARS]

    def array(self, raw: pa.Array) -> pa.Array:
        """Pseudonyms for an array of raw NHS numbers; null where a number is invalid."""
        clean = pc.replace_substring_regex(pc.utf8_trim_whitespace(raw), SEPARATORS.pattern, "")
        if not pc.all(pc.fill_null(pc.string_is_ascii(clean), True)).as_py():
            clean = pa.array([None if v is None else ascii_digits(v)  # full-width digits
                              for v in clean.to_pylist()], pa.string())
        encoded = pc.dictionary_encode(clean)
        distinct = encoded.dictionary.to_pylist()
        ok = valid_mask(encoded.dictionary)
        one = self.one
        mapped = pa.array([one(d) if good else None for d, good in zip(distinct, ok,
                                                                       strict=True)],
                          pa.string())
        return pc.take(mapped, encoded.indices)


def valid_mask(digits: pa.Array) -> np.ndarray:
    """check_digit_ok for a whole array of normalised strings, vectorised."""
    shaped = pc.fill_null(pc.match_substring_regex(digits, r"^\d{10}$"), False)
    ok = shaped.to_numpy(zero_copy_only=False).copy()
    if not ok.any():
        return ok
    chosen = pc.filter(digits, shaped).to_pylist()
    d = np.frombuffer("".join(chosen).encode("ascii"), dtype=np.uint8).reshape(-1, 10) - 48
    total = d[:, :9].astype(np.int64) @ np.array(CHECK_WEIGHTS, dtype=np.int64)
    check = (CHECK_MODULUS - total % CHECK_MODULUS) % CHECK_MODULUS
    # A computed check of 10 means no valid number has these nine digits; one digit ten
    # times passes the check and is a placeholder.
    ok[ok] = (check != 10) & (check == d[:, 9]) & ~(d == d[:, :1]).all(axis=1)
    return ok


def mask(value: str | None) -> str | None:
    """Keep the first few characters and star the rest: ``9434765919`` -> ``943*******``;
    never more than a third of a short value (``P1`` -> ``**``)."""
    if value is None:
        return None
    text = str(value).strip()
    keep = min(MASK_KEEP, len(text) // MASK_SHARE)
    return text[:keep] + MASK_CHAR * (len(text) - keep)
