"""Organisations and their hierarchy from a publisher's practice -> ... -> region map."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from carepath.sources._run import Part, Record


@dataclass(frozen=True)
class Level:
    org_type: str
    code: str  # column holding the code
    name: str | None = None  # column holding the name
    postcode: str | None = None


def org_parts(file: Path, rows: Iterable[Record] | None, levels: list[Level],
              valid_from: str, *, rows_fn=None) -> list[Part]:
    """Parts for organisations and org_hierarchy. The first level is the child (the
    practice): it is linked to every higher level, and each level to the next one up."""

    @cache
    def build() -> tuple[list[Record], list[Record]]:
        orgs: dict[tuple[str, str], Record] = {}
        links: dict[tuple[str, str], Record] = {}
        for number, rec in (rows_fn() if rows_fn else rows):
            codes = [(lv, (rec.get(lv.code) or "").strip()) for lv in levels]
            for lv, code in codes:
                if code and (code, lv.org_type) not in orgs:
                    orgs[(code, lv.org_type)] = (number, {
                        "org_code": code, "org_type": lv.org_type, "valid_from": valid_from,
                        "name": (rec.get(lv.name) or "").strip() if lv.name else code,
                        "postcode": rec.get(lv.postcode) if lv.postcode else None})
            child = codes[0][1]
            pairs = [(child, lv.org_type, code) for lv, code in codes[1:]]
            pairs += [(codes[i][1], codes[i + 1][0].org_type, codes[i + 1][1])
                      for i in range(1, len(codes) - 1)]
            for c, ptype, p in pairs:
                if c and p and (c, ptype) not in links:
                    links[(c, ptype)] = (number, {"child_code": c, "parent_code": p,
                                                  "parent_type": ptype,
                                                  "valid_from": valid_from})
        return list(orgs.values()), list(links.values())

    return [Part("organisations", file, lambda: build()[0]),
            Part("org_hierarchy", file, lambda: build()[1])]
