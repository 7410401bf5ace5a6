"""Asking the database for its schema revision (the server's start check and every /ready probe)
leaves nothing behind: on SQLite and PostgreSQL, hundreds of calls add no long-lived objects.

Why it matters: each call used to add an entry to the engine's compiled-statement cache, about 100
objects that live on (29,782 after 300 calls); a probed server's cache filled up, and every full garbage collection in that
worker then took 25-50 ms, stalling every request in flight."""

from __future__ import annotations

import gc

from spinepath.store.db import make_engine
from spinepath.store.migrate import current_revision, head_revision

CALLS = 300


def test_revision_checks_add_no_long_lived_objects(db_url: str) -> None:
    engine = make_engine(db_url)
    try:
        head = head_revision(db_url)
        assert current_revision(engine) == head  # the pool and caches are warm from here on
        gc.collect()
        before = len(gc.get_objects())
        for _ in range(CALLS):
            assert current_revision(engine) == head
        gc.collect()
        grown = len(gc.get_objects()) - before
        assert grown < CALLS, f"{grown} objects kept after {CALLS} revision checks"
    finally:
        engine.dispose()
