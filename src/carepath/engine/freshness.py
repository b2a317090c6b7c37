"""The workspace settings that shape every indicator's areas, when stored values are stale,
and what they were computed from.

A value's provenance is the loads of every table it depends on and a fingerprint of the
settings that shape its areas; ``carepath compute`` skips an indicator whose definition,
provenance and Carepath version are as they were at its last compute.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pandas as pd

from carepath import __version__
from carepath.engine.rollup import NATIONAL
from carepath.errors import CarepathError
from carepath.indicators.definition import Definition
from carepath.model.schema import TABLES_BY_NAME
from carepath.workspace import Workspace
from carepath.workspace.loads import data_loads

# What the whole workspace is called unless carepath.toml names it.
NATIONAL_NAME_DEFAULT = "All areas in the workspace"


def national_name(config: dict) -> str:
    """What the whole workspace ("national") is called: ``national_name`` in carepath.toml,
    else "All areas in the workspace". Never taken from an England organisation in the
    hierarchy: a county's hierarchy names England too, and calling its own total "England"
    would make every "compared with national" a comparison with the county."""
    name = config.get("national_name", NATIONAL_NAME_DEFAULT)
    if not isinstance(name, str) or not name.strip():
        raise CarepathError("national_name must be a non-empty text",
                            where="carepath.toml: national_name")
    return name.strip()


# Said after the name of an area the workspace holds only some practices of.
PARTIAL_NAME = "{name} (this workspace's practices only)"


def partial_areas(config: dict) -> tuple[str, ...]:
    """Areas the workspace holds only some practices of (``partial_areas`` in
    carepath.toml): a county's region. Their figures are the county's part of the area,
    so they are named as such; under the area's own name they read as the whole area's."""
    codes = config.get("partial_areas", [])
    if not isinstance(codes, list) or not all(isinstance(c, str) and c.strip()
                                              for c in codes):
        raise CarepathError(f"must be a list of area codes, such as [\"Y58\"], not {codes!r}",
                            where="carepath.toml: partial_areas")
    return tuple(sorted({c.strip() for c in codes}))


def area_names(con, config: dict) -> dict[str, str]:
    """Every area's name as the values carry it: its latest name in ``organisations``, a
    group's from carepath.toml, national's (``national_name``), and an area the workspace
    holds only part of said to be so. An area listed as partial that the workspace has
    never heard of is refused (a typo would leave the whole area's name standing)."""
    names = dict(con.execute("SELECT org_code, arg_max(name, valid_from) FROM organisations "
                             "GROUP BY 1").fetchall())
    names[NATIONAL] = national_name(config)
    _check_groups(con, config, names)
    for code, spec in (config.get("groups") or {}).items():
        names[str(code)] = spec.get("name", str(code)) if isinstance(spec, dict) else str(code)
    unknown = [c for c in partial_areas(config) if c not in names]
    if unknown:
        raise CarepathError(f"{', '.join(map(repr, unknown))}: no such area in the "
                            "workspace's organisations", where="carepath.toml: partial_areas")
    for code in partial_areas(config):
        names[code] = PARTIAL_NAME.format(name=names[code])
    return names


def names_by_date(con, config: dict) -> pd.DataFrame:
    """(area_code, valid_from, name) of the organisations named differently by maps of
    different dates, oldest first: a value is named as its area was at its period's end
    (``carepath.engine.rollup.named_at``). 2017 figures of sub-ICB 99A were labelled with
    its 2026 ICB's name, not Liverpool CCG's (a walkthrough with the real files). Areas
    the workspace names itself (groups, partial areas) keep one name."""
    dated = con.execute(
        "SELECT org_code AS area_code, valid_from, name FROM organisations WHERE org_code IN "
        "(SELECT org_code FROM organisations GROUP BY 1 HAVING count(DISTINCT name) > 1) "
        "ORDER BY valid_from, org_code").df()
    own = set(partial_areas(config)) | set(practice_groups(config).area_code)
    dated = dated[~dated["area_code"].isin(list(own))]
    dated["valid_from"] = pd.to_datetime(dated["valid_from"])
    return dated.reset_index(drop=True)


def _check_groups(con, config: dict, organisations: dict[str, str]) -> None:
    """A group's code must be its own, and its practices real: a group coded as a
    locality took the locality's name, and its practices were compared with the group
    (found by a hunt); a mistyped practice code would leave the group short, unseen."""
    groups = practice_groups(config)
    clash = sorted(set(groups.area_code) & set(organisations))
    if clash:
        raise CarepathError(f"{clash[0]!r} is already the code of {organisations[clash[0]]!r} "
                            "in organisations: give the group a code of its own",
                            where=f"carepath.toml: groups.{clash[0]}")
    practices = {r[0] for r in con.execute(
        "SELECT DISTINCT org_code FROM organisations WHERE org_type = 'practice'").fetchall()}
    for code, members in groups.groupby("area_code", sort=True):
        unknown = sorted(set(members.unit) - practices)
        if unknown:
            raise CarepathError(f"{', '.join(map(repr, unknown))}: no such practice in the "
                                "workspace's organisations",
                                where=f"carepath.toml: groups.{code}.practices")


def practice_groups(config: dict) -> pd.DataFrame:
    """User-defined groups of practices from ``[groups.<code>]`` in carepath.toml:
    ``name = "..."`` and ``practices = ["A81001", ...]``."""
    rows = []
    for code, spec in (config.get("groups") or {}).items():
        practices = spec.get("practices") if isinstance(spec, dict) else None
        if not isinstance(practices, list) or not practices:
            raise CarepathError("a group needs a non-empty list 'practices'",
                                where=f"carepath.toml: groups.{code}")
        rows += [{"unit": str(p), "area_code": str(code)} for p in practices]
    return pd.DataFrame(rows, columns=["unit", "area_code"])


# Every indicator's areas, their names and parents come from these tables: a new load of
# either changes the values (renamed areas, a practice moved to another PCN).
AREA_TABLES = frozenset({"organisations", "org_hierarchy"})


# The date of the last change to how the engine computes values from the same definition
# and data (2026-12-06: ages as recorded, rates per person-year of whole months; .2: sums
# over events carry a weighted interval, register populations at the period's end;
# 2026-12-07: an area's parent is the nearest level larger than itself; a snapshot is its
# own rows' latest; periods end where every table read ends, a period with no rows is a
# gap; practices without lists count in no area, a part-year list for its quarters; a
# closing practice keeps its last areas; a trend needs its last periods published; .2: a
# quarter missing between a practice's lists takes its other quarters' mean; .3: an area
# is named as at its period's end; .4: a count is compared with no other area; .5: each
# breakdown category takes its own recent trend; .6: no trend across a practice moving
# into or out of an area; 2026-12-08: a trend's slope keeps its sign with each point left
# out, as Fingertips' calculator). It is in
# every value's provenance, so a workspace computed before recomputes without --force.
ENGINE_REVISION = "2026-12-08"


def settings_fingerprint(config: dict) -> str:
    """A fingerprint of the carepath.toml settings that shape every indicator's areas
    (groups of practices, the national name, the partial areas) and of the engine's
    revision. Kept with the values' loads, so changing either recomputes the values
    without --force."""
    shaping = {"groups": config.get("groups") or {}, "national_name": national_name(config)}
    if partial_areas(config):  # only when set: values computed before it stay current
        shaping["partial_areas"] = list(partial_areas(config))
    digest = hashlib.sha256(json.dumps(shaping, sort_keys=True, default=str).encode())
    # Two tokens, so an out-of-date value can say which of the two changed.
    return (f"{SETTINGS_PREFIX}{digest.hexdigest()[:SETTINGS_HEX_CHARS]};"
            f"{ENGINE_PREFIX}{ENGINE_REVISION}")


SETTINGS_PREFIX = "settings:"
ENGINE_PREFIX = "engine:"
SETTINGS_HEX_CHARS = 12


def load_ids(loads: pd.DataFrame, defn: Definition, settings: str) -> str:
    """The loads of every table the values depend on, then the settings fingerprint."""
    ids = loads[loads.table_name.isin(sorted(defn.tables() | AREA_TABLES))].load_id
    return ";".join([*sorted(ids), settings])


def unchanged(con, defn: Definition, load_ids: str) -> bool:
    """Whether the stored values are those this definition, these loads and this Carepath
    would give. A table the definition reads that is gone (dropped outside Carepath) makes
    them stale too: the compute then names it instead of keeping values nothing backs."""
    tables = sorted(defn.tables())
    present = con.execute("SELECT count(*) FROM duckdb_tables() WHERE schema_name = 'main' "
                          "AND list_contains(?, table_name)", [tables]).fetchone()[0]
    if present < len(tables) or defn.id in last_failures(con):
        return False
    row = con.execute(
        "SELECT count(*), count(DISTINCT (definition_hash, load_ids, carepath_version)), "
        "any_value(definition_hash), any_value(load_ids), any_value(carepath_version) "
        "FROM indicator_values WHERE indicator_id = ?", [defn.id]).fetchall()[0]
    return bool(row[0]) and row[1] == 1 and tuple(row[2:]) == (
        defn.content_hash(), load_ids, __version__)


@dataclass(frozen=True)
class OutOfDate:
    """Why an indicator's stored values are not what a compute would give now, and what
    brings them up to date (plain text: shown in the terminal and on pages alike)."""

    reason: str
    remedy: str


COMPUTE_AGAIN = "compute them again (carepath compute)"
FAILURES = "_compute_failures"  # the last failed compute of each indicator, until one works


def out_of_date(con, definitions: dict[str, Definition], config: dict,
                unreadable: Iterable[str] = ()) -> dict[str, OutOfDate]:
    """Indicator id -> why its stored values are out of date: its last compute failed and
    kept them, its definition, a table it reads, the settings or Carepath changed since.
    Judged from the values' own provenance and the record of failed computes, so this
    holds however they came to be stale. ``unreadable``: ids whose file has problems."""
    loads = data_loads(con)
    settings = settings_fingerprint(config)
    stored = con.execute(
        "SELECT indicator_id, count(DISTINCT (definition_hash, load_ids, carepath_version)), "
        "any_value(definition_hash), any_value(load_ids), any_value(carepath_version) "
        "FROM indicator_values GROUP BY 1 ORDER BY 1").fetchall()
    present = _tables(con)
    failed = last_failures(con)
    out = {}
    for indicator_id, kinds, digest, ids, version in stored:
        defn = definitions.get(indicator_id)
        if indicator_id in unreadable:
            out[indicator_id] = OutOfDate("its workspace definition file has problems",
                                          "mend the file (carepath indicators check) and "
                                          "compute again")
        elif defn is None:
            out[indicator_id] = OutOfDate("it is no longer defined", "a compute of the whole "
                                          "library removes its values")
        elif gone := sorted(defn.tables() - present):
            out[indicator_id] = OutOfDate(f"table {', '.join(gone)} is no longer in the "
                                          "workspace", "load it again, then compute")
        elif indicator_id in failed:
            out[indicator_id] = OutOfDate(f"its last compute failed: {failed[indicator_id]}",
                                          "mend the cause, then compute again")
        elif kinds != 1 or digest != defn.content_hash():
            out[indicator_id] = OutOfDate("its definition changed since", COMPUTE_AGAIN)
        elif ids != (now := load_ids(loads, defn, settings)):
            out[indicator_id] = OutOfDate(_what_changed(ids, now, loads), COMPUTE_AGAIN)
        elif version != __version__:
            out[indicator_id] = OutOfDate(f"they were computed by Carepath {version}",
                                          COMPUTE_AGAIN)
    return out


def _tables(con) -> set[str]:
    return {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE "
                                      "schema_name = 'main'").fetchall()}


