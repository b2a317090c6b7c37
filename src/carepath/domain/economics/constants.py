"""Named constants of the economic methods, each with where it comes from.

HM Treasury Green Book (2022), Annex A6: the social time preference rate is 3.5% a year for
the first 30 years and declines after that; health effects (QALYs and the like) are
discounted at 1.5%, declining on the same schedule. GMCA / New Economy CBA guidance
(supplementary Green Book guidance, 2014) grades the confidence in each input 1-6 and corrects
for optimism bias by grade: costs are raised and benefits lowered by the percentage.
"""

from __future__ import annotations

# ----- Discounting (Green Book Annex A6) -------------------------------------------------
DISCOUNT_RATE = 0.035
HEALTH_DISCOUNT_RATE = 0.015

# Long-term schedule: (first year the rate applies, standard rate, health rate).
# Year 0 is the base year and is not discounted.
DISCOUNT_SCHEDULE: tuple[tuple[int, float, float], ...] = (
    (0, 0.035, 0.015),
    (31, 0.030, 0.0129),
    (76, 0.025, 0.0107),
    (126, 0.020, 0.0086),
    (201, 0.015, 0.0064),
    (301, 0.010, 0.0043),
)
MAX_HORIZON_YEARS = 60

# ----- Optimism bias by confidence grade (GMCA CBA guidance) ----------------------------
# 1 = independently audited / established database ... 6 = expert judgement, little
# evidence. Costs are multiplied by (1 + correction), benefits by (1 - correction).
OPTIMISM_BIAS_BY_GRADE: dict[int, float] = {1: 0.0, 2: 0.05, 3: 0.10, 4: 0.15, 5: 0.25, 6: 0.40}
CONFIDENCE_GRADES = tuple(OPTIMISM_BIAS_BY_GRADE)

# ----- Tolerances -----------------------------------------------------------------------
# Payer shares are typed by people as percentages or fractions; allow rounding to 0.1%.
SHARE_SUM_TOLERANCE = 0.001
# Criterion weights are normalised; they must still be given as positive numbers.
WEIGHT_SUM_TOLERANCE = 1e-9

# ----- Sensitivity ----------------------------------------------------------------------
# One-way (tornado) analysis moves each parameter to these quantiles of its distribution.
TORNADO_QUANTILES = (0.025, 0.975)
# Monte Carlo summary interval (central 95%).
INTERVAL_QUANTILES = (0.025, 0.975)
# A distribution whose mean is further than this (relative to the base value) from the
# parameter's base value is warned about: the Monte Carlo analysis then describes other
# inputs than the base case (e.g. a skewed triangular whose mode is the base value).
MEAN_BASE_GAP = 0.10
DEFAULT_DRAWS = 10_000
DEFAULT_SEED = 20251

# ----- PBMA -----------------------------------------------------------------------------
SCORE_MIN = 0
SCORE_MAX = 10
PANEL_GROUPS = ("patient", "carer", "clinician", "manager", "finance", "public")
OPTION_LISTS = ("wish", "shift")
DECISIONS = ("invest", "disinvest", "reject", "defer")
