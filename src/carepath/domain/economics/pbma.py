"""Programme budgeting and marginal analysis (PBMA).

Steps (Mitton & Donaldson): the current programme budget; a panel (patients, carers,
clinicians, managers); explicit weighted criteria; a shift list (disinvestments, filled
first) and a wish list (investments); marginal analysis. Each option's weighted benefit score
is the criterion-weighted mean of the panel's scores; options are compared by cost-value
ratio (cost per point of weighted benefit, Wilson et al. 2006). The benefit scale has no
interval property, so the ratios rank options: they do not price them.

Missing scores stay missing: an option that some criterion was never scored on has no
weighted score (not zero) and is left out of the selection with a note. An investment scored
0 (no benefit; cost per point infinite) is never funded, however much money is spare.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Literal

import duckdb
import numpy as np
from pydantic import Field, model_validator

from carepath.domain.economics import constants as K
from carepath.domain.economics.definitions import Ident, _Model
from carepath.domain.economics.loading import (
    FILE_KEY,
    ROW_KEY,
    expand_csv_sections,
    read_yaml,
    validate,
)
from carepath.errors import ValidationError, did_you_mean

ScoreValue = Annotated[float, Field(ge=K.SCORE_MIN, le=K.SCORE_MAX)]


class Criterion(_Model):
    id: Ident
    name: str = Field(min_length=1)
    weight: float = Field(gt=0)
    description: str | None = None


class Member(_Model):
    id: Ident
    group: Literal["patient", "carer", "clinician", "manager", "finance", "public"]


class Option(_Model):
    id: Ident
    name: str = Field(min_length=1)
    list: Literal["wish", "shift"]
    cost: float = Field(ge=0, description="Annual cost (wish) or money released (shift), GBP.")
    service: str | None = None
    description: str | None = None


class BudgetLine(_Model):
    name: str = Field(min_length=1)
    spend: float = Field(ge=0)
    service: str | None = None


class Score(_Model):
    option: Ident
    criterion: Ident
    member: Ident
    score: ScoreValue


class Exercise(_Model):
    id: Ident
    title: str
    programme: str
    year: int = Field(ge=2000, le=2100)
    headroom: float = Field(0.0, ge=0, description="Growth money available (GBP a year).")
    budget: list[BudgetLine] = Field(default_factory=list)
    criteria: list[Criterion] = Field(min_length=1)
    panel: list[Member] = Field(min_length=1)
    options: list[Option] = Field(min_length=1)
    scores: list[Score] = Field(default_factory=list)

    @model_validator(mode="after")
    def _cross_checks(self) -> Exercise:
        for kind in ("criteria", "panel", "options"):
            ids = [x.id for x in getattr(self, kind)]
            dupes = sorted({i for i in ids if ids.count(i) > 1})
            if dupes:
                raise ValueError(f"{kind}: duplicate id {', '.join(dupes)}")
        return self

    def check_scores(self, rows: list, path: Path) -> None:
        """Each score is of a known option, criterion and member, once; refused naming
        the scores file and row when they came from one (the YAML and a 0-based
        'scores[1]' were named: a walkthrough). ``rows``: the scores as read."""
        known = {"option": {o.id for o in self.options},
                 "criterion": {c.id for c in self.criteria},
                 "member": {m.id for m in self.panel}}
        seen = set()
        for i, s in enumerate(self.scores):
            raw = rows[i] if i < len(rows) and isinstance(rows[i], dict) else {}
            where = (f"{raw[FILE_KEY]}, row {raw[ROW_KEY]}" if ROW_KEY in raw
                     else f"{path}: scores[{i}]")
            for name, ids in known.items():
                if getattr(s, name) not in ids:
                    raise ValidationError(f"unknown {name} {getattr(s, name)!r}"
                                          f"{did_you_mean(getattr(s, name), ids)}",
                                          where=where)
            key = (s.option, s.criterion, s.member)
            if key in seen:
                raise ValidationError(f"{s.member} scored {s.option} on {s.criterion} twice",
                                      where=where)
            seen.add(key)

    def weights(self) -> dict[str, float]:
        total = sum(c.weight for c in self.criteria)
        return {c.id: c.weight / total for c in self.criteria}


def load_exercise(path: Path, con: duckdb.DuckDBPyConnection | None = None) -> Exercise:
    """Load an exercise; ``budget: catalogue`` takes the programme budget from the
    workspace's service catalogue for the exercise year (``con``)."""
    path = Path(path)
    data = expand_csv_sections(read_yaml(path), path.parent,
                               ("budget", "criteria", "panel", "options", "scores"), path)
    if data.get("budget") == "catalogue":
        if con is None:
            raise ValidationError("budget: catalogue needs a workspace (give -w WORKSPACE)",
                                  where=str(path))
        from carepath.domain.economics.catalogue import budget_from_catalogue

        data = {**data, "budget": budget_from_catalogue(con, data.get("year"),
                                                        where=str(path))}
    exercise = validate(Exercise, data, source=path)
    exercise.check_scores(data.get("scores") or [], path)
    return exercise


