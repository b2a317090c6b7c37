"""A workspace is a directory: the DuckDB database, ``carepath.toml``, a private key for
pseudonyms and sessions, and the workspace's own definition files."""

from carepath.workspace.workspace import Workspace, resolve_path

__all__ = ["Workspace", "resolve_path"]
