"""REST API adapter (FastAPI): app factory, routers, auth dependencies, error handlers.

Entry point: :func:`spinepath.api.app.create_app`. Routes, roles and the error envelope are
described in docs/api.md.
"""
