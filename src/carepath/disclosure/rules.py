"""The policy's constants and what is done to a single row: the states a figure can be in,
which statistics are recomputed or rounded, the notes, and hiding a row."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from carepath import stats
from carepath.errors import ValidationError

DEFAULT_SUPPRESS_BELOW = 8
DEFAULT_ROUND_TO = 5
# A workspace's threshold can be lowered (some publications suppress 1-4), never to where
# a count of 1 is published.
LOWEST_SUPPRESS_BELOW = 2
CONFIG_SECTION = "carepath.toml [disclosure]"
SETTINGS = ("suppress_below", "round_to", "national_exempt")
NATIONAL = "national"
PRACTICE = "practice"
GROUP = "group"  # a workspace's own group's area type (carepath.engine.rollup.GROUP)
PUBLISHED, SUPPRESSED, MISSING = "published", "suppressed", "missing"
# The note of a value the publisher of the data suppressed (a practice's screening cell):
# its count is in no total Carepath publishes, so it needs no protection by others.
SUPPRESSED_AT_SOURCE = "suppressed by the publisher"
# The note of an area's value that leaves such practices out: public, as the publisher's
# suppression is (it names practices, not people), so the public outputs keep it.
LEFT_OUT = "leaves out {n} practice{s} whose figures the publisher suppressed"
# Statistics whose value is proportional to the count (count / denominator x a scale), so
# they are recomputed from the rounded count: published with the exact value, the value
# times the denominator would give the exact count back. DSRs (weighted by age band) and
# means keep their value.
RECOMPUTABLE = {"proportion", "crude_rate", "isratio", "isr", "count"}
# Statistics whose denominator is a count (of people or of events) and so is rounded too;
# an indirectly standardised ratio's denominator is an expected count, a model figure.
ROUNDED_DENOMINATORS = {"proportion", "crude_rate", "dsr"}  # a DSR's: its population
# Indirectly standardised statistics: their denominator, the expected count, is a model
# figure, but published exactly it gives counts back (see ``policy._round``), so it is
# rounded as counts are.
STANDARDISED_RATIOS = {"isratio", "isr"}
# A mean is published to this many decimals and its interval built on a standard deviation
# to SD_DECIMALS: exact, mean x n and the sum of squares are whole numbers for one n only
# of the five a rounded count allows, which gave every exact count back (a privacy review).
MEAN_DECIMALS = 1
SD_DECIMALS = 2
# Statistics whose denominator is itself a count (of people, deaths, a list size) and so
# disclosive when small: emergency admissions per death over 5 deaths was published.
COUNT_DENOMINATORS = {"proportion", "crude_rate", "mean"}
LEVELS = (stats.CONF_95, stats.CONF_998)  # the two interval levels of indicator_values
CI_COLUMNS = ("lower95", "upper95", "lower998", "upper998")

# (period, area type, area code) -> (area type, area code) of each area wholly containing it.
Within = Mapping[tuple[str, str, str], Sequence[tuple[str, str]]]

# What the public pages say of a statistic's values beside the policy (``describe``).
STATISTIC_NOTES = {
    "dsr": (f"A directly standardised rate is not calculated from fewer than "
            f"{stats.DSR_MIN_EVENTS} events. It is published to the power of ten at or "
            "below the weight of one event (the rate divided by its published count), with "
            "its interval worked out from its published value and count."),
    "mean": (f"Where its count is rounded, a mean is published to {MEAN_DECIMALS} decimal "
             "place, with its interval worked out from the rounded count."),
}

EXEMPT_TEXT = "national figure: counts published unrounded"
ROUNDED_TEXT = "counts rounded to the nearest {n}"
# One note for every cell hidden here, whichever rule hid it: with a note of its own, a cell
# hidden for another's sake was known not to be 1 to k, which with the totals proved 228 of a
# county's hidden cells to be zero and narrowed others (a privacy review). Fingertips too
# gives every suppressed value one note.
SUPPRESSED_TEXT = ("suppressed: a count from 1 to {k}, or a figure that would let one be "
                   "worked out from a total")


# What the policy keeps on a row while it works, dropped before the rows go out: the exact
# counts (the audit's truth), the count a hidden cell hides, what earlier releases
# published of it and its key in their record (carepath.disclosure.releases).
PRIVATE = ("_count", "_exact", "_exact_den", "_earlier", "_key")


def blank(row: dict, *, keep_state: bool = False) -> dict:
    for col in ("numerator", "denominator", "value", *CI_COLUMNS):
        if col in row:
            row[col] = None
    if not keep_state:
        row["value_state"] = SUPPRESSED
    return row


def suppress(row: dict, reason: str) -> dict:
    row["_count"] = row.get("numerator")  # private: hidden by the policy (dropped on output)
    blank(row)
    row["value_note"] = reason
    row["disclosure"] = reason
    for col in ("compared_to_parent", "compared_to_national", "quantile", "trend"):
        if col in row:
            row[col] = None
    return row


def cell_key(row: dict) -> tuple:
    get = row.get  # written out: called for every row, a generator took twice as long
    return (str(get("period")), str(get("area_type")), str(get("area_code")),
            str(get("breakdown")), str(get("category")))


@dataclass(frozen=True)
class DisclosurePolicy:
    suppress_below: int = DEFAULT_SUPPRESS_BELOW
    round_to: int = DEFAULT_ROUND_TO
    national_exempt: bool = True

    def __post_init__(self) -> None:
        if self.suppress_below < 1:
            raise ValueError(f"suppress_below must be at least 1, got {self.suppress_below}")
        if self.round_to < 1:
            raise ValueError(f"round_to must be at least 1, got {self.round_to}")

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> DisclosurePolicy:
        """Read the ``[disclosure]`` table of a workspace's carepath.toml, refusing what
        is not a setting, or not one's type or range (a threshold of "eight" stopped the
        export with a traceback, and a threshold of 1 published every count)."""
        section = config.get("disclosure", {})
        if not isinstance(section, Mapping):
            raise ValidationError("must be a table of settings ([disclosure] on its own "
                                  "line, then name = value lines)", where=CONFIG_SECTION)
        unknown = sorted(set(section) - set(SETTINGS))
        if unknown:
            raise ValidationError(f"unknown setting {unknown[0]!r}; the settings are "
                                  f"{', '.join(SETTINGS)}", where=CONFIG_SECTION)
        return cls(suppress_below=_whole(section, "suppress_below", DEFAULT_SUPPRESS_BELOW,
                                         LOWEST_SUPPRESS_BELOW),
                   round_to=_whole(section, "round_to", DEFAULT_ROUND_TO, 1),
                   national_exempt=_yes_no(section, "national_exempt", True))

    def describe(self, statistic: str | None = None) -> str:
        """The policy in a sentence or two for the public pages, with what is done to
        ``statistic``'s values in particular, if given."""
        general = (f"Counts from 1 to {self.suppress_below - 1} are suppressed; below "
                   f"national level other counts are rounded to the nearest "
                   f"{self.round_to}; percentages are calculated from the rounded counts. "
                   "A further value is suppressed where it would let a suppressed one be "
                   "worked out, or narrowed down, from the totals.")
        return " ".join(filter(None, (general, STATISTIC_NOTES.get(statistic or ""))))


def _whole(section: Mapping[str, Any], name: str, default: int, lowest: int) -> int:
    value = section.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < lowest:
        raise ValidationError(f"must be a whole number, at least {lowest}, not {value!r}",
                              where=f"{CONFIG_SECTION} {name}")
    return value


def _yes_no(section: Mapping[str, Any], name: str, default: bool) -> bool:
    value = section.get(name, default)
    if not isinstance(value, bool):
        raise ValidationError(f"must be true or false, not {value!r}",
                              where=f"{CONFIG_SECTION} {name}")
    return value
