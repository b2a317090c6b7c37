"""The built-in indicator library (one YAML file per indicator in this folder) merged with
a workspace's own definitions: a workspace file with the same id overrides the built-in one.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from carepath.errors import ValidationError
from carepath.indicators.definition import Definition, load_file

LIBRARY_DIR = Path(__file__).parent


def load_dir(directory: Path) -> dict[str, Definition]:
    """Every ``*.yaml`` in a folder; a duplicate id is an error naming both files."""
    found: dict[str, Definition] = {}
    for path in sorted(Path(directory).glob("*.y*ml")):
        defn = load_file(path)
        if defn.id in found:
            raise ValidationError(f"duplicate indicator id {defn.id!r} (also in "
                                  f"{found[defn.id].source_file})", where=f"{path}: field id")
        found[defn.id] = defn
    return found


@cache
def builtin() -> dict[str, Definition]:
    return load_dir(LIBRARY_DIR)


def load_library(workspace_dir: Path | None = None) -> dict[str, Definition]:
    """Built-in definitions, then the workspace's ``indicators/`` folder on top."""
    merged = dict(builtin())
    if workspace_dir is not None and Path(workspace_dir).is_dir():
        merged.update(load_dir(workspace_dir))
    return dict(sorted(merged.items()))


def get(indicator_id: str, workspace_dir: Path | None = None) -> Definition:
    library = load_library(workspace_dir)
    if indicator_id not in library:
        raise ValidationError(f"unknown indicator {indicator_id!r}; `carepath indicators "
                              "list` shows the known ids")
    return library[indicator_id]
