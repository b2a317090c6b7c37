"""Administration: the audit log and the accounts (changes are made with `carepath users`)."""

from __future__ import annotations

import duckdb
from fastapi import APIRouter, Depends, Query, Request

from carepath.web import audit, users
from carepath.web.db import get_con
from carepath.web.render import NavItem, render
from carepath.web.scopes import Principal, Role
from carepath.web.security import require_roles

router = APIRouter()
NAV_ITEMS = (NavItem("Audit", "/admin/audit", frozenset({Role.ADMIN}), order=80),)


@router.get("/admin/audit", include_in_schema=False)
def audit_log(request: Request, action: str | None = Query(None, max_length=60),
              actor: str | None = Query(None, max_length=64),
              who: Principal = Depends(require_roles(Role.ADMIN)),
              con: duckdb.DuckDBPyConnection = Depends(get_con)):
    from carepath.web.queries import records

    events = records(audit.recent(con, action=action or None, actor=actor or None))
    return render(request, "audit.html", {"title": "Audit log", "events": events,
                                          "action": action or "", "actor": actor or "",
                                          "accounts": users.list_users(con)})
