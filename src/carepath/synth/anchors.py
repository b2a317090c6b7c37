"""Published figures the synthetic data is calibrated to, each with its source.

Figures marked *derived* were computed from the real public files in
``../shared/data/public/`` (Open Government Licence v3.0); ``tests/synth/test_anchors.py``
recomputes them from those files when present, so a drift is caught. The rest are
national headline figures quoted in the Carepath brief (issue 2) and
``reference/domain_anchors.md``.

Shapes: age vectors have one value per ESP2013 five-year band (``codes.AGE_BANDS``,
19 bands, 90+ last); sex is ordered as ``codes.SEX`` (M, F).
"""

from __future__ import annotations

import numpy as np

N_BANDS = 19
SRC_GP_REG = "NHS England, Patients Registered at a GP Practice, Aug 2026 (PCN 5-year bands)"
SRC_QOF = "NHS England, QOF 2022-23 prevalence (practice list sizes)"
SRC_CWT = "NHS England, Cancer Waiting Times, commissioner based, July 2024 (England)"
SRC_CERV = "NHS Digital, cervical screening coverage by GP practice, Dec 2017"
SRC_IMD = "MHCLG IMD 2019, practice registration-weighted score (derived)"

# ----- registered population ------------------------------------------------------------
# Shares per 10,000 of the registered list by sex and band. *derived* from the PCN file:
# England overall, and the mean profile of the youngest and oldest tenths of PCNs by share
# aged 65+ (university towns and inner cities vs coastal and rural retirement areas).
AGE_PROFILE_ENGLAND = np.array([
    [233, 271, 304, 311, 304, 348, 368, 378, 353, 325, 307, 321, 307, 254, 202, 186, 123, 64, 31],
    [221, 258, 289, 296, 301, 342, 362, 370, 343, 311, 296, 317, 309, 263, 220, 213, 151, 91, 59],
], dtype=float)
AGE_PROFILE_YOUNG = np.array([
    [239, 250, 270, 312, 508, 652, 592, 512, 426, 350, 279, 237, 192, 141, 95, 64, 37, 22, 11],
    [226, 238, 257, 313, 573, 615, 516, 425, 347, 280, 227, 203, 176, 136, 100, 76, 49, 32, 21],
], dtype=float)
AGE_PROFILE_OLD = np.array([
    [174, 218, 260, 272, 220, 221, 241, 263, 257, 259, 286, 362, 403, 373, 326, 331, 229, 115, 57],
    [167, 207, 246, 257, 205, 214, 244, 275, 271, 272, 307, 389, 429, 396, 353, 369, 269, 157, 103],
], dtype=float)
SHARE_65_PLUS_ENGLAND = 0.186  # derived: England registered list aged 65+

# Practice list sizes: log-normal fitted to all 6,378 practices (QOF 2022-23): mean of
# ln(list) 9.00, sd 0.63; median 8,426.
LIST_SIZE_LOG_MEAN = 9.00
LIST_SIZE_LOG_SD = 0.63
LIST_SIZE_MEDIAN = 8426
LIST_SIZE_MIN = 1500  # issue 2: Wessex list sizes 1,500-30,000
LIST_SIZE_MAX = 30000
LIST_GROWTH_PER_YEAR = 0.008  # registered lists grow slowly (England ~0.8%/yr 2019-2024)

# Practice IMD 2019 score: mean 23.4, sd 11.6 across 6,437 practices (derived).
IMD_SCORE_MEAN = 23.4
IMD_SCORE_SD = 11.6
# Score cut points between IMD quintiles of practices (approximate, derived).
IMD_QUINTILE_CUTS = (34.0, 25.0, 18.5, 13.0)

# ----- cancer incidence, referrals, routes, stage ------------------------------------------
# Relative incidence by band (CRUK/NDRS age pattern, per 100,000), scaled at run time so
# the crude rate on the England age profile equals CANCER_INCIDENCE_PER_100K.
INCIDENCE_SHAPE = np.array([20, 10, 12, 20, 30, 50, 80, 120, 180, 280, 420, 620, 900, 1300,
                            1700, 2100, 2400, 2600, 2500], dtype=float)
# Women have more cancer at 30-59 (breast), men more at older ages (prostate, lung).
INCIDENCE_SEX_RATIO_F = np.array([1.0] * 6 + [1.5, 1.5, 1.4, 1.3, 1.15, 1.0, 0.9] + [0.8] * 6)
CANCER_INCIDENCE_PER_100K = 600.0  # NDRS 2022: ~346k cases (excl. NMSC) / registered list

# USC referrals by band (relative), scaled to USC_RATE_PER_100K; women refer more (breast,
# gynaecological).
USC_SHAPE = np.array([800, 700, 800, 1500, 1800, 2500, 3000, 3500, 4200, 5000, 6000, 7000, 8000,
                      9000, 10500, 11500, 11500, 11000, 10000], dtype=float)
USC_SEX_RATIO_F = 1.35
USC_RATE_PER_100K = 5200.0  # CWT 2023-24: ~3.1 million USC referrals a year, England
USC_CONVERSION = 0.065  # issue 2: ~6-7% of USC referrals are diagnosed with cancer

# Routes to Diagnosis shares (NDRS Routes to Diagnosis, recent years). The two-week-wait
# share follows from the referral rate and conversion, so it is not drawn here.
ROUTE_SHARES = {
    "screening": 0.06,
    "gp_referral": 0.10,
    "other_outpatient": 0.06,
    "inpatient_elective": 0.02,
    "emergency": 0.19,
    "dco": 0.005,
    "unknown": 0.015,
}
EMERGENCY_PRESENTATION_TARGET = 0.19  # issue 2: 18-20% of cancers via emergency
EARLY_STAGE_TARGET = 0.55  # gov.uk case-mix adjusted stage, 2018: 55% stage 1-2 where staged

