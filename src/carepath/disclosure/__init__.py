"""Statistical disclosure control: the ONE policy every public or exported figure passes.

Policy (configurable in ``carepath.toml`` ``[disclosure]``):

* **Primary suppression.** At every level, national included, a count (the numerator, or
  a denominator that counts people or events: of a proportion, a crude rate or a mean)
  from 1 to ``suppress_below - 1`` is suppressed with its value and intervals. A true zero
  is not suppressed: zero, suppressed and missing stay three different states.
* **Rounding.** Every other count below national level, and in national's breakdown
  categories, is rounded to the nearest ``round_to`` (halves up), and proportions and
  crude rates are recomputed from the rounded figures, with their intervals, so the
  published interval cannot give the exact count back.
* **Secondary suppression.** Where exactly one member of a group that adds up to a
  published total is hidden (suppressed, or missing with a count), the next smallest
  member, not a zero while another is left, is suppressed as well, so the hidden cell
  cannot be derived by subtraction; repeated until no group has a lone hidden cell. The
  groups: areas under one parent, the areas of one level inside each area containing
  them (``within``, from ``carepath.engine.containment``: a practice under its locality
  is inside its PCN too), the breakdown categories of one area, the practices of each of
  a workspace's own ``[groups]``.
* **Audit and further protection.** The groups cross (a practice is in its locality, its
  PCN, its own groups) and every published figure bounds the hidden ones, so each hidden
  count's feasible range is worked out as an attacker subtracting would
  (``carepath.disclosure.audit``), and a further cell is hidden beside any small count
  left narrower than its note ("1 to k"), until none is or nothing near it is left.
* **Once suppressed, always suppressed.** A cell an earlier public export hid
  (``withheld``, recorded by ``carepath.disclosure.releases``) is hidden again whatever
  its count, before any other choice: a later release choosing other partners (a new own
  group, a new hierarchy) would give back, read beside the first, what each hid.
* **Shared counts protected together.** A count two indicators share (incidence's
  cancers are emergency presentation's denominator; ``carepath.indicators.links`` finds
  them) is known to each as the other publishes it: ``releases.earlier`` maps what
  linked indicators said (in earlier releases, and before it in the same output) to the
  column holding the count, and the audit protects it against all of that.
* **Intervals from the published counts.** A proportion's, a rate's or a ratio's value and
  interval are recomputed from the rounded counts; a DSR's value is rounded to one
  event's weight and its interval built on the rounded count with a spread from published figures only (value / count),
  its population rounded; a mean is published to one decimal with an interval on the
  rounded count (exact, their figures gave the exact count back).
* **National unrounded.** National's headline figures that pass primary suppression are
  published as computed (configurable). Small counts are suppressed there too: a
  workspace's "national" is often one county, and even England's breakdowns have cells of
  two or three people (a user test found a county's "2 of 3 deaths aged 10-14" published).
  Its breakdown categories are rounded as any area's: exact, they would give a suppressed
  one back from the exact total. So are the headline figures of an indicator of quarters
  whose count another publishes by year (``carepath.indicators.links``): a small quarter
  came back exactly as the year less the other three (the caller passes
  ``national_exempt=False`` for it, ``carepath.engine.containment.national_exempt``).

Each output row says what was done to it in ``disclosure`` (text for people) and, when it
was suppressed, ``value_note`` says so: one note for every cell hidden here, so that no
note tells a small count from a cell hidden for its sake. Works on a list of dicts or a
pandas DataFrame with the columns of ``indicator_values`` (missing columns are tolerated).

The modules: ``rules`` (constants, notes, hiding a row), ``policy`` (primary suppression
and rounding, and the entry points), ``recompute`` (values and intervals from the rounded
counts), ``secondary`` (secondary suppression), ``audit`` (feasible ranges and the further
protection) and ``releases`` (the record of what public exports hid).
"""

from carepath.disclosure import releases
from carepath.disclosure.policy import (
    DisclosurePolicy,
    apply_disclosure,
    apply_policy,
    round_count,
)
from carepath.disclosure.rules import (
    CI_COLUMNS,
    DEFAULT_ROUND_TO,
    DEFAULT_SUPPRESS_BELOW,
    LEVELS,
    MISSING,
    NATIONAL,
    PRACTICE,
    PUBLISHED,
    SUPPRESSED,
    SUPPRESSED_AT_SOURCE,
    Within,
)

__all__ = ["CI_COLUMNS", "DEFAULT_ROUND_TO", "DEFAULT_SUPPRESS_BELOW", "LEVELS", "MISSING",
           "NATIONAL", "PRACTICE", "PUBLISHED", "SUPPRESSED", "SUPPRESSED_AT_SOURCE",
           "DisclosurePolicy",
           "Within", "apply_disclosure", "apply_policy", "releases", "round_count"]
