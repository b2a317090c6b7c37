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

    sex: tuple[Literal["M", "F"], ...] = Field(("M", "F"), min_length=1)
    min_age: StrictInt = Field(0, ge=0)
    max_age: StrictInt | None = Field(None, ge=0)

    @model_validator(mode="after")
    def _ages_in_order(self) -> Cohort:
        if self.max_age is not None and self.max_age < self.min_age:
            raise ValueError(f"max_age {self.max_age} is below min_age {self.min_age}")
        return self
