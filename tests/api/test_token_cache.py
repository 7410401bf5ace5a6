"""The token cache under concurrency: one database lookup per token however many requests miss
together, refreshes that no request waits for, and revocation still seen within the window.

The lookups are counted as SQL statements on a real database (SQLite, and PostgreSQL when
configured), not by replacing the cache's own code."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from dataclasses import dataclass

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker

from spinepath.api.security import TokenCache
from spinepath.store import repo
from spinepath.store.db import make_engine, make_sessionmaker

from .conftest import PASSWORD


@dataclass
class Setup:
    cache: TokenCache
    token: str
    sessions: sessionmaker[Session]
    clock: list[float]
    statements: list[str]

    def lookups(self) -> int:
        """Token lookups so far: each reads the users table once (and the tokens table twice)."""
        return sum(1 for s in self.statements if "FROM users" in s)


@pytest.fixture
def setup(db_url: str) -> Iterator[Setup]:
    engine: Engine = make_engine(db_url)
    sessions = make_sessionmaker(engine)
    with sessions() as s, s.begin():
        user = repo.create_user(s, "cache.user", PASSWORD, "clinician")
        token, _ = repo.issue_token(s, user, 60)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute",
                 lambda _c, _cur, statement, *_a: statements.append(statement))
    clock = [100.0]
    try:
        yield Setup(TokenCache(sessions, ttl=5.0, clock=lambda: clock[0]), token, sessions, clock, statements)
    finally:
        engine.dispose()


def test_lookup_statement_is_recognised(setup: Setup) -> None:
    """The counter below must see a lookup, or every 'one lookup' assertion would be vacuous."""
    assert setup.cache.lookup(setup.token) is not None
    assert setup.lookups() == 1


def test_requests_that_miss_together_share_one_lookup(setup: Setup) -> None:
    async def burst() -> list[str | None]:
        found = await asyncio.gather(*(setup.cache.principal(setup.token) for _ in range(16)))
        return [p.username if p else None for p in found]

    assert asyncio.run(burst()) == ["cache.user"] * 16
    assert setup.lookups() == 1
    # After the window, a second burst again costs one lookup, not sixteen.
    setup.clock[0] += 5.1
    assert asyncio.run(burst()) == ["cache.user"] * 16
    assert setup.lookups() == 2


def test_a_busy_token_is_refreshed_without_anyone_waiting(setup: Setup) -> None:
    cache = setup.cache

    async def flow() -> None:
        assert (await cache.principal(setup.token)) is not None
        assert setup.lookups() == 1
        setup.clock[0] += 3.0  # past half the window: still valid, due for refresh
        principal = await cache.principal(setup.token)
        assert principal is not None and principal.username == "cache.user"
        pending = list(cache._pending.values())
        assert len(pending) == 1, "the refresh runs in the background"
        await asyncio.gather(*pending)
        assert setup.lookups() == 2
        setup.clock[0] += 3.0  # 6 s after the first lookup, 3 s after the refresh
        assert (await cache.principal(setup.token)) is not None
        assert setup.lookups() == 2, "the refreshed entry answers without the database"

    asyncio.run(flow())


def test_a_refresh_sees_a_revoked_account(setup: Setup) -> None:
    cache = setup.cache

    async def flow() -> None:
        assert (await cache.principal(setup.token)) is not None
        with setup.sessions() as s, s.begin():
            repo.set_disabled(s, "cache.user")
        setup.clock[0] += 3.0
        # Inside the window the cached answer stands (the documented 5 s), but the refresh it
        # starts finds the account disabled and drops the entry: the next request is refused.
        assert (await cache.principal(setup.token)) is not None
        await asyncio.gather(*cache._pending.values())
        assert cache.cached(setup.token) is None
        assert (await cache.principal(setup.token)) is None

    asyncio.run(flow())


def test_an_entry_is_never_used_past_its_window(setup: Setup) -> None:
    cache = setup.cache

    async def flow() -> None:
        assert (await cache.principal(setup.token)) is not None
        with setup.sessions() as s, s.begin():
            repo.set_disabled(s, "cache.user")
        setup.clock[0] += 5.0  # no request in between, so no refresh: the entry just expires
        assert cache.cached(setup.token) is None
        assert (await cache.principal(setup.token)) is None

    asyncio.run(flow())


def test_a_lookup_that_read_before_a_logout_does_not_bring_the_token_back(setup: Setup) -> None:
    """The lookup reads the user, then (held here) a logout commits and clears the cache; the
    lookup's now-stale answer must not be cached or returned."""
    cache = setup.cache
    read_done, logout_done = threading.Event(), threading.Event()

    def hold_after_the_read(*_a: object) -> None:  # the read's transaction has ended (no locks held)
        if not read_done.is_set():
            read_done.set()
            assert logout_done.wait(10)

    event.listen(setup.sessions, "after_transaction_end", hold_after_the_read)
    answer: list[object] = []
    lookup = threading.Thread(target=lambda: answer.append(cache.lookup(setup.token)))
    lookup.start()
    assert read_done.wait(10)
    with setup.sessions() as s, s.begin():
        repo.revoke_token(s, setup.token)
    cache.forget_token(setup.token)
    logout_done.set()
    lookup.join(10)
    assert answer == [None]
    assert cache.cached(setup.token) is None
