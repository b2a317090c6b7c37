"""Web pages: each module with a ``router`` is included by ``create_app``."""
