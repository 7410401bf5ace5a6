"""Who is calling: bearer tokens, a short in-process token cache, roles and the login limiter.

Token cache window: a token's user (id, name, role, patient link) is cached in the process for
``TOKEN_CACHE_SECONDS`` (5 s) after a database lookup, so that /assess does not hit the database
on every call. A user disabled (or a token revoked) elsewhere loses access within that window;
logout and disabling through this process's API take effect at once.

Under steady use no request waits for the database: an entry past half its window is refreshed
in the background while the cached answer, still inside its window, is served; and requests that
miss together share one lookup. Before this, every 5 s all requests in flight with a busy token
missed at once, each ran its own lookup in the thread pool, and those threads queued for the
interpreter lock behind CPU-bound assessments: up to 0.9 s for the unlucky requests, which was
the p99 of the /assess benchmark (docs/performance.md §2).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool

from spinepath.store import models as m
from spinepath.store import repo

TOKEN_CACHE_SECONDS = 5.0

log = logging.getLogger("spinepath.api")


@dataclass(frozen=True)
class Principal:
    """The signed-in user, as the API needs it."""

    user_id: int
    username: str
    role: str
    patient_id: str | None
    expires_at: datetime

    def actor(self, client: str | None) -> repo.Actor:
        return repo.Actor(self.user_id, self.username, self.role, self.patient_id, client)


def _key(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


class TokenCache:
    """token -> Principal, each entry trusted for ``ttl`` seconds (and never past token expiry)."""

    def __init__(self, sessions: sessionmaker[Session], ttl: float = TOKEN_CACHE_SECONDS,
                 max_entries: int = 50_000, clock: Callable[[], float] = time.monotonic) -> None:
        self.sessions = sessions
        self.ttl = ttl
        self.max_entries = max_entries
        self.clock = clock
        self._entries: dict[str, tuple[Principal, float]] = {}
        self._pending: dict[str, asyncio.Task[Principal | None]] = {}
        #: raised by every logout and disable; a lookup that read the database before one of
        #: them may have read the old answer, so it reads again instead of caching it
        self._generation = 0

    def cached(self, token: str) -> Principal | None:
        """The cached principal, if the entry is fresh; no database access."""
        hit = self._fresh(_key(token))
        return hit[0] if hit else None

    def _fresh(self, key: str) -> tuple[Principal, bool] | None:
        """(principal, due for refresh) for a usable entry; a stale one is dropped."""
        hit = self._entries.get(key)
        if hit is None:
            return None
        principal, until = hit
        now = self.clock()
        if now >= until or principal.expires_at <= datetime.now(UTC):
            self._entries.pop(key, None)
            return None
        return principal, now >= until - self.ttl / 2

    def lookup(self, token: str) -> Principal | None:
        """Ask the database (blocking); cache a valid answer, forget an invalid one."""
        key = _key(token)
        while True:
            generation, started = self._generation, self.clock()
            principal = self._read(token, key)
            if principal is None:
                self._entries.pop(key, None)
                return None
            if len(self._entries) >= self.max_entries:
                self._entries.clear()
            self._entries[key] = (principal, started + self.ttl)  # the window runs from the read
            if generation == self._generation:
                return principal  # no logout or disable since the read began: the answer stands
            self._entries.pop(key, None)  # one did (its forget may have run before our store)

    def _read(self, token: str, key: str) -> Principal | None:
        with self.sessions() as s:
            user = repo.user_for_token(s, token)
            if user is None:
                return None
            row = s.get(m.Token, key)
            expires = _aware(row.expires_at) if row is not None else datetime.now(UTC)
            return Principal(user.id, user.username, user.role, user.patient_id, expires)

    async def principal(self, token: str) -> Principal | None:
        """The caller behind ``token``: from the cache when fresh, else from one shared lookup."""
        key = _key(token)
        hit = self._fresh(key)
        if hit is not None:
            principal, refresh = hit
            if refresh:
                self._lookup_task(key, token)  # in the background; this request goes on
            return principal
        return await asyncio.shield(self._lookup_task(key, token))

    def _lookup_task(self, key: str, token: str) -> asyncio.Task[Principal | None]:
        """The lookup already running for this token on this loop, or a new one."""
        loop = asyncio.get_running_loop()
        task = self._pending.get(key)
        if task is None or task.done() or task.get_loop() is not loop:
            task = loop.create_task(run_in_threadpool(self.lookup, token))
            self._pending[key] = task
            task.add_done_callback(lambda t: self._lookup_done(key, t))
        return task

    def _lookup_done(self, key: str, task: asyncio.Task[Principal | None]) -> None:
        if self._pending.get(key) is task:
            del self._pending[key]
        if not task.cancelled() and (exc := task.exception()) is not None:
            # Waiting requests get the error themselves; a background refresh only logs its type
            # (a database message can quote data). The entry stays valid until its window ends.
            log.warning("token lookup failed: %s", type(exc).__name__)

    def forget_token(self, token: str) -> None:
        """After a logout is committed: drop the entry and make lookups in flight read again."""
        self._generation += 1
        self._pending.pop(_key(token), None)
        self._entries.pop(_key(token), None)

    def forget_user(self, user_id: int) -> None:
        """After an account is disabled (committed): as forget_token, for all of its tokens."""
        self._generation += 1
        self._pending.clear()
        for key, (principal, _) in list(self._entries.items()):
            if principal.user_id == user_id:
                self._entries.pop(key, None)


class LoginLimiter:
    """At most ``per_minute`` login attempts (failed or not) per (username, client) in any 60 s."""

    WINDOW = 60.0

    def __init__(self, per_minute: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.per_minute = per_minute
        self.clock = clock
        self._lock = threading.Lock()
        self._hits: dict[tuple[str, str], deque[float]] = {}

    def hit(self, username: str, client: str | None) -> int | None:
        """Record an attempt; if the limit is already reached return the seconds to wait instead."""
        key = (username.casefold(), client or "")
        now = self.clock()
        with self._lock:
            if len(self._hits) > 100_000:
                self._prune(now)
            hits = self._hits.setdefault(key, deque())
            while hits and hits[0] <= now - self.WINDOW:
                hits.popleft()
            if len(hits) >= self.per_minute:
                return max(1, int(hits[0] + self.WINDOW - now + 0.999))
            hits.append(now)
            return None

    def _prune(self, now: float) -> None:
        for key, hits in list(self._hits.items()):
            if not hits or hits[-1] <= now - self.WINDOW:
                del self._hits[key]
