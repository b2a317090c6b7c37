"""Named constants for outcomes frameworks and contracts (no magic numbers elsewhere)."""

from __future__ import annotations

from statistics import NormalDist

#: Prime-provider contracts in England ran 7 to 10 years (domain anchors A9).
MIN_TERM_YEARS = 7
MAX_TERM_YEARS = 10
#: Outcome weights must sum to one within this tolerance: floating-point sums of decimal
#: weights only. At 1e-6 weights summing to 1.0000009 passed, and the pots exceeded the
#: amount at risk by £87.75 on £97.5M; at 1e-9 the excess is under a penny on £9M.
WEIGHT_TOLERANCE = 1e-9
#: Significant digits a weight total is printed with (enough to show how far off it is).
WEIGHT_DIGITS = 12
#: Confidence levels whose limits the engine stores in indicator_values.
JUDGEMENT_CONFIDENCES = (0.95, 0.998)
DEFAULT_JUDGEMENT_CONFIDENCE = 0.95
#: Power used for the smallest change an outcome can reliably detect.
DETECTION_POWER = 0.8
Z_POWER = NormalDist().inv_cdf(DETECTION_POWER)
#: z for a two-sided 95% interval, used to turn a stored 95% CI into a standard error.
Z95 = NormalDist().inv_cdf(0.975)
#: Draws in the chance simulation and its default seed.
DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20_260_401
#: Payments within this many pounds count as equal (floating-point sums of pots).
MONEY_EPSILON = 1e-6
#: A simulated payment counts as "paid more/less than deserved" only when it differs from
#: the entitlement by more than this share of the pot: a linear rule moves pennies with
#: every bit of noise, and those pennies are not the risk commissioners ask about.
DEFAULT_MATERIALITY = 0.05
#: Fewer annual/quarterly points than this and no SPC icons are shown.
MIN_SPC_POINTS = 3

# Judgements of one outcome in one contract year.
MET = "met"
NOT_MET = "not_met"
INDISTINGUISHABLE = "not_distinguishable"
NO_DATA = "no_data"
NO_TARGET = "no_target"  # a value, but no trajectory for the year: reported, not judged
JUDGEMENT_LABELS = {
    MET: "Met (the interval lies on the right side of the target)",
    NOT_MET: "Not met (the interval lies wholly short of the target)",
    INDISTINGUISHABLE: "Not distinguishable from the target",
    NO_TARGET: "No target for the year (the value is reported, not judged)",
    NO_DATA: "No usable value",
}

# Data-quality status.
DQ_PASS = "pass"
DQ_FAIL = "fail"
# No value yet: the data do not cover the period (with its follow-up); the pot waits.
DQ_NOT_YET = "not_yet"

# Payment line status.
PAID = "paid"
NOT_EARNED = "not_earned"  # assessed, and the outcome earned nothing this year
FEE_BASED = "fee_based"
WITHHELD = "withheld"
FORFEITED = "forfeited"
NOT_ASSESSED = "not_assessed"

STATISTICS_BINOMIAL = frozenset({"proportion"})
STATISTICS_POISSON = frozenset({"crude_rate", "dsr", "isr", "isratio", "count"})
STATISTICS_NORMAL = frozenset({"mean"})