# ----- scoring ---------------------------------------------------------------------------------
@dataclass(frozen=True)
class Spread:
    n: int
    mean: float
    sd: float
    low: float
    high: float


def _spread(values: list[float]) -> Spread:
    arr = np.asarray(values, float)
    sd = float(arr.std(ddof=1)) if arr.size > 1 else 0.0
    return Spread(int(arr.size), float(arr.mean()), sd, float(arr.min()), float(arr.max()))


@dataclass(frozen=True)
class OptionScore:
    option: Option
    by_criterion: dict[str, Spread | None]  # None: nobody scored it (missing)
    weighted: float | None  # None when a criterion is unscored
    member_spread: Spread | None  # weighted score of each member who scored every criterion
    by_group: dict[str, float]  # mean weighted score per panel group
    cvr: float | None  # cost per point; inf for zero benefit; None when missing

    @property
    def note(self) -> str:
        missing = [c for c, s in self.by_criterion.items() if s is None]
        return f"not scored on {', '.join(missing)}" if missing else ""


def score_options(ex: Exercise) -> list[OptionScore]:
    weights = ex.weights()
    group_of = {m.id: m.group for m in ex.panel}
    out = []
    for opt in ex.options:
        cells: dict[str, dict[str, float]] = {c: {} for c in weights}
        for s in ex.scores:
            if s.option == opt.id:
                cells[s.criterion][s.member] = s.score
        by_criterion = {c: (_spread(list(v.values())) if v else None) for c, v in cells.items()}
        weighted = None
        if all(by_criterion.values()):
            weighted = sum(weights[c] * by_criterion[c].mean for c in weights)
        members = set.intersection(*(set(v) for v in cells.values()))
        member_scores = {m: sum(weights[c] * cells[c][m] for c in weights) for m in members}
        out.append(OptionScore(
            option=opt, by_criterion=by_criterion, weighted=weighted,
            member_spread=_spread(list(member_scores.values())) if member_scores else None,
            by_group=_group_means(member_scores, group_of),
            cvr=cost_value_ratio(opt.cost, weighted)))
    return out


def _group_means(member_scores: dict[str, float], group_of: dict[str, str]) -> dict[str, float]:
    groups: dict[str, list[float]] = {}
    for member, value in member_scores.items():
        groups.setdefault(group_of[member], []).append(value)
    return {g: float(np.mean(v)) for g, v in sorted(groups.items())}


def cost_value_ratio(cost: float, weighted: float | None) -> float | None:
    if weighted is None:
        return None
    return math.inf if weighted == 0 else cost / weighted


# ----- marginal analysis -----------------------------------------------------------------------
@dataclass
class Selection:
    headroom: float
    invest: list[OptionScore] = field(default_factory=list)
    disinvest: list[OptionScore] = field(default_factory=list)
    not_funded: list[OptionScore] = field(default_factory=list)
    not_released: list[OptionScore] = field(default_factory=list)
    unscored: list[OptionScore] = field(default_factory=list)
    no_benefit: list[OptionScore] = field(default_factory=list)  # wish list, weighted score 0

    @property
    def spent(self) -> float:
        return sum(o.option.cost for o in self.invest)

    @property
    def released(self) -> float:
        return sum(o.option.cost for o in self.disinvest)

    @property
    def remaining(self) -> float:
        return self.headroom + self.released - self.spent

    @property
    def benefit_gained(self) -> float:
        return sum(o.weighted for o in self.invest)

    @property
    def benefit_lost(self) -> float:
        return sum(o.weighted for o in self.disinvest)


