"""Score experience surveys: % positive per question and organisation, summary scores, and
case-mix adjusted scores, with small numbers suppressed.

Suppressed, missing and zero stay distinct (``value_state``): *missing* means no respondent
answered an evaluative form of the question; *suppressed* means fewer than
``MIN_RESPONDENTS`` did, so the score is withheld, or that the score would give a
suppressed one back by subtraction (complementary suppression); a published 0 is a true
zero.

Case-mix adjustment is indirect standardisation. Every respondent gets the whole-workspace
% positive of respondents like them (same sex, age group, tumour group and deprivation
quintile, with 'unknown' a category of its own); summing those gives the positives an
organisation would *expect* with its mix of respondents. The adjusted score is the national
score plus the organisation's observed-minus-expected difference, and its interval is the
Wilson interval of the observed score moved by the same amount.
"""

from __future__ import annotations

from datetime import date

import duckdb
import numpy as np
import pandas as pd

from carepath.domain.journeys._shared import age_group_sql, check_period, with_wilson

# Scores from fewer respondents are withheld (the national cancer survey's small-sample
# rule); configurable per call but never below MIN_RESPONDENTS_FLOOR.
MIN_RESPONDENTS = 21
MIN_RESPONDENTS_FLOOR = 1
CASEMIX_FIELDS = ("sex", "age_group", "tumour_group", "imd_quintile")
NATIONAL = "national"
# What the row of every organisation is called for people: the workspace's own
# respondents, not England's.
ALL_ORGANISATIONS = "All organisations in the data"
_AGE_START = "try_cast(split_part(replace(age_band, '+', ''), '-', 1) AS INTEGER)"

STATE_PUBLISHED, STATE_SUPPRESSED, STATE_MISSING = "published", "suppressed", "missing"


def _answers_sql() -> str:
    return f"""
    SELECT org_code, question_id, respondent_id, positive,
           coalesce(sex, 'unknown') AS sex,
           CASE WHEN age_band IS NULL THEN 'unknown' ELSE {age_group_sql(_AGE_START)} END
             AS age_group,
           coalesce(tumour_group, 'unknown') AS tumour_group,
           coalesce(CAST(imd_quintile AS VARCHAR), 'unknown') AS imd_quintile
    FROM survey_responses
    WHERE survey = $survey AND response_date BETWEEN $start AND $end
    """


def _check(survey: str, start: date, end: date, min_respondents: int) -> dict:
    from carepath.errors import ValidationError
    from carepath.model.codes import SURVEYS

    check_period(start, end, "survey scoring")
    if survey not in SURVEYS:
        raise ValidationError(f"survey {survey!r} is not one of {', '.join(SURVEYS)}",
                              where="survey scoring")
    if min_respondents < MIN_RESPONDENTS_FLOOR:
        raise ValidationError(f"min_respondents must be >= {MIN_RESPONDENTS_FLOOR}",
                              where="survey scoring")
    return {"survey": survey, "start": start, "end": end}


def _suppress(df: pd.DataFrame, n: str, cols: list[str], min_respondents: int) -> pd.DataFrame:
    out = df.copy()
    state = np.where(out[n] == 0, STATE_MISSING,
                     np.where(out[n] < min_respondents, STATE_SUPPRESSED, STATE_PUBLISHED))
    out["value_state"] = state
    hidden = out["value_state"] != STATE_PUBLISHED
    for col in cols:
        out[col] = out[col].astype("float64").mask(hidden)
    return out


def _protect_by_subtraction(df: pd.DataFrame, cols: list[str],
                            national_cols: tuple[str, ...] = ()) -> pd.DataFrame:
    """Complementary suppression: a question where one organisation's score is suppressed
    also hides the published organisation with the fewest respondents, or, with none, the
    all-organisations figure (the row, or ``national_cols``). Alone, the suppressed score
    was the all-organisations row less the others (6 of 7 in an independent check)."""
    out = df.copy()
    orgs = out[out["org_code"] != NATIONAL]
    also: list = []
    alone: list = []
    for question, g in orgs.groupby("question_id", sort=False):
        if (g["value_state"] == STATE_SUPPRESSED).sum() != 1:
            continue
        published = g[g["value_state"] == STATE_PUBLISHED]
        if len(published):
            also.append(published["respondents"].idxmin())
        else:
            alone.append(question)
    at_national = out.index[(out["org_code"] == NATIONAL) & out["question_id"].isin(alone)]
    also += list(at_national)
    out.loc[also, "value_state"] = STATE_SUPPRESSED
    for col in cols:
        out[col] = out[col].astype("float64").mask(out.index.isin(also))
    for col in national_cols:  # the figure every row carries (case-mix adjustment)
        out[col] = out[col].astype("float64").mask(out["question_id"].isin(alone))
    return out


