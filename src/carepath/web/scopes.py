"""Roles and scopes: who may see which areas' data. Every page and API endpoint asks here.

* admin, analyst, commissioner: every area.
* locality lead: aggregates for every locality and above (to compare), but practice- and
  PCN-level data only inside the localities of their scope, and a PCN only if every
  practice it ever held is one of theirs (its figure less their practices' would be the
  others').
* provider: aggregates, and provider-level data for its own organisation only.
* user-defined groups of practices (``[groups]``): the wide roles only (a group of one
  practice is that practice's figure, and one across localities gives, less a lead's own
  practices, the others').
* public (anonymous): only the disclosure-controlled public view.

Only admin and analyst may see person-level data, and each such view is audited.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum

import duckdb
import pandas as pd


class Role(StrEnum):
    ADMIN = "admin"
    ANALYST = "analyst"
    COMMISSIONER = "commissioner"
    LOCALITY_LEAD = "locality_lead"
    PROVIDER = "provider"
    PUBLIC = "public"


ACCOUNT_ROLES = tuple(r for r in Role if r is not Role.PUBLIC)
STAFF_ROLES = frozenset(ACCOUNT_ROLES)
WIDE_ROLES = frozenset({Role.ADMIN, Role.ANALYST, Role.COMMISSIONER})
PERSON_LEVEL_ROLES = frozenset({Role.ADMIN, Role.ANALYST})
# Roles that may record peer-review discussions (a lead GP only in their localities).
REVIEW_ROLES = frozenset({Role.ADMIN, Role.ANALYST, Role.COMMISSIONER, Role.LOCALITY_LEAD})
SCOPED_ROLES = frozenset({Role.LOCALITY_LEAD, Role.PROVIDER})
# Area types whose rows are "below locality": visible to a lead only in their localities.
SUB_LOCALITY_TYPES = frozenset({"practice", "pcn"})
PROVIDER_TYPES = frozenset({"provider"})
# Groups of practices an analyst defines: seen by the wide roles only.
GROUP_TYPES = frozenset({"group"})
RESTRICTED_TYPES = SUB_LOCALITY_TYPES | PROVIDER_TYPES | GROUP_TYPES
ROLE_LABELS = {
    Role.ADMIN: "Administrator", Role.ANALYST: "Analyst", Role.COMMISSIONER: "Commissioner",
    Role.LOCALITY_LEAD: "Locality lead", Role.PROVIDER: "Provider", Role.PUBLIC: "Public",
}


@dataclass(frozen=True)
class Principal:
    """The person behind a request (or the anonymous public)."""

    username: str | None = None
    role: Role = Role.PUBLIC
    scope: frozenset[str] = field(default_factory=frozenset)

    @property
    def is_authenticated(self) -> bool:
        return self.role in STAFF_ROLES

    @property
    def is_wide(self) -> bool:
        return self.role in WIDE_ROLES

    @property
    def label(self) -> str:
        return ROLE_LABELS[self.role]


ANONYMOUS = Principal()


def _current_links(con: duckdb.DuckDBPyConnection, parents: Iterable[str],
                   on: date | None = None) -> set[str]:
    """Codes of practices and PCNs whose latest locality (today's, or the last before they
    closed) is one of the given localities, less the PCNs that ever held a practice not
    theirs: a PCN crossing localities, less a lead's own practices, gave another locality's
    practice's exact figures (a red team). A practice that closed while in their locality
    stays theirs: taken as another's, it had hidden its PCN from the lead (a review)."""
    parents = list(parents)
    if not parents:
        return set()
    on = on or date.today()
    rows = con.execute(
        """SELECT child_code FROM org_hierarchy
           WHERE parent_type = 'locality' AND valid_from <= ?
           GROUP BY child_code
           -- the link valid today where there is one, else the last to end
           HAVING list_contains(?, arg_max(parent_code, (valid_to IS NULL OR valid_to >= ?,
                                                        coalesce(valid_to, DATE '9999-12-31'),
                                                        valid_from)))""",
        [on, parents, on],
    ).fetchall()
    linked = {r[0] for r in rows}
    crossing = con.execute(
        """SELECT DISTINCT parent_code FROM org_hierarchy
           WHERE parent_type = 'pcn' AND list_contains(?, parent_code)
             AND NOT list_contains(?, child_code)""", [sorted(linked), sorted(linked)]
    ).fetchall()
    return linked - {r[0] for r in crossing}


def allowed_restricted_codes(con: duckdb.DuckDBPyConnection, who: Principal) -> set[str] | None:
    """Codes of restricted areas (practices, PCNs, providers) ``who`` may see; None = all."""
    if who.is_wide:
        return None
    if who.role is Role.LOCALITY_LEAD:
        return _current_links(con, who.scope)
    if who.role is Role.PROVIDER:
        return set(who.scope)
    return set()


def can_see_area(con: duckdb.DuckDBPyConnection, who: Principal, area_type: str,
                 area_code: str) -> bool:
    if not who.is_authenticated:
        return False
    if area_type not in RESTRICTED_TYPES:
        return True
    allowed = allowed_restricted_codes(con, who)
    if allowed is None:
        return True
    if area_type in PROVIDER_TYPES and who.role is not Role.PROVIDER:
        return False
    return area_code in allowed


def can_see_locality_detail(who: Principal, locality_code: str) -> bool:
    """Practice-level detail inside a locality (rug, outliers, peer review)."""
    if who.is_wide:
        return True
    return who.role is Role.LOCALITY_LEAD and locality_code in who.scope


def filter_rows(con: duckdb.DuckDBPyConnection, who: Principal,
                frame: pd.DataFrame) -> pd.DataFrame:
    """Drop the rows of ``indicator_values``-like data that ``who`` may not see."""
    allowed = allowed_restricted_codes(con, who)
    if allowed is None or frame.empty:
        return frame
    restricted = frame["area_type"].isin(RESTRICTED_TYPES)
    if who.role is Role.LOCALITY_LEAD:
        restricted_ok = frame["area_type"].isin(SUB_LOCALITY_TYPES) & frame["area_code"].isin(
            allowed)
    else:
        restricted_ok = frame["area_type"].isin(PROVIDER_TYPES) & frame["area_code"].isin(
            allowed)
    return frame[~restricted | restricted_ok]

# Area types the public pages show (nothing below a locality, and no providers).
PUBLIC_AREA_TYPES = ("national", "cancer_alliance", "icb", "sub_icb", "locality")
