"""Keeping a workspace's copy of each framework and contract, and auditing every change.

``register`` copies a contract and its framework into the workspace's ``contracts/`` and
``frameworks/`` folders. When the content differs from the copy already held, the audit log
gets one event per file naming the fields that changed (paths only, never values that could
identify anyone: these files hold none). Issuing a statement is audited with its totals and
the SHA-256 of the CSV issued, so a statement can later be matched to what was sent.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

import yaml

from carepath.domain.contracts.assessment import Assessment
from carepath.domain.contracts.definitions import Contract, Framework
from carepath.errors import ValidationError
from carepath.workspace import Workspace

ACTION_REGISTERED = "contract.registered"
ACTION_CHANGED = "contract.changed"
ACTION_STATEMENT = "contract.statement_issued"
ACTION_ASSESSED = "contract.assessed"
#: Changed field paths listed in one audit event before the list is cut short.
MAX_CHANGED_FIELDS = 50


def sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def flatten(data: Any, prefix: str = "") -> dict[str, Any]:
    """{'a.b[0].c': value} for nested mappings and lists."""
    if isinstance(data, dict):
        out: dict[str, Any] = {}
        for k, v in data.items():
            out.update(flatten(v, f"{prefix}.{k}" if prefix else str(k)))
        return out
    if isinstance(data, list):
        out = {}
        for i, v in enumerate(data):
            out.update(flatten(v, f"{prefix}[{i}]"))
        return out
    return {prefix: data}


def changed_fields(old_text: str, new_text: str) -> list[str]:
    old = flatten(yaml.safe_load(old_text) or {})
    new = flatten(yaml.safe_load(new_text) or {})
    return sorted(k for k in old.keys() | new.keys() if old.get(k) != new.get(k))


FRAMEWORK_LINE = re.compile(r"^framework:.*$", re.MULTILINE)


def _store(ws: Workspace, con, kind: str, ident: str, text: str, source: Path,
           actor: str) -> str | None:
    """Copy one file into the workspace; audit it if new or changed. Returns the action."""
    folder = ws.definitions_dir(kind)
    folder.mkdir(parents=True, exist_ok=True)
    held = folder / f"{ident}.yaml"
    previous = held.read_text(encoding="utf-8") if held.is_file() else None
    if previous == text:
        return None
    detail: dict[str, Any] = {"kind": kind, "file": Path(source).name, "sha256": sha256(text)}
    if previous is None:
        action = ACTION_REGISTERED
    else:
        action = ACTION_CHANGED
        fields = changed_fields(previous, text)
        detail.update(previous_sha256=sha256(previous), changed=fields[:MAX_CHANGED_FIELDS],
                      changed_count=len(fields))
    ws.audit(con, actor=actor, action=action, target=f"{kind[:-1]}:{ident}",
             detail=json.dumps(detail))
    held.write_text(text, encoding="utf-8")
    return action


def users_of(ws: Workspace, framework_id: str) -> list[str]:
    """Ids of the held contracts that point at the held framework ``framework_id``."""
    held = f"../frameworks/{framework_id}.yaml"
    out = []
    for path in registered(ws):
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        if isinstance(data, dict) and data.get("framework") == held:
            out.append(str(data.get("id", path.stem)))
    return sorted(out)


def check_framework_id(ws: Workspace, contract: Contract, fw: Framework, text: str) -> None:
    """Frameworks are held by id: one with the id of a held framework but other content
    would replace it under every contract using it, and contract A was then assessed on
    contract B's framework (outcome element £1,802,272.73 instead of £2,452,272.73). Only
    the contract that alone uses a framework may change it (audited as a change)."""
    held = ws.definitions_dir("frameworks") / f"{fw.id}.yaml"
    if not held.is_file() or held.read_text(encoding="utf-8") == text:
        return
    others = [c for c in users_of(ws, fw.id) if c != contract.id]
    if others:
        raise ValidationError(f"field id: the workspace already holds a different framework "
                              f"{fw.id!r}, used by contract {', '.join(others)}; registering "
                              "this one would change how that contract is assessed. Give "
                              "this framework an id of its own", where=fw.source_file)


def register(ws: Workspace, contract: Contract, fw: Framework, *, actor: str) -> list[str]:
    """Hold the contract and framework in the workspace; audit what is new or changed.
    Refused when another held contract uses a different framework of the same id."""
    done = []
    fw_text = Path(fw.source_file).read_text(encoding="utf-8")
    check_framework_id(ws, contract, fw, fw_text)
    with ws.transaction() as con:
        # The held contract points at the held framework copy beside it.
        c_text = FRAMEWORK_LINE.sub(f"framework: ../frameworks/{fw.id}.yaml",
                                    Path(contract.source_file).read_text(encoding="utf-8"),
                                    count=1)
        for kind, ident, text, src in (("frameworks", fw.id, fw_text, fw.source_file),
                                       ("contracts", contract.id, c_text,
                                        contract.source_file)):
            action = _store(ws, con, kind, ident, text, Path(src), actor)
            if action:
                done.append(f"{action} {kind[:-1]} {ident}")
    return done


def record_statement(ws: Workspace, a: Assessment, csv_text: str, out: Path | None, *,
                     actor: str) -> None:
    detail = {"year": a.year, "period": a.period, "fee": round(a.fee, 2),
              "outcome_element": round(a.outcome_total, 2), "total": round(a.total, 2),
              "csv_sha256": sha256(csv_text), "file": str(Path(out).resolve()) if out else None}
    with ws.transaction() as con:
        ws.audit(con, actor=actor, action=ACTION_STATEMENT, target=f"contract:{a.contract.id}",
                 detail=json.dumps(detail))


def record_assessment(ws: Workspace, a: Assessment, *, actor: str) -> None:
    counts: dict[str, int] = {}
    for o in a.outcomes:
        counts[o.judgement] = counts.get(o.judgement, 0) + 1
    with ws.transaction() as con:
        ws.audit(con, actor=actor, action=ACTION_ASSESSED, target=f"contract:{a.contract.id}",
                 detail=json.dumps({"year": a.year, "judgements": counts}))


def check_coproduction(con, fw: Framework) -> list[str]:
    """Problems with the co-production record against the workspace's co-design events:
    an ``event_id`` that is not there, or a date that differs from the event's."""
    problems = []
    for i, rec in enumerate(fw.coproduction):
        if rec.event_id is None:
            continue
        row = con.execute("SELECT event_date FROM coproduction_events WHERE event_id = ?",
                          [rec.event_id]).fetchone()
        where = f"field coproduction[{i}].event_id"
        if row is None:
            problems.append(f"{where}: no co-production event {rec.event_id!r} in the "
                            "workspace")
        elif row[0] != rec.date:
            problems.append(f"{where}: event {rec.event_id!r} was held on {row[0]}, the "
                            f"record says {rec.date}")
    return problems


def registered(ws: Workspace) -> list[Path]:
    folder = ws.definitions_dir("contracts")
    return sorted(folder.glob("*.yaml")) if folder.is_dir() else []
