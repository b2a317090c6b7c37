"""The architecture as a test: each part of the package imports only parts below it
(DEVELOPERS.md), so a domain rule never depends on a page, nor a definition on the engine.

Read from the source with ``ast``, so imports inside functions count too."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "carepath"

# Lowest first. A part may import parts of lower layers, never of its own layer or higher.
LAYERS: list[set[str]] = [
    {"errors", "__init__"},  # carepath.__init__ holds only __version__
    {"yamlfile", "safe_export", "charts", "pdf"},  # helpers with no domain knowledge
    {"model"},  # the data model as code
    {"workspace", "stats"},  # a workspace on disk; the statistical methods (pure functions)
    {"ingest", "synth", "disclosure"},
    {"sources", "indicators"},  # published formats; indicator definitions
    {"engine"},  # definitions compiled and computed
    {"domain"},  # benchmarking, contracts, journeys, experience, economics
    {"reports", "docs_gen"},  # outputs people take away
    {"web"},
    {"cli", "__main__"},
]
RANK = {part: rank for rank, parts in enumerate(LAYERS) for part in parts}


def _part(path: Path) -> str:
    return path.relative_to(PACKAGE).parts[0].removesuffix(".py")


def _imported_parts(path: Path) -> set[str]:
    """The parts of carepath that a module imports (``from carepath import x`` is part x)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = node.module.split(".")
            if names[0] != "carepath":
                continue
            if len(names) > 1:
                found.add(names[1])
            else:
                found.update(a.name if a.name != "__version__" else "__init__"
                             for a in node.names)
        elif isinstance(node, ast.Import):
            found.update(a.name.split(".")[1] for a in node.names
                         if a.name.startswith("carepath."))
    return found


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_part_of_the_package_has_a_layer():
    parts = {_part(m) for m in MODULES}
    assert parts - RANK.keys() == set(), "add the new part to LAYERS"


@pytest.mark.parametrize("module", MODULES, ids=lambda m: str(m.relative_to(PACKAGE)))
def test_a_module_imports_only_lower_layers(module):
    own = _part(module)
    upward = sorted(p for p in _imported_parts(module) - {own}
                    if RANK.get(p, len(LAYERS)) >= RANK[own])
    assert upward == [], f"{own} (layer {RANK[own]}) imports {upward} from its layer or above"


def test_the_check_sees_an_upward_import(tmp_path):
    """The walk finds imports inside functions, written either way."""
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from carepath.web import app\n    import carepath.cli\n"
                      "from carepath import engine\n")
    assert _imported_parts(module) == {"web", "cli", "engine"}
