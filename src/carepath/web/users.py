"""Local accounts (business logic): add, remove, change role, reset password, change one's
own password, authenticate.

Keyword-only arguments with an explicit actor (``by``); every change writes an audit event
in the same transaction. Passwords are stored only as argon2id hashes; a change of password,
role or removal raises ``session_epoch``, which ends every session issued before.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime

import duckdb
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from carepath.errors import ValidationError
from carepath.model.codes import PROVIDER_TYPES
from carepath.model.schema import WEB_USERS
from carepath.web.scopes import ACCOUNT_ROLES, Principal, Role
from carepath.workspace import Workspace

MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 256
# Shortest user name a password may not contain.
MIN_NAME_IN_PASSWORD = 3
USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
SCOPE_CODE_RE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
# The organisations a restricted role's scope names (an unknown locality left its account
# seeing every locality as outside its own: a new user's walkthrough).
SCOPE_ORG_TYPES = {Role.LOCALITY_LEAD: ("locality",), Role.PROVIDER: PROVIDER_TYPES}
SCOPE_CODES_LISTED = 12
# The field a wrong current password is reported against (the web form counts it as a
# failed sign-in).
CURRENT_PASSWORD = "current password"
# argon2-cffi's defaults are the RFC 9106 "low memory" argon2id profile.
_HASHER = PasswordHasher()
# Verified against when the user does not exist, so timing does not reveal valid names.
_DUMMY_HASH = _HASHER.hash("not-a-real-password-0")


# Raised by every change to accounts made in this process, so the web app's cache of
# signed-in principals (security.current_principal) can never outlive a change. Other
# processes cannot change accounts while the server holds the database open.
_generation = 0


def generation() -> int:
    return _generation


def _changed() -> None:
    global _generation
    _generation += 1


def ensure_tables(con: duckdb.DuckDBPyConnection) -> None:
    """Workspaces made before the accounts table existed get it on first use."""
    con.execute(WEB_USERS.ddl())


def _now() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


def _audit(con, *, by: str, action: str, target: str, detail: dict | None = None) -> None:
    con.execute("INSERT INTO audit_log VALUES (?, ?, ?, ?, ?)",
                [_now(), by, action, target, json.dumps(detail or {}, default=str)])


def validate_username(username: str) -> str:
    name = (username or "").strip().lower()
    if not USERNAME_RE.match(name):
        raise ValidationError("a username is 2-64 characters: letters, digits, . _ @ -",
                              where="username")
    return name


def validate_password(password: str, username: str | None = None) -> None:
    if not MIN_PASSWORD_LENGTH <= len(password or "") <= MAX_PASSWORD_LENGTH:
        raise ValidationError(f"a password needs {MIN_PASSWORD_LENGTH} to "
                              f"{MAX_PASSWORD_LENGTH} characters", where="password")
    # The first guess anyone makes ('analyst1analyst1' was accepted: a walkthrough). A
    # name of two letters ('jo') is in too many good passwords to refuse them all.
    if username and len(username) >= MIN_NAME_IN_PASSWORD and \
            username.casefold() in password.casefold():
        raise ValidationError("a password must not contain the user name", where="password")


def validate_role(role: str, scope: list[str]) -> Role:
    try:
        value = Role(role)
    except ValueError:
        value = None
    if value not in ACCOUNT_ROLES:
        raise ValidationError(f"role {role!r} is not one of "
                              f"{', '.join(r.value for r in ACCOUNT_ROLES)}", where="role")
    if value in (Role.LOCALITY_LEAD, Role.PROVIDER) and not scope:
        raise ValidationError(f"a {value.value} account needs --scope (locality codes for a "
                              "locality lead, the organisation code for a provider)",
                              where="scope")
    for code in scope:
        if not SCOPE_CODE_RE.match(code):
            raise ValidationError(f"{code!r} is not an area code", where="scope")
    return value


def check_scope_known(con: duckdb.DuckDBPyConnection, role: Role, scope: list[str]) -> None:
    """Refuse scope codes that are no organisation of the role's kind in the workspace
    (unchecked while no organisations are loaded: accounts may come first)."""
    kinds = SCOPE_ORG_TYPES.get(role)
    if not kinds or not scope:
        return
    rows = con.execute("SELECT DISTINCT org_code, org_type IN (SELECT unnest(?)) FROM "
                       "organisations", [list(kinds)]).fetchall()
    if not rows:
        return
    known = sorted(code for code, wanted in rows if wanted)
    unknown = [code for code in scope if code not in known]
    if unknown:
        listed = ", ".join(known[:SCOPE_CODES_LISTED]) + (" ..." if len(known) >
                                                           SCOPE_CODES_LISTED else "")
        raise ValidationError(f"{', '.join(unknown)}: no {' or '.join(kinds)} of this "
                              f"workspace has that code ({listed or 'it has none'})",
                              where="scope")


def _exists(con, username: str, *, active_only: bool = True) -> bool:
    sql = "SELECT count(*) FROM web_users WHERE username = ?"
    if active_only:
        sql += " AND active"
    return con.execute(sql, [username]).fetchone()[0] > 0


def add_user(ws: Workspace, *, by: str, username: str, password: str, role: str,
             scope: list[str] | None = None) -> str:
    name = validate_username(username)
    validate_password(password, name)
    scope = scope or []
    value = validate_role(role, scope)
    with ws.transaction() as con:
        ensure_tables(con)
        check_scope_known(con, value, scope)
        if _exists(con, name, active_only=False):
            raise ValidationError("already exists; use `carepath users role` or `reset`",
                                  where=f"user {name}")
        now = _now()
        con.execute("INSERT INTO web_users VALUES (?, ?, ?, ?, 0, true, ?, ?)",
                    [name, _HASHER.hash(password), value.value, ";".join(scope), now, now])
        _audit(con, by=by, action="user.add", target=name,
               detail={"role": value.value, "scope": scope})
    _changed()
    return name


def _require(con, name: str) -> None:
    if not _exists(con, name):
        raise ValidationError("no such active user", where=f"user {name}")


def remove_user(ws: Workspace, *, by: str, username: str) -> None:
    name = validate_username(username)
    with ws.transaction() as con:
        ensure_tables(con)
        _require(con, name)
        con.execute("UPDATE web_users SET active = false, session_epoch = session_epoch + 1, "
                    "updated_at = ? WHERE username = ?", [_now(), name])
        _audit(con, by=by, action="user.remove", target=name)
    _changed()


def set_role(ws: Workspace, *, by: str, username: str, role: str,
             scope: list[str] | None = None) -> None:
    name = validate_username(username)
    scope = scope or []
    value = validate_role(role, scope)
    with ws.transaction() as con:
        ensure_tables(con)
        _require(con, name)
        check_scope_known(con, value, scope)
        con.execute("UPDATE web_users SET role = ?, scope = ?, session_epoch = session_epoch "
                    "+ 1, updated_at = ? WHERE username = ?",
                    [value.value, ";".join(scope), _now(), name])
        _audit(con, by=by, action="user.role", target=name,
               detail={"role": value.value, "scope": scope})
    _changed()


def reset_password(ws: Workspace, *, by: str, username: str, password: str) -> None:
    name = validate_username(username)
    validate_password(password, name)
    with ws.transaction() as con:
        ensure_tables(con)
        _require(con, name)
        con.execute("UPDATE web_users SET password_hash = ?, session_epoch = session_epoch + 1,"
                    " updated_at = ? WHERE username = ?", [_HASHER.hash(password), _now(), name])
        _audit(con, by=by, action="user.reset", target=name)
    _changed()


def change_own_password(ws: Workspace, *, username: str, current: str, new: str,
                        confirm: str) -> int:
    """A signed-in user's own change: the current password proves it is them (a session
    left open on a shared PC is not enough). Every other session of theirs ends; returns
    the new session epoch for the one making the change."""
    name = validate_username(username)
    if new != confirm:
        raise ValidationError("the two new passwords differ", where="new password again")
    try:
        validate_password(new, name)
    except ValidationError as exc:
        raise ValidationError(exc.message, where="new password") from None
    with ws.transaction() as con:
        ensure_tables(con)
        if authenticate(con, name, current) is None:
            raise ValidationError("that is not your current password",
                                  where=CURRENT_PASSWORD)
        if new == current:
            raise ValidationError("the new password is the one you have now",
                                  where="new password")
        con.execute("UPDATE web_users SET password_hash = ?, session_epoch = session_epoch + 1,"
                    " updated_at = ? WHERE username = ?", [_HASHER.hash(new), _now(), name])
        _audit(con, by=name, action="user.password", target=name)
        epoch = con.execute("SELECT session_epoch FROM web_users WHERE username = ?",
                            [name]).fetchone()[0]
    _changed()
    return int(epoch)


def end_sessions(con: duckdb.DuckDBPyConnection, username: str) -> None:
    """Log out everywhere (used by logout: a stolen copy of the cookie stops working)."""
    con.execute("UPDATE web_users SET session_epoch = session_epoch + 1 WHERE username = ?",
                [username])
    _changed()


def authenticate(con: duckdb.DuckDBPyConnection, username: str,
                 password: str) -> tuple[Principal, int] | None:
    """(principal, session epoch) when the password matches an active account."""
    try:
        name = validate_username(username)
    except ValidationError:
        name = ""
    row = con.execute("SELECT password_hash FROM web_users WHERE username = ? AND active",
                      [name]).fetchone() if name else None
    try:
        _HASHER.verify(row[0] if row else _DUMMY_HASH, password or "")
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return None
    if row is None:
        return None
    return lookup(con, name)


def exists(con: duckdb.DuckDBPyConnection, username: str) -> bool:
    """Whether an account (active or not) has this name."""
    return con.execute("SELECT count(*) FROM web_users WHERE username = ?",
                       [username]).fetchone()[0] > 0


def lookup(con: duckdb.DuckDBPyConnection, username: str) -> tuple[Principal, int] | None:
    row = con.execute("SELECT role, scope, session_epoch FROM web_users WHERE username = ? "
                      "AND active", [username]).fetchone()
    if row is None:
        return None
    role, scope, epoch = row
    codes = frozenset(c for c in (scope or "").split(";") if c)
    return Principal(username, Role(role), codes), int(epoch)


def list_users(con: duckdb.DuckDBPyConnection) -> list[dict]:
    return con.execute("SELECT username, role, scope, active, created_at, updated_at "
                       "FROM web_users ORDER BY username").df().to_dict("records")
