"""The built-in indicator library (one YAML file per indicator in this folder) merged with
a workspace's own definitions: a workspace file with the same id overrides the built-in one.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from carepath.errors import ValidationError
from carepath.indicators.definition import Definition, load_file

LIBRARY_DIR = Path(__file__).parent
DEFINITION_SUFFIXES = (".yaml", ".yml")


def load_dir(directory: Path) -> dict[str, Definition]:
    """Every ``*.yaml`` in a folder; a duplicate id is an error naming both files. Every
    file is read before failing, so one run names every problem, one line per file.
    Hidden files (an editor's lock or backup, ``.#name.yaml``) are not definitions."""
    found, problems = read_dir(directory)
    if len(problems) == 1:
        raise ValidationError(next(iter(problems.values())))
    if problems:
        raise ValidationError(f"{len(problems)} definitions have problems:\n  "
                              + "\n  ".join(problems.values()))
    return found


def definition_files(directory: Path) -> list[Path]:
    """The folder's own YAML files, whatever the case of their suffix (a .YAML file was
    passed over without a word), hidden ones aside."""
    return sorted(p for p in Path(directory).iterdir() if p.is_file()
                  and p.suffix.lower() in DEFINITION_SUFFIXES and not p.name.startswith("."))


def read_dir(directory: Path) -> tuple[dict[str, Definition], dict[str, str]]:
    """(definitions, problems): the good files' definitions by id, and each bad file's
    message by the id it stands for (its file name, which a good file's id must equal)."""
    found: dict[str, Definition] = {}
    problems: dict[str, str] = {}
    for path in definition_files(directory):
        try:
            defn = load_file(path)
        except ValidationError as exc:
            problems[path.stem] = str(exc)
            continue
        if defn.id in found:
            problems[defn.id] = (f"{path}: field id: duplicate indicator id {defn.id!r} (also "
                                 f"in {found.pop(defn.id).source_file})")
            continue
        found[defn.id] = defn
    return found, problems


@cache
def builtin() -> dict[str, Definition]:
    return load_dir(LIBRARY_DIR)


def overrides_library(defn: Definition) -> bool:
    """A workspace's own definition in place of the library's of the same id."""
    return defn.id in _builtin_ids() and defn.source_file is not None and \
        Path(defn.source_file).parent != LIBRARY_DIR


# A workspace's own copy of a library definition, in its title wherever it is shown or
# published: a local variant (another period, say) read as the reviewed built-in one (a
# walkthrough with the real files).
LOCAL_VERSION = " (this workspace's version)"


def shown_title(defn: Definition) -> str:
    """The definition's title, marked where it is a workspace's own copy of the library's."""
    return defn.title + LOCAL_VERSION if overrides_library(defn) else defn.title


@cache
def _builtin_ids() -> frozenset[str]:
    return frozenset(p.stem for p in LIBRARY_DIR.iterdir()
                     if p.suffix.lower() in DEFINITION_SUFFIXES)


def load_library(workspace_dir: Path | None = None) -> dict[str, Definition]:
    """Built-in definitions, then the workspace's ``indicators/`` folder on top."""
    merged = dict(builtin())
    if workspace_dir is not None and Path(workspace_dir).is_dir():
        merged.update(load_dir(workspace_dir))
    return dict(sorted(merged.items()))


def read_library(workspace_dir: Path | None = None
                 ) -> tuple[dict[str, Definition], dict[str, str]]:
    """(library, problems): as ``load_library``, but a workspace file that cannot be read
    is reported by the id it stands for instead of failing every other definition. That
    id is left out of the library: the built-in definition it meant to override is not
    used in its place."""
    merged = dict(builtin())
    problems: dict[str, str] = {}
    if workspace_dir is not None and Path(workspace_dir).is_dir():
        found, problems = read_dir(workspace_dir)
        merged.update(found)
        for indicator_id in problems:
            merged.pop(indicator_id, None)
    return dict(sorted(merged.items())), problems


def get(indicator_id: str, workspace_dir: Path | None = None) -> Definition:
    library = load_library(workspace_dir)
    if indicator_id not in library:
        raise ValidationError(f"unknown indicator {indicator_id!r}; `carepath indicators "
                              "list` shows the known ids")
    return library[indicator_id]
