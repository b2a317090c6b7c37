"""Mapping files: how a local extract's columns and codes become ours.

```yaml
table: tumours              # optional: refuse to be used for another table
columns:                    # our column: their column
  tumour_id: TUMOUR_REF
  nhs_number: NHS_NO        # pseudonymised at the door into patient_id
  diagnosis_date: DIAG_DT
codes:                      # our column: {their code: our code}
  stage: {"I": "1", "II": "2", "III": "3", "IV": "4", "X": "U"}
constants:                  # our column: value for every row
  route: unknown
csv: {delimiter: ";", encoding: cp1252}
excel: {sheet: Extract}
```
"""

from __future__ import annotations

import re
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from carepath.errors import ValidationError
from carepath.ingest import nhs_number
from carepath.yamlfile import read_mapping

# Columns no constant may fill: one person for every row is no extract, and a constant
# would put an NHS number past the door's pseudonymisation (a bad-input hunt stored one).
NO_CONSTANT = ("patient_id", "nhs_number")


class CsvOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    delimiter: str | None = Field(default=None, min_length=1, max_length=1)
    encoding: str | None = None


class ExcelOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")
    sheet: str | None = None


class Mapping(BaseModel):
    model_config = ConfigDict(extra="forbid")
    table: str | None = None
    columns: dict[str, str] = Field(default_factory=dict)
    codes: dict[str, dict[str, str]] = Field(default_factory=dict)
    constants: dict[str, str] = Field(default_factory=dict)
    csv: CsvOptions = Field(default_factory=CsvOptions)
    excel: ExcelOptions = Field(default_factory=ExcelOptions)

    def check_against(self, columns: set[str]) -> None:
        """Refuse names that are not ``columns`` (a typo would be ignored silently) and two
        of our columns read from one of theirs."""
        for section in ("columns", "codes", "constants"):
            unknown = sorted(set(getattr(self, section)) - columns)
            if unknown:
                raise ValidationError(f"{section}: {', '.join(unknown)} not a column of the "
                                      f"table (its columns: {', '.join(sorted(columns))})",
                                      where="--mapping")
        seen: dict[str, str] = {}
        for ours, theirs in self.columns.items():
            key = theirs.strip().lower()
            if key in seen:
                raise ValidationError(f"columns: {seen[key]} and {ours} both read {theirs!r}",
                                      where="--mapping")
            seen[key] = ours
        self._check_constants()
        self._check_codes()

    def _check_constants(self) -> None:
        both = sorted(set(self.columns) & set(self.constants))
        if both:  # the constant silently replaced every value of the file's column
            raise ValidationError(f"constants: {', '.join(both)} also read from the file "
                                  "(columns); give one or the other", where="--mapping")
        for column, value in self.constants.items():
            if column in NO_CONSTANT:
                raise ValidationError(f"constants: {column} cannot be a constant (every row "
                                      "would be one person); map it from the file's column",
                                      where="--mapping")
            if re.search(nhs_number.NHS_IN_TEXT, value):
                raise ValidationError(f"constants: {column} holds what looks like an NHS "
                                      "number; it would be stored as it is", where="--mapping")

    def _check_codes(self) -> None:
        for column, codes in self.codes.items():
            seen: dict[str, str] = {}
            for theirs, ours in codes.items():
                key = theirs.strip().lower()
                if key in seen and codes[seen[key]] != ours:  # one would win unsaid
                    raise ValidationError(f"codes: {column}: {seen[key]!r} and {theirs!r} are "
                                          "the same code (codes match in any letter case) "
                                          "mapped to different codes", where="--mapping")
                seen[key] = theirs
                if re.search(nhs_number.NHS_IN_TEXT, ours):
                    raise ValidationError(f"codes: {column}: {theirs!r} maps to what looks "
                                          "like an NHS number; it would be stored as it is",
                                          where="--mapping")

    def code_for(self, column: str) -> dict[str, str]:
        """their code (any letter case) -> our code, for ``column``."""
        return {k.strip().lower(): v for k, v in self.codes.get(column, {}).items()}

    def source_for(self) -> dict[str, str]:
        """their lower-cased column name -> our column name."""
        return {theirs.strip().lower(): ours for ours, theirs in self.columns.items()}


def load_mapping(path: Path) -> Mapping:
    data = read_mapping(Path(path), top_level="a mapping file (key: value lines)")
    # YAML reads unquoted codes like 1 or yes as numbers and booleans; codes are text.
    for key in ("codes", "constants"):
        if isinstance(data.get(key), dict):
            try:
                data[key] = _stringify(data[key], key)
            except ValidationError as exc:
                raise ValidationError(exc.message, where=str(path)) from None
    try:
        return Mapping.model_validate(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ValidationError(f"{field}: {first['msg']}", where=str(path)) from None


def _stringify(value, where: str = ""):
    if isinstance(value, dict):
        return {_scalar(k, where): _stringify(v, f"{where}.{k}" if where else str(k))
                for k, v in value.items()}
    return _scalar(value, where)


def _scalar(value, where: str) -> str:
    if value is None:  # `~` or nothing after the colon: stored as the text 'None' it was
        raise ValidationError(f"{where}: empty; write the value (in quotes if it is a "
                              "word YAML reads otherwise, such as 'null')", where="--mapping")
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):  # pydantic names the place of a wrong shape
        return value
    return str(value)
