"""Web application (C11): FastAPI, server-rendered pages, JSON API, roles, scopes, audit."""