def _what_changed(stored: str, current: str, loads: pd.DataFrame) -> str:
    old, new = set(stored.split(";")), set(current.split(";"))
    changed = old ^ new
    if any(i.startswith(ENGINE_PREFIX) for i in new & changed):
        return "Carepath's way of computing values changed since"
    if any(i.startswith(SETTINGS_PREFIX) for i in changed):
        return ("the workspace's groups of practices, national name or partial areas "
                "changed since")
    tables = sorted(set(loads[loads.load_id.isin(new - old)].table_name))
    return f"data loaded since into {', '.join(tables)}" if tables else \
        "data they were computed from was replaced since"


def last_failures(con) -> dict[str, str]:
    """Indicator id -> the message of its last compute, if that failed."""
    if FAILURES not in _tables(con):
        return {}
    return dict(con.execute(f"SELECT indicator_id, message FROM {FAILURES}").fetchall())


def record_outcome(con, indicator_id: str, failure: str | None) -> None:
    """Remember a failed compute (its earlier values are kept, and are out of date until
    a compute works), or forget it when one does."""
    con.execute(f"CREATE TABLE IF NOT EXISTS {FAILURES} (indicator_id VARCHAR PRIMARY KEY, "
                "message VARCHAR, failed_at TIMESTAMP)")
    con.execute(f"DELETE FROM {FAILURES} WHERE indicator_id = ?", [indicator_id])
    if failure is not None:
        con.execute(f"INSERT INTO {FAILURES} VALUES (?, ?, now()::TIMESTAMP)",
                    [indicator_id, failure])


