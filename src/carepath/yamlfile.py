"""Reading the YAML files users write (indicator definitions, frameworks, contracts,
economic models, mapping files, survey rules): one reader, one set of error messages that
name the file, line and column and say in plain words what is wrong."""

from __future__ import annotations

from collections.abc import Hashable
from pathlib import Path

import yaml

from carepath.errors import ValidationError

MERGE_TAG = "tag:yaml.org,2002:merge"
# PyYAML's problem texts for the mistakes people make most, in plain words.
PLAIN_PROBLEMS = (
    ("mapping values are not allowed here",
     ("a colon where none was expected: put text that contains ': ' in quotes, or check "
      "the indentation of this line")),
    ("found character '\\t' that cannot start any token",
     "a tab character: indent with spaces"),
    ("could not find expected ':'", "a line that is not 'key: value' (is a colon missing?)"),
    ("did not find expected key",
     "the indentation does not line up with the lines above"),
    ("expected <block end>", "the indentation does not line up with the lines above"),
    ("did not find expected '-' indicator",
     "a list item that does not line up with the items above"),
    ("found unexpected end of stream", "a quote or bracket that is never closed"),
    ("found undefined alias", "a '*' at the start of a value: put the value in quotes"),
    ("found unhashable key", "a key that is a list or mapping: keys are plain words"),
)


# Values a file may hold once its aliases (*name) are expanded: far beyond any file a person
# writes, far below the gigabytes nine nested aliases of nine ("billion laughs") become
# when a reader walks them.
MAX_EXPANDED_VALUES = 1_000_000


def _expanded_size(data: object, seen: dict[int, int] | None = None) -> int:
    """How many values ``data`` holds with every alias written out, counted once per
    shared object (so the count itself stays cheap)."""
    seen = {} if seen is None else seen
    if not isinstance(data, dict | list):
        return 1
    if id(data) not in seen:
        items = [*data.keys(), *data.values()] if isinstance(data, dict) else data
        seen[id(data)] = 1 + sum(_expanded_size(v, seen) for v in items)
    return seen[id(data)]


class _UniqueKeyLoader(yaml.SafeLoader):
    """Safe loading that refuses a key given twice in one mapping, which PyYAML would
    otherwise settle silently by keeping the last."""

    def construct_mapping(self, node, deep=False):
        seen: dict = {}
        for key_node, _ in node.value:
            if key_node.tag == MERGE_TAG:  # '<<: *anchor' brings keys a mapping may override
                continue
            key = self.construct_object(key_node, deep=deep)
            if not isinstance(key, Hashable):
                break  # the base class reports an unhashable key with its place
            if key in seen:
                raise yaml.constructor.ConstructorError(
                    None, None, f"the key {key!r} is given twice (first on line "
                    f"{seen[key] + 1})", key_node.start_mark)
            seen[key] = key_node.start_mark.line
        return super().construct_mapping(node, deep=deep)

    def construct_yaml_timestamp(self, node):
        """A date-shaped value that is no date (2027-11-31, month 13) is reported at its
        place; PyYAML lets Python's ValueError out, a traceback for the user."""
        try:
            return super().construct_yaml_timestamp(node)
        except ValueError as exc:
            raise yaml.constructor.ConstructorError(
                None, None, f"{node.value!r} is not a real date or time ({exc})",
                node.start_mark) from None


_UniqueKeyLoader.add_constructor("tag:yaml.org,2002:timestamp",
                                 _UniqueKeyLoader.construct_yaml_timestamp)


def _plain_error(exc: yaml.YAMLError, path: Path | str) -> ValidationError:
    """A YAML parse error as a ValidationError naming the file, line and column."""
    mark = getattr(exc, "problem_mark", None)
    where = f"{path}, line {mark.line + 1}, column {mark.column + 1}" if mark else str(path)
    problem = str(getattr(exc, "problem", None) or exc)
    plain = next((words for known, words in PLAIN_PROBLEMS if known in problem), problem)
    return ValidationError(f"not valid YAML: {plain}", where=where)


def _parse(text: str, path: Path | str):
    """Parse YAML text read from ``path`` (safe loading, no repeated keys)."""
    try:
        return yaml.load(text, Loader=_UniqueKeyLoader)
    except yaml.YAMLError as exc:
        raise _plain_error(exc, path) from None
    except RecursionError:
        raise ValidationError("not valid YAML: lists or mappings nested too deeply to read",
                              where=str(path)) from None


def read_mapping(path: Path, *, top_level: str = "a mapping of fields") -> dict:
    """The top-level mapping of a YAML file; every problem names the file (and line)."""
    path = Path(path)
    if not path.is_file():
        raise ValidationError("file not found", where=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ValidationError("not UTF-8 text", where=str(path)) from None
    data = _parse(text, path)
    try:
        size = _expanded_size(data)
    except RecursionError:
        raise ValidationError("not valid YAML: lists or mappings nested too deeply to read",
                              where=str(path)) from None
    if size > MAX_EXPANDED_VALUES:
        raise ValidationError(f"its aliases (*name) expand to more than "
                              f"{MAX_EXPANDED_VALUES:,} values; write the values out",
                              where=str(path))
    if not isinstance(data, dict):
        raise ValidationError(f"expected {top_level} at the top level", where=str(path))
    return data
