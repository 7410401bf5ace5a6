from __future__ import annotations

from datetime import date

import pytest

from spinepath.knowledge.loader import load_knowledge
from spinepath.knowledge.snapshot import Knowledge

NOW = date(2026, 3, 1)


@pytest.fixture(scope="session")
def kb() -> Knowledge:
    return load_knowledge(use_env=False, today=NOW)


# ---------------------------------------------------------------- databases
# Store and API tests run against SQLite and against a real PostgreSQL server. CI starts one
# (.ci/run) and sets SPINEPATH_TEST_POSTGRES_ADMIN_URL; each test gets a fresh database on it.

import os  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from pathlib import Path  # noqa: E402

PG_ENV = "SPINEPATH_TEST_POSTGRES_ADMIN_URL"


def _pg_admin_url() -> str | None:
    url = os.environ.get(PG_ENV)
    if not url and os.environ.get("CI"):
        raise RuntimeError(f"CI must set {PG_ENV} (a PostgreSQL server for the store tests)")
    return url


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A migrated, empty database URL for each engine."""
    from spinepath.store.migrate import upgrade

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'spinepath.db'}"
        upgrade(url)
        yield url
        return
    admin = _pg_admin_url()
    if not admin:
        pytest.skip(f"{PG_ENV} not set")
    from sqlalchemy import create_engine, text

    name = f"sp_test_{uuid.uuid4().hex[:12]}"
    eng = create_engine(admin, isolation_level="AUTOCOMMIT")
    with eng.connect() as c:
        c.execute(text(f'CREATE DATABASE "{name}"'))
    url = admin.rsplit("/", 1)[0] + f"/{name}"
    upgrade(url)
    try:
        yield url
    finally:
        with eng.connect() as c:
            c.execute(text(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = '{name}'"))
            c.execute(text(f'DROP DATABASE IF EXISTS "{name}"'))
        eng.dispose()
