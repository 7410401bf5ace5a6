"""Schema migrations (Alembic), run programmatically: `spinepath db upgrade`, and the check the
server makes before it starts."""

from __future__ import annotations

from importlib import resources

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine


def alembic_config(url: str) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(resources.files("spinepath.store") / "migrations"))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(url: str) -> str:
    """Apply all migrations; returns the head revision."""
    cfg = alembic_config(url)
    command.upgrade(cfg, "head")
    return head_revision(url)


def head_revision(url: str) -> str:
    head = ScriptDirectory.from_config(alembic_config(url)).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at (None before the first migration).

    Alembic builds a new ``alembic_version`` Table for every call, so each call's SELECT is a new
    entry (about 100 objects) in the engine's compiled-statement cache: /ready, probed
    repeatedly, filled that cache to its 500 entries, tens of thousands of long-lived objects,
    and every full garbage collection in that worker then took 25-50 ms instead of 2 ms,
    stalling all requests in flight. This statement is cheap to compile, so it skips the cache.
    """
    with engine.connect() as conn:
        return MigrationContext.configure(conn.execution_options(compiled_cache=None)).get_current_revision()


def is_current(engine: Engine, url: str) -> bool:
    return current_revision(engine) == head_revision(url)