def remove_undefined(ws: Workspace, defined: set[str], *, actor: str = "cli") -> list[str]:
    """Delete the values of indicators no longer defined (a workspace definition deleted or
    renamed), so no page or export shows figures nobody can trace to a definition."""
    with ws.transaction() as con:
        gone = [r[0] for r in con.execute(
            "SELECT DISTINCT indicator_id FROM indicator_values ORDER BY 1").fetchall()
            if r[0] not in defined]
        if FAILURES in _tables(con):
            con.execute(f"DELETE FROM {FAILURES} WHERE NOT list_contains(?, indicator_id)",
                        [sorted(defined)])
        if gone:
            con.execute("DELETE FROM indicator_values WHERE list_contains(?, indicator_id)",
                        [gone])
            ws.audit(con, actor=actor, action="remove values", target=",".join(gone),
                     detail="indicators no longer defined")
    return gone


# Ibis's words for a column a table lacks; its message lists internal columns as well.
_NOT_FOUND = re.compile(r"Column '([^']+)' is not found in table")


def missing_column(table_of: Callable[[str], object], defn: Definition, exc: Exception
                   ) -> str | None:
    """'column 'outcome' is not in the workspace's referrals (needed by ...)' for a column
    dropped from a table, naming the table rather than Ibis's list of columns."""
    found = _NOT_FOUND.search(str(exc))
    if not found:
        return None
    column = found.group(1)
    lacking = []
    # The tables the data model gives that column, of those the definition reads.
    for name in sorted(t for t in defn.tables()
                       if column in getattr(TABLES_BY_NAME.get(t), "column_names", ())):
        try:
            columns = table_of(name).columns
        except Exception:  # noqa: BLE001 - a table that cannot be read lacks it too
            columns = ()
        if column not in columns:
            lacking.append(name)
    where = " or ".join(lacking) if lacking else "its tables"
    return f"column {column!r} is not in the workspace's {where} (needed by {defn.id})"


