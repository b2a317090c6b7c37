"""National-survey files come one row per respondent with a column per question; the data
model holds one row per respondent and question. This turns the first into the second,
marking answers positive by a per-question rule, and says exactly which row and column is
wrong when something is."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import pandas as pd

from carepath.errors import ValidationError
from carepath.model.codes import SURVEYS

CASEMIX_COLUMNS = ("sex", "age_band", "tumour_group", "imd_quintile")
# Header is row 1 in the file, so data row i (0-based) is file row i + 2.
FIRST_DATA_ROW = 2


@dataclass(frozen=True)
class QuestionRule:
    """Which coded answers count as positive, which are 'not applicable' (no evaluation),
    and optional numeric scores for coded answers."""

    positive: frozenset[str]
    not_evaluative: frozenset[str] = frozenset()
    scores: Mapping[str, float] | None = None


def wide_to_long(frame: pd.DataFrame, *, survey: str, questions: Mapping[str, QuestionRule],
                 respondent_col: str = "respondent_id", org_col: str = "org_code",
                 date_col: str = "response_date", source: str = "survey file") -> pd.DataFrame:
    """Long rows ready for the survey_responses table. Blank answers are dropped (the
    respondent skipped the question); every other answer is kept, evaluative or not."""
    if survey not in SURVEYS:
        raise ValidationError(f"survey {survey!r} is not one of {', '.join(SURVEYS)}",
                              where=source)
    needed = [respondent_col, org_col, date_col, *questions]
    missing = [c for c in needed if c not in frame.columns]
    if missing:
        raise ValidationError(f"missing column(s) {', '.join(missing)}", where=source)
    _check_required(frame, [respondent_col, org_col, date_col], source)
    ids = frame[[respondent_col, org_col, date_col]].rename(columns={
        respondent_col: "respondent_id", org_col: "org_code", date_col: "response_date"})
    casemix = [c for c in CASEMIX_COLUMNS if c in frame.columns]
    wide = pd.concat([ids, frame[casemix], frame[list(questions)].astype("string")], axis=1)
    long = wide.melt(id_vars=["respondent_id", "org_code", "response_date", *casemix],
                     value_vars=list(questions), var_name="question_id",
                     value_name="response_code").dropna(subset=["response_code"])
    long["response_code"] = long["response_code"].str.strip()
    long = long[long["response_code"] != ""]
    long["positive"] = _positive(long, questions)
    long["score"] = _scores(long, questions)
    long.insert(0, "survey", survey)
    for col in CASEMIX_COLUMNS:
        if col not in long.columns:
            long[col] = pd.NA
    return long.reset_index(drop=True)


def _check_required(frame: pd.DataFrame, cols: list[str], source: str) -> None:
    for col in cols:
        blank = frame[col].isna() | (frame[col].astype("string").str.strip() == "")
        if blank.any():
            row = int(blank.to_numpy().nonzero()[0][0]) + FIRST_DATA_ROW
            raise ValidationError(f"row {row}, column {col}: value is required "
                                  f"({int(blank.sum())} blank)", where=source)


def _positive(long: pd.DataFrame, questions: Mapping[str, QuestionRule]) -> pd.Series:
    pos = pd.Series(pd.NA, index=long.index, dtype="boolean")
    for qid, rule in questions.items():
        mine = long["question_id"] == qid
        evaluative = mine & ~long["response_code"].isin(rule.not_evaluative)
        pos[evaluative] = long.loc[evaluative, "response_code"].isin(rule.positive)
    return pos


def _scores(long: pd.DataFrame, questions: Mapping[str, QuestionRule]) -> pd.Series:
    score = pd.Series(float("nan"), index=long.index)
    for qid, rule in questions.items():
        if rule.scores:
            mine = long["question_id"] == qid
            score[mine] = long.loc[mine, "response_code"].map(rule.scores).astype(float)
    return score
