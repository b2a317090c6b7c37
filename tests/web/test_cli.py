"""`carepath users` and `carepath audit` end to end through the CLI."""

from __future__ import annotations

import pytest
from typer.testing import CliRunner

from carepath.cli import app as cli_app
from carepath.web import users
from carepath.workspace import Workspace

PASSWORD = "a-long-enough-password"


@pytest.fixture
def ws(tmp_path):
    return Workspace.init(tmp_path / "ws")


def run(ws, *args, stdin: str | None = None):
    return CliRunner().invoke(cli_app, [*args, "-w", str(ws.path)], input=stdin)


def test_users_add_role_reset_remove_list_and_audit(ws):
    r = run(ws, "users", "add", "lead.north", "--role", "locality_lead", "--scope", "L1",
            "--password-stdin", stdin=PASSWORD + "\n")
    assert r.exit_code == 0, r.output
    with ws.connect() as con:
        assert users.authenticate(con, "lead.north", PASSWORD)[0].scope == {"L1"}
    assert run(ws, "users", "role", "lead.north", "analyst").exit_code == 0
    r = run(ws, "users", "reset", "lead.north", "--password-stdin", stdin=PASSWORD + "2\n")
    assert r.exit_code == 0
    listing = run(ws, "users", "list")
    assert "lead.north" in listing.output and "analyst" in listing.output
    assert run(ws, "users", "remove", "lead.north").exit_code == 0
    with ws.connect() as con:
        assert users.authenticate(con, "lead.north", PASSWORD + "2") is None
    audit = run(ws, "audit", "--action", "user.")
    assert audit.exit_code == 0
    for action in ("user.add", "user.role", "user.reset", "user.remove"):
        assert action in audit.output
    assert PASSWORD not in audit.output


@pytest.mark.parametrize(("args", "message"), [
    (["users", "add", "xy", "--role", "wizard"], "role 'wizard' is not one of"),
    (["users", "add", "lead", "--role", "locality_lead"], "needs --scope"),
    (["users", "add", "Bad Name!", "--role", "analyst"], "username"),
])
def test_bad_account_input_is_one_clear_error(ws, args, message):
    r = run(ws, *args, "--password-stdin", stdin=PASSWORD + "\n")
    assert r.exit_code != 0
    assert message in str(r.exception) + r.output


def test_short_password_and_duplicate_user_are_refused(ws):
    r = run(ws, "users", "add", "ann", "--role", "analyst", "--password-stdin", stdin="short\n")
    assert r.exit_code != 0 and "12" in str(r.exception)
    assert run(ws, "users", "add", "ann", "--role", "analyst", "--password-stdin",
               stdin=PASSWORD + "\n").exit_code == 0
    r = run(ws, "users", "add", "ann", "--role", "analyst", "--password-stdin",
            stdin=PASSWORD + "\n")
    assert r.exit_code != 0 and "already exists" in str(r.exception)


def test_serve_is_registered_with_host_and_port(ws):
    r = CliRunner().invoke(cli_app, ["serve", "--help"])
    assert r.exit_code == 0 and "--port" in r.output and "--host" in r.output


def test_serve_refuses_a_disclosure_setting_that_is_not_one_before_it_starts(ws):
    """Found by the first public visitor otherwise (a code review)."""
    ws.config_path.write_text(ws.config_path.read_text().replace("suppress_below = 8",
                                                                 "suppress_below = 1"))
    r = run(ws, "serve", "--port", "1")  # never listened on: refused before
    assert r.exit_code != 0
    assert "carepath.toml [disclosure] suppress_below" in str(r.exception) + r.output
