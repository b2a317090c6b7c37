"""The `carepath` command line. Thin: each command parses arguments, calls a plain
function from a lower layer and prints the result.

Commands live in the modules of this package. Each module exposes
``register(app: typer.Typer)``; they are discovered at start-up so that adding a
command never means editing a central list.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import sys

import typer
from rich.console import Console
from rich.markup import escape

from carepath import __version__
from carepath.errors import CarepathError
from carepath.ingest.nhs_number import mask_in_text

app = typer.Typer(
    name="carepath",
    help="Outcomes-based commissioning of cancer and end-of-life care.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
err_console = Console(stderr=True)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"carepath {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Outcomes-based commissioning of cancer and end-of-life care."""


def _register_commands() -> None:
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(app)


def _one_line_summaries(group: typer.Typer) -> None:
    """Each command's summary in a command list: its docstring's first paragraph as one
    line. Typer's rich help keeps the docstring's line breaks there, so summaries broke
    mid-sentence ("the first time it showed\n something": a walkthrough)."""
    for info in group.registered_commands:
        doc = info.help or (info.callback.__doc__ if info.callback else None)
        if doc and info.short_help is None:
            info.short_help = " ".join(inspect.cleandoc(doc).split("\n\n")[0].split())
    for sub in group.registered_groups:
        if sub.typer_instance is not None:
            _one_line_summaries(sub.typer_instance)


_register_commands()
_one_line_summaries(app)


def main(argv: list[str] | None = None) -> None:
    """Entry point: user errors become one clear line and exit code 2, never a traceback."""
    try:
        code = app(args=argv, standalone_mode=False, prog_name="carepath")
    except CarepathError as exc:
        # The message may quote a file's text: printed as it is, never read as markup.
        # Masked: a path or a header may hold an NHS number (patient_9434765919.csv).
        err_console.print(f"[bold red]error:[/] {escape(mask_in_text(str(exc)))}",
                          highlight=False, soft_wrap=True)
        sys.exit(exc.exit_code)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except KeyboardInterrupt:
        _interrupted()
    except OSError as exc:  # a file the system refused that no command's check foresaw
        where = escape(mask_in_text(str(exc.filename))) if exc.filename else "a file"
        err_console.print(f"[bold red]error:[/] {where}: {exc.strerror or exc}",
                          highlight=False, soft_wrap=True)
        sys.exit(CarepathError.exit_code)
    except Exception as exc:  # usage errors (a bad option or value) arrive here
        if _is_interrupted_query(exc):
            _interrupted()
        if _is_usage_error(exc):
            exc.show()
            sys.exit(2)
        raise


    # typer >= 0.29 turns Ctrl-C into a returned exit code rather than an exception: a
    # script running `compute && export` must see the interruption, not a success.
    if code == INTERRUPTED_EXIT_CODE:
        _interrupted()
    if isinstance(code, int) and code:
        sys.exit(code)


INTERRUPTED_EXIT_CODE = 130  # 128 + SIGINT, as shells report it


def _interrupted() -> None:
    err_console.print("interrupted; nothing was changed by the interrupted step")
    sys.exit(INTERRUPTED_EXIT_CODE)


def _is_interrupted_query(exc: Exception) -> bool:
    """Ctrl+C while DuckDB runs a statement arrives as its interruption, not Python's
    KeyboardInterrupt (the transaction is rolled back all the same)."""
    import duckdb

    return isinstance(exc, duckdb.InterruptException) or (
        isinstance(exc, RuntimeError) and "Query interrupted" in str(exc))


def _is_usage_error(exc: Exception) -> bool:
    """Click's usage errors; typer >= 0.29 raises those of its own bundled copy of click,
    which are TyperExceptions rather than click's."""
    import click

    return isinstance(exc, click.exceptions.ClickException) or (
        isinstance(exc, typer.TyperException) and hasattr(exc, "show"))
