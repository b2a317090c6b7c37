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


def test_a_scope_naming_no_locality_of_the_workspace_is_refused(ws):
    """An account scoped to a mistyped locality saw every locality as outside its own (a
    new user's walkthrough)."""
    with ws.transaction() as con:
        con.execute("INSERT INTO organisations (org_code, name, org_type, valid_from) VALUES "
                    "('L1', 'North', 'locality', DATE '2020-01-01'), "
                    "('P1', 'Practice', 'practice', DATE '2020-01-01')")
    r = run(ws, "users", "add", "lead", "--role", "locality_lead", "--scope", "P1",
            "--password-stdin", stdin=PASSWORD + "\n")
    assert r.exit_code != 0
    assert "P1: no locality of this workspace has that code (L1)" in str(r.exception)
    assert run(ws, "users", "add", "lead", "--role", "locality_lead", "--scope", "L1",
               "--password-stdin", stdin=PASSWORD + "\n").exit_code == 0
    r = run(ws, "users", "role", "lead", "locality_lead", "--scope", "L9")
    assert r.exit_code != 0 and "L9: no locality" in str(r.exception)


def test_a_port_in_use_is_one_line_before_serving(ws):
    """It printed the address, then uvicorn's own error (a new user's walkthrough)."""
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        r = run(ws, "serve", "--port", str(port))
    assert r.exit_code != 0
    assert f"port {port} on 127.0.0.1 is in use" in str(r.exception)
    assert "Carepath on" not in r.output


def test_help_shows_flags_as_flags():
    """Typer 0.29 printed '<bool>' after every flag, as if each took a value (a new
    user's walkthrough): pinned below it."""
    r = CliRunner().invoke(cli_app, ["report", "localities", "--help"])
    assert r.exit_code == 0 and "--pdf" in r.output and "<bool>" not in r.output


def test_serve_refuses_a_disclosure_setting_that_is_not_one_before_it_starts(ws):
    """Found by the first public visitor otherwise (a code review)."""
    ws.config_path.write_text(ws.config_path.read_text().replace("suppress_below = 8",
                                                                 "suppress_below = 1"))
    r = run(ws, "serve", "--port", "1")  # never listened on: refused before
    assert r.exit_code != 0
    assert "carepath.toml [disclosure] suppress_below" in str(r.exception) + r.output


def test_serve_says_which_figures_it_withholds_as_out_of_date(tmp_path, monkeypatch):
    """After an upgrade every public figure was withheld while `serve` said only where it
    listened (a new user's walkthrough)."""
    import uvicorn
    from tests.web.conftest import build_workspace

    from carepath.cli import web_cmds

    ws = build_workspace(tmp_path / "web")
    monkeypatch.setattr(uvicorn.Server, "run", lambda self, sockets=None: None)
    monkeypatch.setattr(web_cmds, "bound_socket", lambda host, port: None)
    fresh = run(ws, "serve")
    assert fresh.exit_code == 0, fresh.output
    assert "out of date" not in fresh.output
    with ws.transaction() as con:
        con.execute("UPDATE indicator_values SET definition_hash = 'older' "
                    "WHERE indicator_id = 'early_stage_all'")
    stale = run(ws, "serve")
    said = " ".join(stale.output.split())
    assert "1 indicator(s) out of date; the public pages and API withhold them" in said
    assert "early_stage_all" in said


def test_every_command_names_its_user_one_way_in_the_audit_log(tmp_path):
    """'root', 'cli:root' and 'cli' were one person, searched apart (a walkthrough)."""
    from tests.web.conftest import build_workspace

    from carepath.cli._common import cli_actor

    ws = build_workspace(tmp_path / "web")
    assert run(ws, "export", "--out", str(tmp_path / "all.csv")).exit_code == 0
    added = run(ws, "users", "add", "someone", "--role", "analyst", "--password-stdin",
                stdin=PASSWORD + "\n")
    assert added.exit_code == 0, added.output
    with ws.connect(read_only=True) as con:
        actors = dict(con.execute(
            "SELECT action, actor FROM audit_log WHERE action = 'export' OR "
            "(action = 'user.add' AND target = 'someone')").fetchall())
    assert actors == {"export": cli_actor(), "user.add": cli_actor()}
    assert cli_actor().startswith("cli:")


def test_role_and_workspace_are_given_as_the_other_commands_give_them(ws, tmp_path):
    """`users role NAME --role R` and `init -w DIR` were refused as unknown options,
    though `users add` takes --role and every other command -w (a walkthrough)."""
    assert run(ws, "users", "add", "lead.two", "--role", "analyst", "--password-stdin",
               stdin=PASSWORD + "\n").exit_code == 0
    assert run(ws, "users", "role", "lead.two", "--role", "commissioner").exit_code == 0
    with ws.connect(read_only=True) as con:
        assert users.list_users(con)[0]["role"] == "commissioner"
    both = run(ws, "users", "role", "lead.two", "analyst", "--role", "admin")
    assert both.exit_code != 0 and "two roles given" in str(both.exception)
    neither = run(ws, "users", "role", "lead.two")
    assert neither.exit_code != 0 and "give the new role" in str(neither.exception)
    made = CliRunner().invoke(cli_app, ["init", "-w", str(tmp_path / "new")])
    assert made.exit_code == 0 and Workspace.open(tmp_path / "new")
    nowhere = CliRunner().invoke(cli_app, ["init"])
    assert nowhere.exit_code != 0 and "carepath init DIR" in str(nowhere.exception)
