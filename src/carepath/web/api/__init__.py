"""JSON API modules: each ``router`` is mounted under /api/v1 by ``create_app``."""