# A quoted name in an engine's message: kept when it is one of the data model's.
_QUOTED_NAME = re.compile(r"(['\"])([A-Za-z_][A-Za-z0-9_]*)\1")
QUOTES = ("'", '"')
# A run of digits this long may be an identifier (an NHS number has ten), not a count.
LONG_DIGITS = re.compile(r"\d{6,}")
HIDDEN_VALUE = "…"


def without_values(message: str) -> str:
    """The message with every value from the data hidden ("Could not convert string '…'
    to DOUBLE ... column bed_days"): it is stored, shown on pages and printed, and a cell
    may hold anything, quotes and line breaks too. Quoted names of the data model's tables
    and columns stay, as they say where the problem is; anything else quoted is hidden from
    the first quote to the last of its kind (or to the end, if it is never closed), and so
    is any long run of digits."""
    names = set(TABLES_BY_NAME) | {c for t in TABLES_BY_NAME.values() for c in t.column_names}
    kept: list[str] = []

    def keep(match: re.Match) -> str:
        if match.group(2) not in names:
            return match.group(0)
        kept.append(match.group(0))
        return f"\x00{len(kept) - 1}\x00"

    text = _QUOTED_NAME.sub(keep, message)
    for quote in QUOTES:
        # Not an apostrophe inside a word ("can't", "O'Neil"): a quote opens after
        # something other than a letter or digit, and closes before one.
        opening = re.search(rf"(?<![A-Za-z0-9]){quote}", text)
        if opening is None:
            continue
        closing = [m.start() for m in re.finditer(rf"{quote}(?![A-Za-z0-9])", text)
                   if m.start() > opening.start()]
        end = closing[-1] + 1 if closing else len(text)
        text = f"{text[:opening.start()]}{quote}{HIDDEN_VALUE}{quote}{text[end:]}"
    text = LONG_DIGITS.sub(HIDDEN_VALUE, text)
    return re.sub("\x00(\\d+)\x00", lambda m: kept[int(m.group(1))], text)
