"""`carepath experience ...`: score surveys (% positive, summary, case-mix adjusted) and
reshape national-survey files to the long survey_responses layout for `carepath load`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from carepath.cli._common import ReplaceOption, WorkspaceOption, open_workspace
from carepath.cli._frames import EndOption, OutFile, StartOption, period, show, write
from carepath.errors import ValidationError

experience_app = typer.Typer(help="Experience surveys: scoring and case-mix adjustment.",
                             no_args_is_help=True)
SurveyOption = Annotated[str, typer.Option(help="cpes, voices, local_prem or local_prom.")]


@experience_app.command("score")
def score(workspace: WorkspaceOption = None, survey: SurveyOption = "cpes",
          start: StartOption = None, end: EndOption = None,
          adjusted: Annotated[bool, typer.Option(help="Case-mix adjusted scores.")] = False,
          summary: Annotated[bool, typer.Option(help="One summary score per organisation."
                                                )] = False,
          min_respondents: Annotated[int | None, typer.Option(
              help="Suppress below this many respondents (default: the national rule)."
          )] = None,
          out: OutFile = None, replace: ReplaceOption = False) -> None:
    """% positive per question and organisation; suppressed below the minimum respondents."""
    from carepath.domain.experience import scoring

    ws = open_workspace(workspace)
    # 0 is refused by the scoring, not taken as "the default" (it read as 21 silently)
    n_min = scoring.MIN_RESPONDENTS if min_respondents is None else min_respondents
    with ws.connect(read_only=True) as con:
        s, e = period(con, start, end, "surveys")
        if adjusted:
            df = scoring.casemix_adjusted(con, survey=survey, start=s, end=e,
                                          min_respondents=n_min)
        else:
            df = scoring.question_scores(con, survey=survey, start=s, end=e,
                                         min_respondents=n_min)
            if summary:
                df = scoring.summary_scores(df)
    if "org_code" in df:  # the workspace's own respondents, not England's
        df = df.assign(org_code=df["org_code"].replace(scoring.NATIONAL,
                                                       scoring.ALL_ORGANISATIONS))
    kind = "case-mix adjusted" if adjusted else "summary" if summary else "% positive"
    # Shares as percentages, as the page and `pathway gaps` show them (a walkthrough).
    show(df, f"{survey} {kind}, {s} to {e} (suppressed below {n_min} respondents)", out,
         percent=SHARE_COLUMNS, replace=replace)


SHARE_COLUMNS = ("value", "lower", "upper", "summary_score", "national", "observed_value",
                 "observed_lower", "observed_upper", "adjusted_value", "adjusted_lower",
                 "adjusted_upper")


@experience_app.command("reshape")
def reshape(file: Annotated[Path, typer.Argument(help="Survey file, one row per respondent.")],
            rules: Annotated[Path, typer.Option(help="YAML: question -> positive codes, "
                                                "not_evaluative codes, scores.")],
            out: Annotated[Path, typer.Option(help="Long CSV/XLSX to write.")],
            survey: SurveyOption = "cpes", replace: ReplaceOption = False) -> None:
    """One row per respondent and question, marked positive by the rules, ready to load."""
    import pandas as pd

    from carepath.domain.experience.reshape import QuestionRule, wide_to_long
    from carepath.safe_export import check_output_path
    from carepath.yamlfile import read_mapping

    if not file.is_file():
        raise ValidationError("file not found", where=str(file))
    check_output_path(out, replace=replace)
    frame = (pd.read_excel(file, dtype=str) if file.suffix.lower() == ".xlsx"
             else pd.read_csv(file, dtype=str))
    spec = read_mapping(rules, top_level="a mapping of question id to rule")
    questions = {str(q): _rule(QuestionRule, q, r, rules) for q, r in spec.items()}
    write(wide_to_long(frame, survey=survey, questions=questions, source=file.name), out,
          replace=replace)


def _rule(cls, qid, raw, path: Path):
    if not isinstance(raw, dict) or "positive" not in raw:
        raise ValidationError(f"question {qid}: give at least 'positive' codes", where=str(path))
    scores = raw.get("scores")
    return cls(positive=frozenset(map(str, raw["positive"])),
               not_evaluative=frozenset(map(str, raw.get("not_evaluative", []))),
               scores={str(k): float(v) for k, v in scores.items()} if scores else None)


def register(app: typer.Typer) -> None:
    app.add_typer(experience_app, name="experience")
