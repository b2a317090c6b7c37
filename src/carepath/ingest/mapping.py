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

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field
from pydantic import ValidationError as PydanticError

from carepath.errors import ValidationError
from carepath.yamlfile import read_mapping


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
            data[key] = _stringify(data[key])
    try:
        return Mapping.model_validate(data)
    except PydanticError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise ValidationError(f"{field}: {first['msg']}", where=str(path)) from None


def _stringify(value):
    if isinstance(value, dict):
        return {_scalar(k): _stringify(v) for k, v in value.items()}
    return _scalar(value)


def _scalar(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
