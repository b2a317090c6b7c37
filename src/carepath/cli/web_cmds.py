"""`carepath serve`, `carepath users add|remove|role|reset|list`, `carepath audit`."""

from __future__ import annotations

import errno
import getpass
import socket
import sys
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from carepath.cli._common import WorkspaceOption, cli_actor, open_workspace, plain
from carepath.errors import ValidationError

console = Console()
users_app = typer.Typer(help="Web accounts: add, remove, change role, reset password.",
                        no_args_is_help=True)
ScopeOption = Annotated[list[str] | None, typer.Option(
    "--scope", help="Area code the role is limited to (repeat): localities for a "
    "locality_lead, the organisation for a provider.")]
StdinOption = Annotated[bool, typer.Option(
    "--password-stdin", help="Read the password from standard input (for scripts).")]



def _password(from_stdin: bool) -> str:
    if from_stdin:
        return sys.stdin.readline().rstrip("\n")
    first = getpass.getpass("Password: ")
    if getpass.getpass("Again: ") != first:
        raise ValidationError("the two passwords differ", where="password")
    return first


ROLE_HELP = "admin, analyst, commissioner, locality_lead or provider"


@users_app.command("add")
def users_add(username: str, role: Annotated[str, typer.Option(help=ROLE_HELP)],
              workspace: WorkspaceOption = None, scope: ScopeOption = None,
              password_stdin: StdinOption = False) -> None:
    """Add an account (the password is asked for, never given on the command line)."""
    from carepath.web import users

    ws = open_workspace(workspace)
    name = users.add_user(ws, by=cli_actor(), username=username, password=_password(
        password_stdin), role=role, scope=scope or [])
    console.print(f"Added [bold]{name}[/] ({role})")


@users_app.command("remove")
def users_remove(username: str, workspace: WorkspaceOption = None) -> None:
    """Disable an account and end its sessions (kept for the audit trail)."""
    from carepath.web import users

    users.remove_user(open_workspace(workspace), by=cli_actor(), username=username)
    console.print(f"Removed [bold]{username}[/]")


@users_app.command("role")
def users_role(username: str,
               role: Annotated[str | None, typer.Argument(help=ROLE_HELP,
                                                          show_default=False)] = None,
               workspace: WorkspaceOption = None, scope: ScopeOption = None,
               role_option: Annotated[str | None, typer.Option(
                   "--role", help="The role, as `users add` takes it (or give it after "
                   "the name).", show_default=False)] = None) -> None:
    """Change an account's role and scope (ends its sessions)."""
    from carepath.web import users

    # `users add` takes --role; `users role NAME ROLE` did not, so `--role` was refused
    # (a walkthrough): either is taken, and two that differ are refused.
    if role and role_option and role != role_option:
        raise ValidationError(f"two roles given: {role!r} and --role {role_option!r}",
                              where="ROLE")
    role = role or role_option
    if not role:
        raise ValidationError(f"give the new role ({ROLE_HELP})", where="ROLE")

    users.set_role(open_workspace(workspace), by=cli_actor(), username=username, role=role,
                   scope=scope or [])
    console.print(f"[bold]{username}[/] is now {role}")


@users_app.command("reset")
def users_reset(username: str, workspace: WorkspaceOption = None,
                password_stdin: StdinOption = False) -> None:
    """Set a new password (ends the account's sessions)."""
    from carepath.web import users

    users.reset_password(open_workspace(workspace), by=cli_actor(), username=username,
                         password=_password(password_stdin))
    console.print(f"Password of [bold]{username}[/] reset")


@users_app.command("list")
def users_list(workspace: WorkspaceOption = None) -> None:
    """List the accounts."""
    from carepath.web import users

    ws = open_workspace(workspace)
    with ws.transaction() as con:
        users.ensure_tables(con)
        rows = users.list_users(con)
    table = Table("user", "role", "scope", "active")
    for r in rows:
        table.add_row(plain(r["username"]), r["role"], plain(r["scope"] or ""),
                      "yes" if r["active"] else "no")
    console.print(table)


def serve(workspace: WorkspaceOption = None,
          host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
          port: Annotated[int, typer.Option(min=1, max=65535, help="Port.")] = 8000,
          secure: Annotated[bool, typer.Option(
              "--secure", help="Behind a TLS proxy: mark cookies Secure and read client "
                           "addresses from X-Forwarded-For.")] = False,
          workers_threads: Annotated[int, typer.Option(
              "--threads", min=1, max=256, help="Worker threads for page requests.")] = 40,
          preview: Annotated[bool, typer.Option(
              "--preview", help="Show the public pages without recording them as releases, "
                                "to check them before they go public (they say so).")
          ] = False,
          ) -> None:
    """Serve the web application (stop it before `carepath compute`: one writer at a time).
    What the public pages show is recorded as releases (`carepath releases`) unless
    --preview."""
    import uvicorn

    from carepath.disclosure import DisclosurePolicy
    from carepath.reports.info import say_out_of_date
    from carepath.web.app import create_app

    ws = open_workspace(workspace)
    DisclosurePolicy.from_config(ws.config())  # its mistakes said here, not to a visitor
    app = create_app(ws, force_secure=secure, threads=workers_threads, preview=preview)
    # Bound before saying where it serves: a port in use printed the address, then
    # uvicorn's own error (a new user's walkthrough).
    listening = bound_socket(host, port)
    console.print(f"Carepath on http://{host}:{port}/  (Ctrl+C to stop)")
    # Said before serving: after an upgrade every public figure was withheld, unsaid.
    say_out_of_date(ws, console, serving=True)
    if preview:
        console.print("Preview: the public pages are not recorded as releases; do not share "
                      "them.")
    # The client's address from X-Forwarded-For only behind a proxy (--secure): trusted
    # always, any local client could set it and start afresh on the sign-in limits, or
    # put any address in the audit log (a red team).
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, proxy_headers=secure,
                                           forwarded_allow_ips="127.0.0.1",
                                           log_level="warning"))
    server.run(sockets=[listening])


def bound_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host``:``port``, or a one-line error saying what is wrong. The
    address family chosen as uvicorn chooses it (IPv6 only for an address with ':'), so
    'localhost' binds 127.0.0.1 as it did."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except socket.gaierror:
        listening.close()
        raise ValidationError(f"{host!r} is not an address this machine can listen on",
                              where="--host") from None
    except OSError as exc:
        listening.close()
        why = ("is in use (another server?): stop it or choose another with --port"
               if exc.errno == errno.EADDRINUSE else f"cannot be listened on ({exc.strerror})")
        raise ValidationError(f"port {port} on {host} {why}", where="--port") from None
    return listening


def audit(workspace: WorkspaceOption = None,
          limit: Annotated[int, typer.Option(min=1, max=100_000, help="Most recent N.")] = 50,
          action: Annotated[str | None, typer.Option(help="Action prefix, e.g. login.")] = None,
          actor: Annotated[str | None, typer.Option(help="Only this user.")] = None) -> None:
    """Show the append-only audit log: logins, person-level views, exports, changes."""
    from carepath.web import audit as audit_log

    ws = open_workspace(workspace)
    with ws.connect(read_only=True) as con:
        events = audit_log.recent(con, limit=limit, action=action, actor=actor)
    table = Table("when (UTC)", "who", "action", "target", "detail")
    for e in events.itertuples(index=False):
        table.add_row(str(e.at)[:19], plain(e.actor), plain(e.action), plain(e.target or ""),
                      plain(e.detail or ""))
    console.print(table)


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
    app.command("serve")(serve)
    app.command("audit")(audit)