def question_scores(con: duckdb.DuckDBPyConnection, *, survey: str, start: date, end: date,
                    min_respondents: int = MIN_RESPONDENTS) -> pd.DataFrame:
    """% positive per organisation and question (plus the national row), Wilson 95% CI.
    A question nobody answered in an evaluative form (a 0-10 rating, say) has no % positive
    and is left out, rather than shown everywhere as missing."""
    params = _check(survey, start, end, min_respondents)
    df = con.execute(f"""
        WITH a AS ({_answers_sql()})
        SELECT coalesce(org_code, '{NATIONAL}') AS org_code, question_id,
               count(positive) AS respondents,
               count(*) FILTER (WHERE positive) AS positive
        FROM a GROUP BY GROUPING SETS ((org_code, question_id), (question_id))
        ORDER BY org_code = '{NATIONAL}' DESC, org_code, question_id
    """, params).df()
    national = df[df["org_code"] == NATIONAL]
    evaluative = national.loc[national["respondents"] > 0, "question_id"]
    df = df[df["question_id"].isin(evaluative)].reset_index(drop=True)
    df = with_wilson(df, "positive", "respondents")
    hidden = ["positive", "value", "lower", "upper"]
    return _protect_by_subtraction(_suppress(df, "respondents", hidden, min_respondents),
                                   hidden)


def summary_scores(scores: pd.DataFrame) -> pd.DataFrame:
    """Per organisation: the mean % positive over its published questions (each question
    weighted equally), how many questions were published and how many withheld for small
    numbers (a question the organisation's respondents did not answer is neither)."""
    pub = scores["value_state"] == STATE_PUBLISHED
    withheld = scores["value_state"] == STATE_SUPPRESSED
    g = scores.assign(published=pub, withheld=withheld).groupby("org_code", sort=False)
    out = g.agg(questions_published=("published", "sum"),
                questions_withheld=("withheld", "sum")).reset_index()
    means = scores[pub].groupby("org_code")["value"].mean()
    out["summary_score"] = out["org_code"].map(means)
    out["value_state"] = np.where(out["questions_published"] > 0, STATE_PUBLISHED,
                                  STATE_SUPPRESSED)
    return out


def casemix_adjusted(con: duckdb.DuckDBPyConnection, *, survey: str, start: date, end: date,
                     casemix: tuple[str, ...] = CASEMIX_FIELDS,
                     min_respondents: int = MIN_RESPONDENTS) -> pd.DataFrame:
    """Per organisation and question: observed and expected positives, the national score,
    the observed/expected ratio and the case-mix adjusted % positive with its interval."""
    params = _check(survey, start, end, min_respondents)
    unknown = set(casemix) - set(CASEMIX_FIELDS)
    if unknown:
        from carepath.errors import ValidationError

        raise ValidationError(f"unknown case-mix field(s) {', '.join(sorted(unknown))}; "
                              f"choose from {', '.join(CASEMIX_FIELDS)}", where="case-mix")
    keys = ", ".join(("question_id", *casemix))
    df = con.execute(f"""
        WITH a AS (SELECT * FROM ({_answers_sql()}) WHERE positive IS NOT NULL),
        strata AS (SELECT {keys}, avg(positive::INT) AS stratum_rate FROM a GROUP BY ALL),
        nat AS (SELECT question_id, avg(positive::INT) AS national FROM a GROUP BY ALL)
        SELECT a.org_code, a.question_id, count(*) AS respondents,
               count(*) FILTER (WHERE a.positive) AS observed,
               sum(s.stratum_rate) AS expected, any_value(nat.national) AS national
        FROM a JOIN strata s USING ({keys}) JOIN nat USING (question_id)
        GROUP BY ALL ORDER BY a.org_code, a.question_id
    """, params).df()
    df = with_wilson(df, "observed", "respondents", prefix="observed_")
    shift = df["national"] - df["expected"] / df["respondents"]
    df["ratio"] = df["observed"] / df["expected"]
    df["adjusted_value"] = df["observed_value"] + shift
    df["adjusted_lower"] = (df["observed_lower"] + shift).clip(lower=0)
    df["adjusted_upper"] = (df["observed_upper"] + shift).clip(upper=1)
    df["adjusted_value"] = df["adjusted_value"].clip(0, 1)
    hidden = ["observed", "expected", "ratio", "observed_value", "observed_lower",
              "observed_upper", "adjusted_value", "adjusted_lower", "adjusted_upper"]
    return _protect_by_subtraction(_suppress(df, "respondents", hidden, min_respondents),
                                   hidden, national_cols=("national",))
