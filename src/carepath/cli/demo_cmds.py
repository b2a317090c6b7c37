"""`carepath demo`: the main job on the embedded default, from nothing to a web app.

Synthetic Wessex -> every indicator computed -> one locality pack per locality ->
demo accounts -> the web app on 127.0.0.1. Re-running on an existing demo workspace
skips the steps already done (compute skips unchanged indicators).
"""

from __future__ import annotations

import secrets
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from carepath.cli._common import WorkspaceOption
from carepath.workspace import Workspace, resolve_path

console = Console()
DEMO_SEED = 42
DEMO_PASSWORD_BYTES = 9
# Demo accounts: one per role a user meets first (scopes filled in from the data).
DEMO_ROLES = ("commissioner", "analyst", "locality_lead")


def _ensure_workspace(path: Path, seed: int) -> Workspace:
    from carepath.synth.generator import SynthOptions, synthesise

    if (path / "carepath.toml").is_file():
        console.print(f"Using the existing demo workspace [bold]{path}[/]")
        return Workspace.open(path)
    console.print(f"Generating synthetic Wessex (seed {seed}) in [bold]{path}[/] ...")
    return synthesise(path, SynthOptions(seed=seed)).workspace


def _compute(ws: Workspace) -> None:
    from carepath.engine.run import compute
    from carepath.indicators.library import read_library

    library, _ = read_library(ws.definitions_dir("indicators"))  # as `carepath compute`
    outcomes = compute(ws, list(library.values()), actor="demo")
    done = {s: sum(o.status == s for o in outcomes) for s in ("computed", "unchanged")}
    console.print(f"Indicators: {done['computed']} computed, {done['unchanged']} unchanged")


def _packs(ws: Workspace) -> Path:
    from carepath.reports.batch import generate

    out = ws.path / "reports"
    files = generate(ws, out)
    console.print(f"Locality packs: {len(files)} in {out}")
    return out


def _examples(ws: Workspace) -> None:
    """The worked economics examples (cost-benefit and PBMA) for the synthetic county."""
    from carepath.domain.economics.library import FOLDER, install_examples

    if not (ws.path / FOLDER).is_dir():
        files = install_examples(ws, by="demo")
        console.print(f"Economics examples: {len(files)} files in {ws.path / FOLDER}")


def _accounts(ws: Workspace) -> dict[str, str]:
    from carepath.web import users

    with ws.connect(read_only=True) as con:
        existing = {r[0] for r in con.execute(
            "SELECT username FROM web_users").fetchall()} if _has_users(con) else set()
        locality = con.execute("SELECT min(org_code) FROM organisations WHERE org_type = "
                               "'locality'").fetchall()[0][0]
    created = {}
    for role in DEMO_ROLES:
        name = f"demo-{role.replace('_', '-')}"
        if name in existing:
            continue
        password = secrets.token_urlsafe(DEMO_PASSWORD_BYTES)
        scope = [locality] if role == "locality_lead" and locality else None
        users.add_user(ws, by="demo", username=name, password=password, role=role,
                       scope=scope)
        created[name] = password
    return created


def _has_users(con) -> bool:
    return bool(con.execute("SELECT count(*) FROM information_schema.tables WHERE "
                            "table_name = 'web_users'").fetchall()[0][0])


def demo(
    workspace: WorkspaceOption = None,
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port on 127.0.0.1.")] = 8000,
    seed: Annotated[int, typer.Option(help="Seed for the synthetic county.")] = DEMO_SEED,
    serve: Annotated[bool, typer.Option(help="Start the web app at the end.")] = True,
) -> None:
    """Synthetic county, compute, locality packs, web app on http://127.0.0.1:PORT/."""
    path = resolve_path(workspace)
    if serve:  # a port in use said before a minute's work, not after it
        from carepath.cli.web_cmds import bound_socket

        bound_socket("127.0.0.1", port).close()
    ws = _ensure_workspace(path, seed)
    _compute(ws)
    _packs(ws)
    _examples(ws)
    created = _accounts(ws)
    for name, password in created.items():
        console.print(f"Demo account [bold]{name}[/] password [bold]{password}[/] "
                      "(shown once; `carepath users reset` to change)")
    if not created:
        console.print("Demo accounts exist already: their one-time passwords were shown when "
                      "they were made (`carepath users list -w ...`; a new password: "
                      "`carepath users reset USERNAME -w ...`).")
    if serve:
        from carepath.cli.web_cmds import serve as run_server

        run_server(workspace=path, host="127.0.0.1", port=port, secure=False,
                   workers_threads=40)


def register(app: typer.Typer) -> None:
    app.command()(demo)
