"""Who an indicator counts, said where its counts cannot say it.

A screening programme's published counts are of women aged 53 to 70, but the rows hold only
the programme's code: nothing in the numerator or denominator tells an export that the
figures are of women of those ages, and Fingertips' Sex and Age columns read "Persons" and
"All ages" (an independent check). ``cohort`` says it; it counts nothing.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictInt, model_validator


class Cohort(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    # Each left out is not said, and read from the counts as before: a cohort saying only
    # the sex kept the denominator's ages from the export (a review).
    sex: tuple[Literal["M", "F"], ...] | None = Field(None, min_length=1)
    min_age: StrictInt | None = Field(None, ge=0)
    max_age: StrictInt | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _said_and_in_order(self) -> Cohort:
        if self.sex is None and self.min_age is None and self.max_age is None:
            raise ValueError("say the sex, the ages, or both")
        if self.max_age is not None and self.max_age < (self.min_age or 0):
            raise ValueError(f"max_age {self.max_age} is below min_age {self.min_age}")
        return self

    @property
    def says_ages(self) -> bool:
        return self.min_age is not None or self.max_age is not None
