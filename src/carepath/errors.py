"""Errors a user can act on. The CLI prints them as one line and exits with code 2."""

from __future__ import annotations


class CarepathError(Exception):
    """A problem with the user's input or workspace, stated as what is wrong and where."""

    exit_code = 2

    def __init__(self, message: str, *, where: str | None = None) -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)


class WorkspaceError(CarepathError):
    """The workspace directory is missing, foreign, too new or unwritable."""


class ValidationError(CarepathError):
    """An input (file, definition, argument) breaks a rule."""
