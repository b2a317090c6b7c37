"""The Carepath data model (capability C1), written once as code.

Every other layer reads these definitions: the workspace creates tables from them,
ingest validates against them, the indicator language checks column names and types
against them, and `docs/data-model.md` is generated from them (a test fails when the
document is out of date).

Conventions
-----------
* Person-level tables carry ``patient_id``: a keyed pseudonym made at the door
  (ingest) or by the synthetic generator. NHS numbers are never stored.
* Dates are calendar dates (no times). ``valid_from``/``valid_to`` bound a row's
  validity; ``valid_to`` NULL means "still valid".
* A NULL value means *missing*. Suppressed aggregate inputs (published files that
  hide small counts) carry an explicit ``suppressed`` flag so that suppressed,
  missing and true zero stay three different states.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from carepath.model import codes

# Bump when the schema changes, and add a migration in carepath.workspace.migrations.
SCHEMA_VERSION = 4

# Logical column types; each maps to one DuckDB type.
DUCKDB_TYPES = {
    "text": "VARCHAR",
    "int": "BIGINT",
    "float": "DOUBLE",
    "date": "DATE",
    "bool": "BOOLEAN",
    "timestamp": "TIMESTAMP",
}


@dataclass(frozen=True)
class Column:
    name: str
    type: str
    doc: str
    required: bool = False
    codes: tuple | None = None  # allowed values, when the column is coded
    min: float | None = None
    max: float | None = None
    references: str | None = None  # "table.column" this value must exist in
    identifying: bool = False  # never shown in logs or errors unmasked

    def __post_init__(self) -> None:
        if self.type not in DUCKDB_TYPES:
            raise ValueError(f"column {self.name}: unknown type {self.type!r}")

    @property
    def sql_type(self) -> str:
        return DUCKDB_TYPES[self.type]


@dataclass(frozen=True)
class Table:
    name: str
    doc: str
    columns: tuple[Column, ...]
    key: tuple[str, ...] = ()
    person_level: bool = False
    group: str = "data"  # "data" (loadable) or "system" (kept by Carepath)
    dates: tuple[str, ...] = field(default=())  # columns that can place a row in a period

    def column(self, name: str) -> Column:
        for col in self.columns:
            if col.name == name:
                return col
        raise KeyError(f"table {self.name} has no column {name!r}")

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(c.name for c in self.columns)

    def ddl(self) -> str:
        cols = [f'"{c.name}" {c.sql_type}' for c in self.columns]
        return f'CREATE TABLE IF NOT EXISTS "{self.name}" ({", ".join(cols)})'


def _pid(doc: str = "Keyed pseudonym of the person (never an NHS number).") -> Column:
    return Column("patient_id", "text", doc, required=True, references="patients.patient_id")


def _practice(doc: str = "ODS code of the GP practice.", required: bool = True) -> Column:
    return Column(
        "practice_code", "text", doc, required=required, references="organisations.org_code"
    )


def _provider(name: str = "provider_code", doc: str = "ODS code of the provider.") -> Column:
    return Column(name, "text", doc, references="organisations.org_code")


ORGANISATIONS = Table(
    "organisations",
    "Every organisation: commissioning geographies from practice to England, and "
    "providers. Geographies change, so each row has validity dates.",
    (
        Column("org_code", "text", "ODS or local code.", required=True),
        Column("name", "text", "Display name.", required=True),
        Column("org_type", "text", "Type of organisation.", required=True, codes=codes.ORG_TYPES),
        Column("valid_from", "date", "First day the organisation exists.", required=True),
        Column("valid_to", "date", "Last day it exists; empty while open."),
        Column("postcode", "text", "Postcode of the main site."),
        Column("rurality", "text", "ONS rural-urban class (urban / town / rural)."),
        Column("imd_score", "float", "Registration-weighted IMD score (practices)."),
    ),
    key=("org_code", "valid_from"),
)

ORG_HIERARCHY = Table(
    "org_hierarchy",
    "Parent of each organisation at each level, with validity dates. A practice has "
    "one parent per level (PCN, locality, sub-ICB, ...), so a query can use the "
    "hierarchy that was valid in the period it computes.",
    (
        Column("child_code", "text", "Child organisation.", required=True),
        Column("parent_code", "text", "Parent organisation.", required=True),
        Column(
            "parent_type", "text", "Level of the parent.", required=True, codes=codes.ORG_TYPES
        ),
        Column("valid_from", "date", "First day of the link.", required=True),
        Column("valid_to", "date", "Last day of the link; empty while open."),
    ),
    key=("child_code", "parent_type", "valid_from"),
)

REGISTERED_POPULATION = Table(
    "registered_population",
    "People registered at each practice by sex and five-year age band, per quarter "
    "(NHS Digital 'Patients Registered at a GP Practice').",
    (
        _practice(),
        Column("quarter_start", "date", "First day of the quarter.", required=True),
        Column("sex", "text", "Sex.", required=True, codes=codes.SEX),
        Column("age_band", "text", "ESP2013 five-year band.", required=True, codes=codes.AGE_BANDS),
        Column("population", "int", "Registered people.", required=True, min=0),
    ),
    key=("practice_code", "quarter_start", "sex", "age_band"),
    dates=("quarter_start",),
)

PATIENTS = Table(
    "patients",
    "People known to the cancer and end-of-life data (pseudonymised at the door).",
    (
        _pid("Keyed pseudonym (HMAC of the NHS number with the workspace secret)."),
        Column("sex", "text", "Sex.", required=True, codes=codes.SEX),
        Column("year_of_birth", "int", "Year of birth.", required=True, min=1890, max=2100),
        _practice("Registered practice."),
        Column("registered_from", "date", "Start of registration at the practice."),
        Column("registered_to", "date", "End of registration; empty while registered."),
        Column(
            "imd_quintile", "int", "IMD quintile of residence (1 = most deprived).",
            codes=codes.IMD_QUINTILES,
        ),
        Column("ethnic_group", "text", "ONS ethnic group.", codes=codes.ETHNIC_GROUPS),
    ),
    key=("patient_id",),
    person_level=True,
)

REFERRALS = Table(
    "referrals",
    "Referrals for suspected cancer: urgent suspected cancer (USC, 'two-week-wait') "
    "and others, with the faster-diagnosis outcome.",
    (
        Column("referral_id", "text", "Referral identifier.", required=True),
        _pid(),
        _practice("Referring practice."),
        Column("referral_type", "text", "USC, urgent or routine.", required=True,
               codes=codes.REFERRAL_TYPES),
        Column("suspected_site", "text", "Suspected tumour group.", codes=codes.TUMOUR_GROUPS),
        Column("referral_date", "date", "Date the referral was received.", required=True),
        Column("first_seen_date", "date", "Date first seen in secondary care."),
        _provider("first_seen_provider", "Trust where the person was first seen."),
        Column("outcome", "text", "Cancer diagnosed, ruled out, or pending.",
               codes=codes.REFERRAL_OUTCOMES),
        Column("faster_diagnosis_date", "date", "Date cancer was diagnosed or ruled out."),
        Column("tumour_id", "text", "The tumour diagnosed, if any."),
    ),
    key=("referral_id",),
    person_level=True,
    dates=("referral_date", "first_seen_date", "faster_diagnosis_date"),
)

TUMOURS = Table(
    "tumours",
    "Cancer diagnoses (one row per tumour), as in the cancer registry / COSD.",
    (
        Column("tumour_id", "text", "Tumour identifier.", required=True),
        _pid(),
        _practice("Registered practice at diagnosis."),
        Column("icd10", "text", "ICD-10 site code, e.g. C50.", required=True),
        Column("tumour_group", "text", "Tumour group.", required=True, codes=codes.TUMOUR_GROUPS),
        Column("stage", "text", "Stage 1-4 or U (unknown).", required=True, codes=codes.STAGES),
        Column("route", "text", "Route to diagnosis (NDRS categories).", required=True,
               codes=codes.ROUTES),
        Column("diagnosis_date", "date", "Date of diagnosis.", required=True),
        _provider("diagnosing_trust", "Trust that made the diagnosis."),
        Column("decision_to_treat_date", "date", "Date of the decision to treat."),
        Column("age_at_diagnosis", "int", "Age in whole years at diagnosis.", min=0, max=130),
    ),
    key=("tumour_id",),
    person_level=True,
    dates=("diagnosis_date",),
)

TREATMENTS = Table(
    "treatments",
    "Cancer treatments, with the first definitive treatment flagged (CWT).",
    (
        Column("treatment_id", "text", "Treatment identifier.", required=True),
        Column("tumour_id", "text", "Tumour treated.", required=True,
               references="tumours.tumour_id"),
        _pid(),
        Column("modality", "text", "Treatment modality.", required=True,
               codes=codes.TREATMENT_MODALITIES),
        Column("start_date", "date", "Start date.", required=True),
        _provider(),
        Column("first_treatment", "bool", "First definitive treatment for the tumour."),
    ),
    key=("treatment_id",),
    person_level=True,
    dates=("start_date",),
)

CARE_EVENTS = Table(
    "care_events",
    "Personalised-care (Recovery Package) events: holistic needs assessment (HNA), "
    "care and support plan, end-of-treatment summary, cancer care review, health and "
    "wellbeing event, and the follow-up pathway chosen.",
    (
        Column("event_id", "text", "Event identifier.", required=True),
        _pid(),
        Column("tumour_id", "text", "Tumour the event relates to.",
               references="tumours.tumour_id"),
        Column("event_type", "text", "Type of event.", required=True,
               codes=codes.CARE_EVENT_TYPES),
        Column("event_date", "date", "Date of the event (or of the offer).", required=True),
        _provider(doc="Organisation that recorded the event (trust or practice)."),
        Column("cosd_status", "text", "COSD offered/declined/accepted status.",
               codes=codes.COSD_STATUS),
        Column("follow_up_pathway", "text", "For follow_up_pathway events.",
               codes=codes.FOLLOW_UP_PATHWAYS),
    ),
    key=("event_id",),
    person_level=True,
    dates=("event_date",),
)

HNA_CONCERNS = Table(
    "hna_concerns",
    "Concerns scored 0-10 in a holistic needs assessment, by domain.",
    (
        Column("event_id", "text", "The HNA event.", required=True,
               references="care_events.event_id"),
        Column("domain", "text", "HNA domain.", required=True, codes=codes.HNA_DOMAINS),
        Column("concern", "text", "The concern as named on the checklist."),
        Column("score", "int", "Score 0 (none) to 10 (severe).", required=True,
               min=codes.HNA_SCORE_RANGE[0], max=codes.HNA_SCORE_RANGE[1]),
    ),
    key=("event_id", "domain", "concern"),
    person_level=True,
)

EOL_REGISTER = Table(
    "eol_register",
    "Entries on a practice's end-of-life (palliative care) register.",
    (
        _pid(),
        _practice(),
        Column("entry_date", "date", "Date added to the register.", required=True),
        Column("exit_date", "date", "Date removed (other than by death)."),
    ),
    key=("patient_id", "entry_date"),
    person_level=True,
    dates=("entry_date",),
)

PREFERENCES = Table(
    "preferences",
    "Preferred place of death, as recorded in an advance care plan.",
    (
        _pid(),
        Column("preferred_place", "text", "Preferred place of death.", required=True,
               codes=codes.PREFERRED_PLACES),
        Column("date_recorded", "date", "Date the preference was recorded.", required=True),
    ),
    key=("patient_id", "date_recorded"),
    person_level=True,
    dates=("date_recorded",),
)

ADMISSIONS = Table(
    "admissions",
    "Hospital admissions (elective or emergency), with bed days.",
    (
        Column("admission_id", "text", "Admission identifier.", required=True),
        _pid(),
        _provider(),
        Column("admission_type", "text", "Elective or emergency.", required=True,
               codes=codes.ADMISSION_TYPES),
        Column("admission_date", "date", "Admission date.", required=True),
        Column("discharge_date", "date", "Discharge date."),
        Column("bed_days", "int", "Nights in hospital.", min=0),
        Column("primary_diagnosis", "text", "ICD-10 primary diagnosis."),
    ),
    key=("admission_id",),
    person_level=True,
    dates=("admission_date",),
)

DEATHS = Table(
    "deaths",
    "Registered deaths: date, place and underlying cause.",
    (
        _pid(),
        _practice("Registered practice at death."),
        Column("date_of_death", "date", "Date of death.", required=True),
        Column("place_of_death", "text", "Place of death.", required=True,
               codes=codes.PLACES_OF_DEATH),
        Column("underlying_cause", "text", "ICD-10 underlying cause of death."),
        Column("age_at_death", "int", "Age in whole years at death.", min=0, max=130),
    ),
    key=("patient_id",),
    person_level=True,
    dates=("date_of_death",),
)

SCREENING = Table(
    "screening",
    "Screening coverage by practice, programme and period: eligible people and "
    "those adequately screened. Published files suppress small counts; the "
    "suppressed flag keeps that distinct from missing and from zero.",
    (
        _practice(),
        Column("programme", "text", "Screening programme and age range.", required=True,
               codes=codes.SCREENING_PROGRAMMES),
        Column("period_end", "date", "Date coverage was measured.", required=True),
        Column("eligible", "int", "Eligible people.", min=0),
        Column("screened", "int", "Adequately screened within the interval.", min=0),
        Column("suppressed", "bool", "The publisher suppressed these counts."),
    ),
    key=("practice_code", "programme", "period_end"),
    dates=("period_end",),
)

SURVEY_RESPONSES = Table(
    "survey_responses",
    "Answers to experience surveys (national-survey style and local PROMs/PREMs), "
    "one row per respondent and question, with case-mix fields.",
    (
        Column("survey", "text", "Survey.", required=True, codes=codes.SURVEYS),
        Column("respondent_id", "text", "Pseudonymous respondent.", required=True),
        Column("org_code", "text", "Organisation the answer is about.", required=True,
               references="organisations.org_code"),
        Column("question_id", "text", "Question identifier.", required=True),
        Column("response_code", "text", "Answer as coded."),
        Column("positive", "bool", "Answer counts as positive (evaluative questions)."),
        Column("score", "float", "Numeric score where the question has one."),
        Column("response_date", "date", "Date answered or survey period.", required=True),
        Column("sex", "text", "Case-mix: sex.", codes=codes.SEX),
        Column("age_band", "text", "Case-mix: age band.", codes=codes.AGE_BANDS),
        Column("tumour_group", "text", "Case-mix: tumour group.", codes=codes.TUMOUR_GROUPS),
        Column("imd_quintile", "int", "Case-mix: IMD quintile.", codes=codes.IMD_QUINTILES),
    ),
    key=("survey", "respondent_id", "question_id"),
    dates=("response_date",),
)

SERVICES = Table(
    "services",
    "Cancer and EoL support services: provider, unit cost and activity per year.",
    (
        Column("service_id", "text", "Service identifier.", required=True),
        Column("name", "text", "Service name.", required=True),
        _provider(),
        Column("year", "int", "Financial year starting (e.g. 2024 = 2024/25).", required=True),
        Column("unit_cost", "float", "Cost per unit of activity (GBP).", min=0),
        Column("activity", "float", "Units of activity in the year.", min=0),
        Column("indicator_ids", "text", "Indicators the service aims to move (; separated)."),
    ),
    key=("service_id", "year"),
)

SERVICE_PAYERS = Table(
    "service_payers",
    "Who pays for each service in each year, as shares summing to 1.",
    (
        Column("service_id", "text", "Service.", required=True),
        Column("year", "int", "Financial year starting, as in services (payers may change "
               "from one year to the next).", required=True),
        Column("payer_code", "text", "Paying organisation.", required=True),
        Column("share", "float", "Share of cost (0-1).", required=True, min=0, max=1),
    ),
    key=("service_id", "year", "payer_code"),
)

DATA_TABLES = (
    ORGANISATIONS,
    ORG_HIERARCHY,
    REGISTERED_POPULATION,
    PATIENTS,
    REFERRALS,
    TUMOURS,
    TREATMENTS,
    CARE_EVENTS,
    HNA_CONCERNS,
    EOL_REGISTER,
    PREFERENCES,
    ADMISSIONS,
    DEATHS,
    SCREENING,
    SURVEY_RESPONSES,
    SERVICES,
    SERVICE_PAYERS,
)

# Tables Carepath keeps for itself.
META = Table(
    "carepath_meta",
    "Workspace facts: schema version and creation details.",
    (
        Column("key", "text", "Name.", required=True),
        Column("value", "text", "Value.", required=True),
    ),
    key=("key",),
    group="system",
)

LOAD_LOG = Table(
    "load_log",
    "One row per load: the file, its hash, and the reconciliation read = loaded + "
    "quarantined.",
    (
        Column("load_id", "text", "Load identifier.", required=True),
        Column("table_name", "text", "Target table.", required=True),
        Column("source", "text", "File name or generator.", required=True),
        Column("file_hash", "text", "SHA-256 of the file."),
        Column("rows_read", "int", "Rows read.", required=True),
        Column("rows_loaded", "int", "Rows loaded.", required=True),
        Column("rows_quarantined", "int", "Rows quarantined.", required=True),
        Column("loaded_by", "text", "User who ran the load."),
        Column("loaded_at", "timestamp", "When.", required=True),
    ),
    key=("load_id",),
    group="system",
)

QUARANTINE = Table(
    "quarantine",
    "Rows rejected by validation, with where and why. Values are masked.",
    (
        Column("load_id", "text", "Load that read the row.", required=True),
        Column("table_name", "text", "Target table.", required=True),
        Column("source", "text", "File.", required=True),
        Column("row_number", "int", "Row number in the file (header = 1).", required=True),
        Column("column_name", "text", "Offending column."),
        Column("masked_value", "text", "The value, masked if identifying."),
        Column("reason", "text", "Rule broken.", required=True),
    ),
    group="system",
)

AUDIT_LOG = Table(
    "audit_log",
    "Append-only record of logins, person-level views, exports and changes.",
    (
        Column("at", "timestamp", "When.", required=True),
        Column("actor", "text", "User or process.", required=True),
        Column("action", "text", "What was done.", required=True),
        Column("target", "text", "What it was done to."),
        Column("detail", "text", "Further detail (JSON)."),
    ),
    group="system",
)

INDICATOR_VALUES = Table(
    "indicator_values",
    "Computed indicator values in a long format with the same columns as a Fingertips "
    "data export, plus provenance. One row per indicator x area x period x breakdown "
    "category. Written by the engine; read by every page, pack, contract and export.",
    (
        Column("indicator_id", "text", "Indicator id.", required=True),
        Column("indicator_version", "text", "Definition version.", required=True),
        Column("definition_hash", "text", "SHA-256 of the definition content.", required=True),
        Column("area_code", "text", "Area (organisation code, or 'national').", required=True),
        Column("area_name", "text", "Area name."),
        Column("area_type", "text", "practice, pcn, locality, sub_icb, icb, cancer_alliance, "
               "national, provider or group.", required=True),
        Column("parent_code", "text", "Parent area used for the parent comparison: the "
               "nearest larger than the area (none for an area as large as the workspace)."),
        Column("period", "text", "Period label, e.g. 2024/25, 2024, 2024 Q3.", required=True),
        Column("period_start", "date", "First day of the period.", required=True),
        Column("period_end", "date", "Last day of the period.", required=True),
        Column("breakdown", "text", "Breakdown dimension ('all' when none).", required=True),
        Column("category", "text", "Breakdown category ('all' when none).", required=True),
        Column("numerator", "float", "Numerator (count)."),
        Column("denominator", "float", "Denominator (count, population or expected)."),
        Column("value", "float", "Indicator value."),
        Column("lower95", "float", "Lower 95% confidence limit."),
        Column("upper95", "float", "Upper 95% confidence limit."),
        Column("lower998", "float", "Lower 99.8% confidence limit."),
        Column("upper998", "float", "Upper 99.8% confidence limit."),
        Column("statistic", "text", "proportion, crude_rate, dsr, isr, isratio, mean, count."),
        Column("method", "text", "CI method (Wilson, Exact, Byars, Dobson, ...)."),
        Column("compared_to_parent", "text", "Significance against the parent "
               "(better/similar/worse, or higher/similar/lower when no polarity; "
               "'not_compared')."),
        Column("compared_to_national", "text", "Significance against national, same codes."),
        Column("quantile", "int", "Quintile among areas of the same type (1 = lowest; PHE method, none when fewer than five areas)."),
        Column("trend", "text", "Recent-trend marker."),
        Column("value_state", "text", "published, suppressed or missing: kept distinct "
               "from a true zero.", required=True),
        Column("value_note", "text", "Why a value is suppressed or missing."),
        Column("load_ids", "text", "Data loads used (; separated), then a fingerprint of the "
               "settings that shape the areas (settings:...) and the engine's revision "
               "(engine:...)."),
        Column("carepath_version", "text", "Carepath version that computed the row."),
        Column("computed_at", "timestamp", "When the row was computed."),
    ),
    key=("indicator_id", "area_code", "area_type", "period", "breakdown", "category"),
    group="results",
)

RELEASES = Table(
    "releases",
    "Every release (a public export, or a public page the first time it showed something "
    "new): when, by whom, the file or page and what it held.",
    (
        Column("release_id", "text", "Release identifier.", required=True),
        Column("released_at", "timestamp", "When it was written.", required=True),
        Column("released_by", "text", "User or process that made it.", required=True),
        Column("output", "text", "File name written (the name only, not its folder), or "
               "the public page's address.", required=True),
        Column("indicators", "int", "Indicators in it.", required=True),
        Column("rows", "int", "Rows in it.", required=True),
        Column("suppressed", "int", "Values suppressed in it.", required=True),
        Column("first_suppressed", "int", "Of those, cells Carepath hid that no earlier "
               "release had hidden (not those the publisher of the data suppressed).",
               required=True),
    ),
    key=("release_id",),
    group="system",
)

RELEASED_CELLS = Table(
    "released_cells",
    "What public exports and pages said about each cell: suppressed, or published with the range "
    "of counts its published figures allow. Every later public output (export or public "
    "page) hides the suppressed ones again and counts the published ranges among what is "
    "known: two releases read side by side must not give back what each hid.",
    (
        Column("indicator_id", "text", "Indicator id.", required=True),
        Column("period", "text", "Period label.", required=True),
        Column("area_type", "text", "Area type.", required=True),
        Column("area_code", "text", "Area code.", required=True),
        Column("breakdown", "text", "Breakdown dimension ('all' when none).", required=True),
        Column("category", "text", "Breakdown category ('all' when none).", required=True),
        Column("value_state", "text", "suppressed or published.", required=True,
               codes=("suppressed", "published")),
        Column("numerator_low", "float", "Published: the lowest count it allows."),
        Column("numerator_high", "float", "Published: the highest (empty: no limit)."),
        Column("denominator_low", "float", "Published: the lowest denominator it allows."),
        Column("denominator_high", "float", "Published: the highest (empty: no limit)."),
        Column("release_id", "text", "The release that first said it.", required=True,
               references="releases.release_id"),
    ),
    key=("indicator_id", "period", "area_type", "area_code", "breakdown", "category",
         "value_state", "numerator_low", "numerator_high", "denominator_low",
         "denominator_high"),
    group="system",
)

DEFINITION_VERSIONS = Table(
    "definition_versions",
    "What each version of an indicator counted, when it was first computed: a change to the "
    "counting under the same version is named at compute, whatever the data did meanwhile.",
    (
        Column("indicator_id", "text", "Indicator id.", required=True),
        Column("indicator_version", "text", "Definition version.", required=True),
        Column("counting_hash", "text", "SHA-256 of the fields that decide the figures "
               "(statistic, numerator, denominator, period, ...), not of the words.",
               required=True),
        Column("first_computed_at", "timestamp", "When this version was first computed.",
               required=True),
        Column("last_counting_hash", "text", "The same, of its latest compute.",
               required=True),
    ),
    key=("indicator_id", "indicator_version"),
    group="system",
)

SYSTEM_TABLES = (META, LOAD_LOG, QUARANTINE, AUDIT_LOG, INDICATOR_VALUES, RELEASES,
                 RELEASED_CELLS, DEFINITION_VERSIONS)
ALL_TABLES = DATA_TABLES + SYSTEM_TABLES
TABLES_BY_NAME = {t.name: t for t in ALL_TABLES}

# ----- Benchmarking and peer review (C5) ------------------------------------------------

PEER_REVIEWS = Table(
    "peer_reviews",
    "Outliers discussed at peer review: what was said, whether the explanation was "
    "accepted, and the action agreed. Carried into the next locality pack; every change "
    "is also written to the audit log.",
    (
        Column("review_id", "text", "Review identifier.", required=True),
        Column("indicator_id", "text", "Indicator reviewed.", required=True),
        Column("area_code", "text", "Practice (or other area) reviewed.", required=True),
        Column("period", "text", "Period of the outlying value.", required=True),
        Column("date_discussed", "date", "Date of the meeting.", required=True),
        Column("explanation", "text", "Explanation offered."),
        Column("accepted", "bool", "Explanation accepted by the group."),
        Column("action", "text", "Action agreed."),
        Column("owner", "text", "Who owns the action."),
        Column("due_date", "date", "When the action is due."),
        Column("status", "text", "open, done or dropped.", codes=("open", "done", "dropped")),
        Column("recorded_by", "text", "User who recorded it.", required=True),
        Column("recorded_at", "timestamp", "When it was recorded.", required=True),
    ),
    key=("review_id",),
    group="results",
)

SYSTEM_TABLES = SYSTEM_TABLES + (PEER_REVIEWS,)
ALL_TABLES = DATA_TABLES + SYSTEM_TABLES
TABLES_BY_NAME = {t.name: t for t in ALL_TABLES}


def table(name: str) -> Table:
    try:
        return TABLES_BY_NAME[name]
    except KeyError:
        known = ", ".join(t.name for t in DATA_TABLES)
        raise KeyError(f"unknown table {name!r}; known tables: {known}") from None


# ===== Co-production (C9) — issue 8 ======================================================
# Co-design events, who took part, pledges, workstreams and which outcomes were co-designed
# where. Loadable like other data tables, and also written by `carepath coproduction` (each
# change audited). Participants are counted by group, never named: no person-level data.

COPRODUCTION_STAGES = (
    "needs_assessment", "service_design", "pledge_and_design", "contract_negotiation",
    "monitoring_review", "other",
)
PARTICIPANT_GROUPS = (
    "patients", "carers", "clinicians", "providers", "voluntary_sector", "commissioners",
    "other",
)
PLEDGE_STATUSES = ("made", "in_progress", "met", "lapsed", "withdrawn")
WORKSTREAM_STATUSES = ("planned", "active", "paused", "complete", "closed")

COPRODUCTION_WORKSTREAMS = Table(
    "coproduction_workstreams",
    "Co-production workstreams: name, lead, the outcome domain they serve, status and "
    "progress (0-100%) as last reported.",
    (
        Column("workstream_id", "text", "Workstream identifier.", required=True),
        Column("name", "text", "Workstream name.", required=True),
        Column("lead", "text", "Lead (role or name of a staff member, not a patient)."),
        Column("lead_org_code", "text", "Lead organisation.", references="organisations.org_code"),
        Column("outcome_domain", "text", "Outcome domain the workstream serves."),
        Column("status", "text", "Status.", required=True, codes=WORKSTREAM_STATUSES),
        Column("progress_pct", "float", "Progress reported (0-100).", min=0, max=100),
        Column("updated_on", "date", "Date progress was last reported.", required=True),
    ),
    key=("workstream_id",),
    dates=("updated_on",),
)

COPRODUCTION_EVENTS = Table(
    "coproduction_events",
    "Co-design events (Experience Led Commissioning style): when, which stage of the "
    "commissioning cycle, which workstream.",
    (
        Column("event_id", "text", "Event identifier.", required=True),
        Column("title", "text", "Title.", required=True),
        Column("event_date", "date", "Date held.", required=True),
        Column("stage", "text", "Commissioning-cycle stage.", required=True,
               codes=COPRODUCTION_STAGES),
        Column("workstream_id", "text", "Workstream it served.",
               references="coproduction_workstreams.workstream_id"),
        Column("location", "text", "Where (venue or online)."),
    ),
    key=("event_id",),
    dates=("event_date",),
)

COPRODUCTION_PARTICIPANTS = Table(
    "coproduction_participants",
    "How many people of each group took part in each event (counts, never names).",
    (
        Column("event_id", "text", "Event.", required=True,
               references="coproduction_events.event_id"),
        Column("participant_group", "text", "Group.", required=True, codes=PARTICIPANT_GROUPS),
        Column("participants", "int", "People of this group who took part.", required=True,
               min=0),
    ),
    key=("event_id", "participant_group"),
)

PLEDGES = Table(
    "pledges",
    "Pledges made by organisations at co-design events: the commitment and its status.",
    (
        Column("pledge_id", "text", "Pledge identifier.", required=True),
        Column("org_code", "text", "Organisation pledging.", required=True,
               references="organisations.org_code"),
        Column("commitment", "text", "What was committed.", required=True),
        Column("status", "text", "Status.", required=True, codes=PLEDGE_STATUSES),
        Column("event_id", "text", "Event where it was made.",
               references="coproduction_events.event_id"),
        Column("workstream_id", "text", "Workstream it supports.",
               references="coproduction_workstreams.workstream_id"),
        Column("pledged_on", "date", "Date made.", required=True),
        Column("due_date", "date", "Date it is due."),
        Column("updated_on", "date", "Date the status was last updated."),
    ),
    key=("pledge_id",),
    dates=("pledged_on",),
)

CODESIGNED_OUTCOMES = Table(
    "codesigned_outcomes",
    "Which outcomes (indicator ids or outcome statements) were co-designed, at which event "
    "and in which workstream.",
    (
        Column("outcome", "text", "Indicator id or outcome statement.", required=True),
        Column("event_id", "text", "Event where it was co-designed.",
               references="coproduction_events.event_id"),
        Column("workstream_id", "text", "Workstream.",
               references="coproduction_workstreams.workstream_id"),
        Column("note", "text", "What was agreed."),
    ),
    key=("outcome", "event_id"),
)

COPRODUCTION_TABLES = (
    COPRODUCTION_WORKSTREAMS, COPRODUCTION_EVENTS, COPRODUCTION_PARTICIPANTS, PLEDGES,
    CODESIGNED_OUTCOMES,
)
DATA_TABLES = DATA_TABLES + COPRODUCTION_TABLES
ALL_TABLES = DATA_TABLES + SYSTEM_TABLES
TABLES_BY_NAME = {t.name: t for t in ALL_TABLES}
# ===== end of co-production block (issue 8) ==============================================

# ===== Web application accounts (C11, issue 10) ==========================================

WEB_USERS = Table(
    "web_users",
    "Local accounts of the web application: argon2id password hash (never the password), "
    "role and the areas a scoped role may see. Changes are written to the audit log.",
    (
        Column("username", "text", "Login name.", required=True),
        Column("password_hash", "text", "argon2id hash of the password.", required=True),
        Column("role", "text", "admin, analyst, commissioner, locality_lead or provider.",
               required=True,
               codes=("admin", "analyst", "commissioner", "locality_lead", "provider")),
        Column("scope", "text", "Area codes the role is limited to (; separated): "
               "localities for a locality lead, the organisation for a provider."),
        Column("session_epoch", "int", "Raised on logout, password reset, role change or "
               "removal, which ends every session issued before.", required=True),
        Column("active", "bool", "False once removed (kept for the audit trail).",
               required=True),
        Column("created_at", "timestamp", "When the account was made.", required=True),
        Column("updated_at", "timestamp", "When it last changed.", required=True),
    ),
    key=("username",),
    group="system",
)

SYSTEM_TABLES = SYSTEM_TABLES + (WEB_USERS,)
ALL_TABLES = DATA_TABLES + SYSTEM_TABLES
TABLES_BY_NAME = {t.name: t for t in ALL_TABLES}
# ===== end of web application block (issue 10) ===========================================


# ===== economics block (issue 9): PBMA decisions ==========================================
# Owned by carepath.domain.economics. Appended here so other blocks stay untouched.

PBMA_DECISIONS = Table(
    "pbma_decisions",
    "Programme budgeting and marginal analysis: the decision taken on each candidate "
    "investment (wish list) or disinvestment (shift list), with its rationale. Every "
    "decision is also written to the audit log.",
    (
        Column("decision_id", "text", "Decision identifier.", required=True),
        Column("exercise_id", "text", "PBMA exercise (definition id).", required=True),
        Column("option_id", "text", "Option decided on.", required=True),
        Column("option_list", "text", "wish or shift.", codes=("wish", "shift")),
        Column("decision", "text", "invest, disinvest, reject or defer.", required=True,
               codes=("invest", "disinvest", "reject", "defer")),
        Column("rationale", "text", "Why (required: the panel's reasons).", required=True),
        Column("cost", "float", "Annual cost or money released (GBP).", min=0),
        Column("weighted_score", "float", "Panel's weighted benefit score at the time."),
        Column("decided_by", "text", "User who recorded it.", required=True),
        Column("decided_at", "timestamp", "When it was recorded.", required=True),
    ),
    key=("decision_id",),
    group="results",
)

SYSTEM_TABLES = SYSTEM_TABLES + (PBMA_DECISIONS,)
ALL_TABLES = DATA_TABLES + SYSTEM_TABLES
TABLES_BY_NAME = {t.name: t for t in ALL_TABLES}
# ===== end of economics block (issue 9) ===================================================


# ===== ingest block (issue 5): published figures loaded from named sources ================
# Owned by carepath.ingest / carepath.sources. Appended here so other blocks stay untouched.
# Ingest creates these tables when missing, so older workspaces need no migration.

_VALUE_STATES = ("published", "suppressed", "missing")

EXTERNAL_INDICATOR_VALUES = Table(
    "external_indicator_values",
    "Indicator values published by others (OHID Fingertips exports, QOF prevalence, "
    "Cancer Waiting Times), kept in a Fingertips-like long format to show beside "
    "Carepath's own. Suppressed, missing and zero stay distinct through value_state.",
    (
        Column("source", "text", "Named source that loaded the row.", required=True),
        Column("indicator_id", "text", "Publisher's indicator id.", required=True),
        Column("indicator_name", "text", "Publisher's indicator name."),
        Column("area_code", "text", "Area code as published (ODS or ONS).", required=True),
        Column("area_name", "text", "Area name as published."),
        Column("area_type", "text", "Area type as published."),
        Column("period", "text", "Period label as published.", required=True),
        Column("period_start", "date", "First day of the period, when known."),
        Column("period_end", "date", "Last day of the period, when known."),
        Column("sex", "text", "Sex breakdown ('all' when none).", required=True),
        Column("age", "text", "Age group ('all' when none).", required=True),
        Column("breakdown", "text", "Other breakdown dimension ('all' when none).",
               required=True),
        Column("category", "text", "Breakdown category ('all' when none).", required=True),
        Column("numerator", "float", "Numerator (count).", min=0),
        Column("denominator", "float", "Denominator.", min=0),
        Column("value", "float", "Value as published."),
        Column("lower95", "float", "Lower 95% limit as published."),
        Column("upper95", "float", "Upper 95% limit as published."),
        Column("unit", "text", "Unit or measure (e.g. %, per 100,000)."),
        Column("value_state", "text", "published, suppressed or missing.", required=True,
               codes=_VALUE_STATES),
        Column("value_note", "text", "Publisher's note or suppression reason."),
        Column("compared_to", "text", "Publisher's significance marker."),
    ),
    key=("source", "indicator_id", "area_code", "period", "sex", "age", "breakdown",
         "category"),
)

PUBLISHED_POPULATION = Table(
    "published_population",
    "Population counts as published (GP registered patients by age and sex at practice, "
    "PCN, sub-ICB, ICB and region; ONS mid-year estimates by area), in the publisher's "
    "own age groups. Rows with age_band 'all' or sex 'all' are the published totals.",
    (
        Column("source", "text", "Named source that loaded the row.", required=True),
        Column("area_code", "text", "Area code (ODS or ONS).", required=True),
        Column("area_name", "text", "Area name as published."),
        Column("area_type", "text", "practice, pcn, sub_icb, icb, region, la, country ...",
               required=True),
        Column("reference_date", "date", "Date the count refers to.", required=True),
        Column("sex", "text", "M, F or all.", required=True, codes=("M", "F", "all")),
        Column("age_band", "text", "Age group as published ('all', '0-4', '37', '90+').",
               required=True),
        Column("age_from", "int", "First year of age in the group.", min=0),
        Column("age_to", "int", "Last year of age; empty when open-ended.", min=0),
        Column("population", "int", "People.", required=True, min=0),
    ),
    key=("source", "area_code", "reference_date", "sex", "age_band"),
    dates=("reference_date",),
)

AREA_DEPRIVATION = Table(
    "area_deprivation",
    "Indices of Deprivation by area (LSOA, local authority, practice, PCN): score, rank "
    "and decile as published.",
    (
        Column("source", "text", "Named source that loaded the row.", required=True),
        Column("area_code", "text", "Area code.", required=True),
        Column("area_name", "text", "Area name."),
        Column("area_type", "text", "lsoa, la, practice or pcn.", required=True),
        Column("index_year", "int", "Edition of the indices (2019, 2025).", required=True),
        Column("domain", "text", "Index or domain ('imd' for the overall index).",
               required=True),
        Column("measure", "text", "Summary measure (score, rank, average_rank, ...).",
               required=True),
        Column("value", "float", "Value of the measure."),
        Column("decile", "int", "Decile (1 = most deprived).", min=1, max=10),
    ),
    key=("source", "area_code", "index_year", "domain", "measure"),
)

INGEST_TABLES = (EXTERNAL_INDICATOR_VALUES, PUBLISHED_POPULATION, AREA_DEPRIVATION)
DATA_TABLES = DATA_TABLES + INGEST_TABLES
ALL_TABLES = DATA_TABLES + SYSTEM_TABLES
TABLES_BY_NAME = {t.name: t for t in ALL_TABLES}
# ===== end of ingest block (issue 5) ======================================================
