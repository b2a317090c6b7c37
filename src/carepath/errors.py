"""Errors a user can act on. The CLI prints them as one line and exits with code 2."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from difflib import get_close_matches
from pathlib import Path


class CarepathError(Exception):
    """A problem with the user's input or workspace, stated as what is wrong and where."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None,
                 field: str | None = None) -> None:
        self.message = message
        self.where = where
        # Which of an input's fields it is about, where a form shows it beside that one.
        self.field = field
        super().__init__(f"{where}: {message}" if where else message)


class WorkspaceError(CarepathError):
    """The workspace directory is missing, foreign, too new or unwritable."""


class ValidationError(CarepathError):
    """An input (file, definition, argument) breaks a rule."""


def did_you_mean(name: str, choices: Iterable[str]) -> str:
    """" (did you mean 'x'?)" for the choice closest to a mistyped ``name`` (any case), or
    nothing: `load-source QOF` and `compute -i screening_cervical_25_4` were refused
    without a hint (a walkthrough)."""
    by_lower = {c.lower(): c for c in choices}
    found = get_close_matches(name.lower(), list(by_lower), n=1)
    return f" (did you mean {by_lower[found[0]]!r}?)" if found else ""


# Why a file a user names cannot be written, most often: said with the system's reason.
CANNOT_WRITE_HINT = "is it open in another program, or the folder read-only or full?"
# The option that lets a command write over an output file that exists.
REPLACE_FLAG = "--replace"


@contextmanager
def writing(path: Path) -> Iterator[None]:
    """The system's refusal to write ``path`` (or the draft beside it) as one clear error
    naming the user's file: a file open in Excel, or a read-only share, gave a traceback
    naming a hidden draft (a walkthrough with the real files)."""
    try:
        yield
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise CarepathError(f"cannot be written ({reason}); {CANNOT_WRITE_HINT}",
                            where=str(path)) from exc
