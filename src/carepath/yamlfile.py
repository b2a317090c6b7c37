"""Reading the YAML files users write (indicator definitions, frameworks, contracts,
economic models, mapping files): one reader, one set of error messages with file and line."""

from __future__ import annotations

from pathlib import Path

import yaml

from carepath.errors import ValidationError


def read_mapping(path: Path, *, top_level: str = "a mapping of fields") -> dict:
    """The top-level mapping of a YAML file; every problem names the file (and line)."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError("file not found", where=str(path))
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}, line {mark.line + 1}" if mark else str(path)
        raise ValidationError(f"not valid YAML: {getattr(exc, 'problem', exc)}",
                              where=where) from None
    except UnicodeDecodeError:
        raise ValidationError("not UTF-8 text", where=str(path)) from None
    if not isinstance(data, dict):
        raise ValidationError(f"expected {top_level} at the top level", where=str(path))
    return data
