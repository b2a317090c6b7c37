"""Economic models kept in a workspace: ``<workspace>/economics/*.yaml``. A file with
``criteria`` is a PBMA exercise; one with ``services`` and ``benefits`` is a CBA model. When a
workspace has none, the built-in Wessex examples are offered (marked as examples)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from carepath.domain.economics.loading import read_yaml
from carepath.errors import ValidationError

FOLDER = "economics"
EXAMPLES = Path(__file__).resolve().parent / "examples"


@dataclass(frozen=True)
class Entry:
    kind: str  # "cba" or "pbma"
    id: str
    title: str
    path: Path
    example: bool


def _entry(path: Path, example: bool) -> Entry | None:
    data = read_yaml(path)
    if "criteria" in data:
        kind = "pbma"
    elif "services" in data and "benefits" in data:
        kind = "cba"
    else:
        return None
    return Entry(kind, str(data.get("id") or path.stem), str(data.get("title") or path.stem),
                 path, example)


def discover(workspace_path: Path) -> list[Entry]:
    folder = Path(workspace_path) / FOLDER
    own = sorted(folder.glob("*.yaml")) if folder.is_dir() else []
    entries = [e for p in own if (e := _entry(p, example=False))]
    if not entries:
        entries = [e for p in sorted(EXAMPLES.glob("*.yaml")) if (e := _entry(p, example=True))]
    return entries


def find(workspace_path: Path, kind: str, ident: str) -> Entry:
    for entry in discover(workspace_path):
        if entry.kind == kind and entry.id == ident:
            return entry
    raise ValidationError(f"no {kind.upper()} model with id {ident!r}",
                          where=str(Path(workspace_path) / FOLDER))


def install_examples(ws, *, by: str) -> list[Path]:
    """Put the Wessex examples into a workspace (demo): the model files into its
    ``economics/`` folder and the example services into its catalogue."""
    import shutil

    from carepath.domain.economics.catalogue import load_catalogue, save_catalogue

    folder = Path(ws.path) / FOLDER
    folder.mkdir(exist_ok=True)
    copied = [Path(shutil.copy2(p, folder / p.name)) for p in sorted(EXAMPLES.iterdir())
              if p.suffix in (".yaml", ".csv")]
    services = EXAMPLES / "wessex_services.csv"
    save_catalogue(ws, load_catalogue(services), by=by, source=services.name)
    return copied
