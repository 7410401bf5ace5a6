"""Editorial fixtures: a migrated database of each engine (``db_url``), and the REST API on it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy.orm import Session, sessionmaker

from spinepath.store.db import make_engine, make_sessionmaker
from tests.api.conftest import api, fast_password_hashing  # noqa: F401 - the API fixtures, here too


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    try:
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()