def wish_order(scores: list[OptionScore]) -> list[OptionScore]:
    """Investments, best value first: lowest cost per point of benefit gained."""
    return sorted((s for s in scores if s.option.list == "wish" and s.cvr is not None),
                  key=lambda s: (s.cvr, s.option.id))


def shift_order(scores: list[OptionScore]) -> list[OptionScore]:
    """Disinvestments, least painful first: most money released per point of benefit lost."""
    return sorted((s for s in scores if s.option.list == "shift" and s.cvr is not None),
                  key=lambda s: (-s.cvr, s.option.id))


def select(ex: Exercise, scores: list[OptionScore] | None = None) -> Selection:
    """Marginal analysis within a hard budget: fund investments in order of value for money
    from the headroom; when it runs short, release the next disinvestment only while the
    benefit lost per pound is smaller than the benefit gained per pound by the investment
    waiting for the money. An investment that still does not fit is passed over, and the
    disinvestments tried for it are not made."""
    scores = score_options(ex) if scores is None else scores
    sel = Selection(headroom=ex.headroom, unscored=[s for s in scores if s.cvr is None])
    shifts = shift_order(scores)
    next_shift = 0
    for wish in wish_order(scores):
        if wish.cvr == math.inf:
            # the panel scored no benefit: spare money is not spent on nothing
            sel.no_benefit.append(wish)
            continue
        taken = next_shift
        released = 0.0
        while (sel.remaining + released < wish.option.cost and taken < len(shifts)
               and _worth_shifting(shifts[taken], wish)):
            released += shifts[taken].option.cost
            taken += 1
        if wish.option.cost <= sel.remaining + released:
            # the disinvestments are made only because this investment needs them
            sel.disinvest.extend(shifts[next_shift:taken])
            next_shift = taken
            sel.invest.append(wish)
        else:
            sel.not_funded.append(wish)
    sel.not_released.extend(shifts[next_shift:])
    return sel


def _worth_shifting(shift: OptionScore, wish: OptionScore) -> bool:
    # benefit per pound: lost by the disinvestment < gained by the investment
    lost_per_pound = 0.0 if shift.cvr == math.inf else 1 / shift.cvr if shift.cvr else math.inf
    gained_per_pound = math.inf if wish.cvr == 0 else 0.0 if wish.cvr == math.inf else 1 / wish.cvr
    return lost_per_pound < gained_per_pound


def programme_budget(ex: Exercise) -> float:
    return sum(line.spend for line in ex.budget)


# Panel members' weighted scores for one option differing by more than this (standard
# deviation, on the 0-10 scale) are flagged for discussion before a decision.
DISAGREEMENT_SD = 1.5
LAY_GROUPS = ("patient", "carer", "public")


def process_notes(ex: Exercise, scores: list[OptionScore]) -> list[str]:
    """Checks on how the exercise was run (PBMA good practice), for the panel to read."""
    notes = []
    if not any(o.list == "shift" for o in ex.options):
        notes.append("The shift list is empty: fill it before the wish list, so that "
                     "investments are paid for by disinvestments (Mortimer 2010).")
    if not any(m.group in LAY_GROUPS for m in ex.panel):
        notes.append("The panel has no patients, carers or members of the public.")
    nothing = [s.option.id for s in scores if s.option.list == "wish" and s.weighted == 0]
    if nothing:
        notes.append(f"Scored as no benefit, so not funded whatever the money: "
                     f"{', '.join(nothing)}.")
    unscored = [s.option.id for s in scores if s.weighted is None]
    if unscored:
        notes.append(f"Not fully scored, so left out of the selection: {', '.join(unscored)}.")
    for s in scores:
        if s.member_spread is not None and s.member_spread.sd > DISAGREEMENT_SD:
            notes.append(f"The panel disagrees on {s.option.name} (sd {s.member_spread.sd:.1f}"
                         f", {s.member_spread.low:.1f} to {s.member_spread.high:.1f}): "
                         "discuss before deciding.")
    return notes
