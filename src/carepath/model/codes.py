"""Code lists shared by the data model, ingest validation and synthetic data.

Each list is the set of values a coded column may hold. Where a national standard
exists (Routes to Diagnosis, COSD personalised-care status) the codes follow it and
the source is named.
"""

from __future__ import annotations

SEX = ("M", "F")
SEX_NAMES = {"M": "Male", "F": "Female"}  # as Fingertips writes them

# Organisation types, in hierarchy order for commissioners, then providers.
GEOGRAPHY_TYPES = (
    "practice",
    "pcn",
    "locality",
    "sub_icb",
    "icb",
    "cancer_alliance",
    "region",
    "england",
)
PROVIDER_TYPES = ("trust", "hospice", "community", "voluntary")
# Organisations that neither commission through the hierarchy nor provide care, but pay a
# share of services (a county council's social care funds part of community services).
PAYER_ONLY_TYPES = ("local_authority",)

# The area types of indicator values, named for people: (one area, a list of them). Exports
# use the first (Fingertips' "Area Type"), pages the second; one table so they never differ.
AREA_TYPE_NAMES = {
    "practice": ("GP practice", "GP practices"),
    "pcn": ("Primary care network", "Primary care networks"),
    "locality": ("Locality", "Localities"),
    "sub_icb": ("Sub-ICB location", "Sub-ICB locations"),
    "icb": ("ICB", "ICBs"),
    "cancer_alliance": ("Cancer alliance", "Cancer alliances"),
    "region": ("Region", "Regions"),
    "provider": ("Provider", "Providers"),
    "group": ("Group of practices", "Groups of practices"),
    "national": ("National", "National"),
}
ORG_TYPES = GEOGRAPHY_TYPES + PROVIDER_TYPES + PAYER_ONLY_TYPES

# Five-year age bands matching the European Standard Population 2013 (19 bands).
AGE_BAND_STARTS = tuple(range(0, 95, 5))
AGE_BANDS = tuple(f"{s}-{s + 4}" for s in AGE_BAND_STARTS[:-1]) + ("90+",)


def age_band(age: int) -> str:
    """The ESP2013 five-year band label for an age in whole years."""
    if age < 0:
        raise ValueError(f"age must be >= 0, got {age}")
    return AGE_BANDS[min(age // 5, len(AGE_BANDS) - 1)]


# Index of Multiple Deprivation quintile: 1 = most deprived (IoD convention).
IMD_QUINTILES = (1, 2, 3, 4, 5)

# ONS 2021 census high-level ethnic groups.
ETHNIC_GROUPS = ("white", "mixed", "asian", "black", "other", "not_stated")

REFERRAL_TYPES = ("usc", "urgent", "routine")
REFERRAL_OUTCOMES = ("cancer", "no_cancer", "pending")

# Tumour groups used across CWT and the Cancer Services profile.
TUMOUR_GROUPS = (
    "breast",
    "lung",
    "lower_gi",
    "upper_gi",
    "urological",
    "skin",
    "gynaecological",
    "head_and_neck",
    "haematological",
    "brain_cns",
    "other",
)

STAGES = ("1", "2", "3", "4", "U")  # U = unknown / unstageable

# NDRS Routes to Diagnosis categories.
ROUTES = (
    "screening",
    "two_week_wait",
    "gp_referral",
    "other_outpatient",
    "inpatient_elective",
    "emergency",
    "dco",  # death certificate only
    "unknown",
)

TREATMENT_MODALITIES = (
    "surgery",
    "chemotherapy",
    "radiotherapy",
    "hormone",
    "immunotherapy",
    "active_monitoring",
    "other",
)

CARE_EVENT_TYPES = (
    "hna",
    "care_plan",
    "treatment_summary",
    "cancer_care_review",
    "health_wellbeing",
    "follow_up_pathway",
)

# COSD v9 personalised-care status codes (HNA, PCSP, EOTS).
COSD_STATUS = (
    "offered_accepted",
    "offered_declined",
    "offered_undecided",
    "offered_unable",
    "not_offered",
)

FOLLOW_UP_PATHWAYS = ("supported_self_management", "clinician_led")

HNA_DOMAINS = (
    "physical",
    "practical",
    "emotional",
    "family",
    "spiritual",
    "financial",
    "lifestyle",
)
HNA_SCORE_RANGE = (0, 10)

PLACES_OF_DEATH = ("home", "care_home", "hospice", "hospital", "other")
PREFERRED_PLACES = PLACES_OF_DEATH + ("not_stated",)
# Deaths in usual place of residence (DiUPR) count home and care home.
USUAL_RESIDENCE_PLACES = ("home", "care_home")

ADMISSION_TYPES = ("elective", "emergency")

SCREENING_PROGRAMMES = ("breast_53_70", "cervical_25_49", "cervical_50_64", "bowel_60_74")

SURVEYS = ("cpes", "voices", "local_prem", "local_prom")

BENEFICIARY_SECTORS = (
    "acute_trust",
    "primary_care",
    "community",
    "social_care",
    "patient_carer",
    "wider_public_sector",
    "hospice",
    "voluntary",
)


# Codes shown to people as words where replacing '_' by a space is not enough (the pages
# showed 'brain_cns' and 'missing any rp element': a new user's walkthrough).
CODE_WORDS = {
    "brain_cns": "brain and CNS",
    "lower_gi": "lower GI",
    "upper_gi": "upper GI",
    "hna": "holistic needs assessment",
    "missing_hna": "missing holistic needs assessment",
    "missing_any_rp_element": "missing any Recovery Package element",
    "death_without_eol_register": "death without an end-of-life register entry",
    "imd_quintile": "IMD quintile",
    "health_wellbeing": "health and wellbeing event",
    "follow_up_pathway": "stratified follow-up decision",
    "supported_self_management": "supported self-management",
    "all": "all",
    "cpes": "National Cancer Patient Experience Survey (CPES)",
    "voices": "VOICES (survey of bereaved people)",
    "local_prem": "local patient-reported experience (PREM)",
    "local_prom": "local patient-reported outcomes (PROM)",
    "dco": "death certificate only",
}


def in_words(code: object) -> str:
    """A code as people read it: ``CODE_WORDS``, else its underscores as spaces."""
    if code is None:
        return ""
    text = str(code)
    return CODE_WORDS.get(text, text.replace("_", " "))