# Tumour group shares by sex (CRUK incidence mix, adults).
TUMOUR_MIX = {
    "M": {"urological": 0.32, "lung": 0.13, "lower_gi": 0.12, "upper_gi": 0.08, "skin": 0.05,
          "haematological": 0.10, "head_and_neck": 0.05, "brain_cns": 0.02, "other": 0.13},
    "F": {"breast": 0.30, "lung": 0.13, "lower_gi": 0.10, "gynaecological": 0.13,
          "upper_gi": 0.05, "skin": 0.05, "haematological": 0.08, "urological": 0.05,
          "head_and_neck": 0.02, "brain_cns": 0.02, "other": 0.07},
}
# Under 30: mostly blood, brain, skin, testis/cervix and other (teenage and young adult).
TUMOUR_MIX_YOUNG = {"haematological": 0.30, "brain_cns": 0.15, "skin": 0.12, "other": 0.25,
                    "urological": 0.08, "gynaecological": 0.05, "breast": 0.05}
ICD10_BY_GROUP = {
    "breast": (("C50", 1.0),),
    "lung": (("C34", 0.97), ("C33", 0.03)),
    "lower_gi": (("C18", 0.62), ("C20", 0.30), ("C19", 0.08)),
    "upper_gi": (("C15", 0.30), ("C16", 0.20), ("C25", 0.35), ("C22", 0.15)),
    "urological": (("C61", 0.70), ("C67", 0.12), ("C64", 0.15), ("C62", 0.03)),
    "skin": (("C43", 1.0),),
    "gynaecological": (("C54", 0.45), ("C56", 0.30), ("C53", 0.20), ("C51", 0.05)),
    "head_and_neck": (("C32", 0.25), ("C09", 0.20), ("C01", 0.15), ("C73", 0.40)),
    "haematological": (("C90", 0.20), ("C85", 0.30), ("C91", 0.25), ("C92", 0.15),
                       ("C81", 0.10)),
    "brain_cns": (("C71", 1.0),),
    "other": (("C80", 0.35), ("C45", 0.15), ("C49", 0.20), ("C74", 0.05), ("C23", 0.25)),
}
MALE_ONLY_ICD = ("C61", "C62")
FEMALE_ONLY_ICD = ("C51", "C53", "C54", "C56")

# ----- waiting times (CWT July 2024, England) ---------------------------------------------
FDS_28_DAY = 0.762  # told cancer diagnosed or ruled out within 28 days (all routes)
USC_FIRST_SEEN_14_DAY = 0.80  # USC referral to first appointment within 14 days
CWT_62_DAY_USC = 0.628  # USC referral to first treatment within 62 days
CWT_31_DAY_FIRST = 0.924  # decision to treat to first treatment within 31 days

# ----- deaths and end of life --------------------------------------------------------------
DEATHS_PER_100 = 0.90  # issue 2: deaths ~0.9% of the registered population a year
CANCER_SHARE_OF_DEATHS = 0.27  # ONS: ~27% of deaths have cancer as underlying cause
# Relative all-cause mortality by band (ONS England life tables shape).
MORTALITY_SHAPE = np.array([0.9, 0.1, 0.1, 0.3, 0.4, 0.5, 0.7, 1.0, 1.5, 2.2, 3.3, 5.0, 7.8,
                            12.0, 19.0, 32.0, 56.0, 100.0, 210.0])
MORTALITY_SEX_RATIO_F = 0.80
PLACE_OF_DEATH_TARGET = {"hospital": 0.43, "home": 0.29, "care_home": 0.21, "hospice": 0.05,
                         "other": 0.02}  # ONS/OHID deaths by place, England
EOL_REGISTER_ALL_DEATHS = 0.30  # Harrison et al. BJGP 2012: ~29% of deaths on a register
EOL_REGISTER_CANCER_DEATHS = 0.67  # ... two thirds of cancer deaths
EOL_REGISTER_OTHER_DEATHS = 0.17  # ... a fifth of others (0.17 offsets the lead time)
PALLIATIVE_REGISTER_PREVALENCE = 0.00466  # derived: QOF 2022-23 PC register / list size
PREFERRED_PLACE_ACHIEVED = 0.65  # dies where they chose, when a choice was recorded

# ----- personalised care -------------------------------------------------------------------
HNA_OFFERED_TARGET = 0.65  # issue 2: HNA offered to 60-70%, varying by trust and tumour

# ----- screening ---------------------------------------------------------------------------
SCREENING_COVERAGE = {
    "cervical_25_49": 0.686,  # derived: cervical coverage 25-49, England, Dec 2017
    "cervical_50_64": 0.763,  # derived: cervical coverage 50-64, England, Dec 2017
    "breast_53_70": 0.70,  # NHS Breast Screening Programme 2022-23: ~70%
    "bowel_60_74": 0.72,  # OHID Fingertips bowel screening coverage 60-74, 2023: ~72%
}
SCREENING_PRACTICE_SD = 0.06  # between-practice sd of coverage (cervical 25-49: ~7 pp)

# ----- survival (for deaths after diagnosis) -----------------------------------------------
# Probability of dying of the cancer, and mean years to that death, by stage 1, 2, 3, 4, U
# (shape of ONS/NDRS survival by stage: 1-year survival ~97% stage 1, ~40-50% stage 4).
CANCER_DEATH_PROB = np.array([0.07, 0.20, 0.45, 0.85, 0.60])
CANCER_DEATH_MEAN_YEARS = np.array([5.0, 4.0, 2.2, 0.8, 1.0])
ONE_YEAR_SURVIVAL = 0.74  # ONS/NDRS index of 1-year cancer survival, adults, England ~74%
