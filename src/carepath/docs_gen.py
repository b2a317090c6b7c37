"""Documents generated from code (``make docs``); tests fail when they are out of date.

Each generator is a function returning the document text, registered in ``GENERATED``
with its path relative to the repository root.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from pathlib import Path

from carepath.model.schema import ALL_TABLES, SCHEMA_VERSION, Table

REPO = Path(__file__).resolve().parents[2]


def _table_section(t: Table) -> list[str]:
    lines = [f"### `{t.name}`", "", t.doc, ""]
    facts = []
    if t.key:
        facts.append("key: " + ", ".join(f"`{k}`" for k in t.key))
    if t.person_level:
        facts.append("person-level (pseudonymised; access restricted)")
    if t.dates:
        facts.append("period dates: " + ", ".join(f"`{d}`" for d in t.dates))
    if facts:
        lines += ["*" + "; ".join(facts) + "*", ""]
    lines += ["| column | type | required | rule | description |", "|---|---|---|---|---|"]
    for c in t.columns:
        rule = []
        if c.codes:
            rule.append("one of " + ", ".join(f"`{v}`" for v in c.codes))
        if c.min is not None or c.max is not None:
            rule.append(f"{'' if c.min is None else c.min}–{'' if c.max is None else c.max}")
        if c.references:
            rule.append(f"refers to `{c.references}`")
        req = "yes" if c.required else ""
        lines.append(f"| `{c.name}` | {c.type} | {req} | {'; '.join(rule)} | {c.doc} |")
    return lines + [""]


def data_model_md() -> str:
    groups = {"data": "Data tables (loadable)", "results": "Results", "system": "System tables"}
    lines = [
        "# Data model",
        "",
        "<!-- Generated from src/carepath/model/schema.py by `make docs`; do not edit. -->",
        "",
        (
            f"Schema version **{SCHEMA_VERSION}**. A NULL value means *missing*; suppressed "
            "published counts carry an explicit flag, so suppressed, missing and zero stay "
            "distinct."
        ),
        "",
    ]
    for group, title in groups.items():
        tables = [t for t in ALL_TABLES if t.group == group]
        if tables:
            lines += [f"## {title}", ""]
            for t in tables:
                lines += _table_section(t)
    return "\n".join(lines).rstrip() + "\n"


def _generators() -> dict[str, Callable[[], str]]:
    gens: dict[str, Callable[[], str]] = {"docs/data-model.md": data_model_md}
    try:  # the indicator catalogue, once the indicators layer provides it
        from carepath.indicators.catalogue import catalogue_md
    except ImportError:
        pass
    else:
        gens["docs/indicators.md"] = catalogue_md
    return gens


def stale(root: Path = REPO) -> list[str]:
    """Paths whose committed text differs from what the code generates."""
    out = []
    for rel, gen in _generators().items():
        path = root / rel
        if not path.exists() or path.read_text() != gen():
            out.append(rel)
    return out


def write_all(root: Path = REPO) -> list[str]:
    written = []
    for rel, gen in _generators().items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(gen())
        written.append(rel)
    return written


if __name__ == "__main__":
    for rel in write_all():
        print(f"wrote {rel}")
    sys.exit(0)
