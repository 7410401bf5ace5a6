"""Who is calling: bearer tokens, a short in-process token cache, roles and the login limiter.

Token cache window: a token's user (id, name, role, patient link) is cached in the process for
``TOKEN_CACHE_SECONDS`` (5 s) after a database lookup, so that /assess does not hit the database
on every call. A user disabled (or a token revoked) elsewhere loses access within that window;
logout and disabling through this process's API take effect at once.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from spinepath.store import models as m
from spinepath.store import repo

TOKEN_CACHE_SECONDS = 5.0


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

    def cached(self, token: str) -> Principal | None:
        """The cached principal, if the entry is fresh; no database access."""
        hit = self._entries.get(_key(token))
        if hit is None:
            return None
        principal, until = hit
        if self.clock() >= until or principal.expires_at <= datetime.now(UTC):
            self._entries.pop(_key(token), None)
            return None
        return principal

    def lookup(self, token: str) -> Principal | None:
        """Ask the database (blocking); cache a valid answer."""
        with self.sessions() as s:
            user = repo.user_for_token(s, token)
            if user is None:
                return None
            row = s.get(m.Token, _key(token))
            expires = _aware(row.expires_at) if row is not None else datetime.now(UTC)
            principal = Principal(user.id, user.username, user.role, user.patient_id, expires)
        if len(self._entries) >= self.max_entries:
            self._entries.clear()
        self._entries[_key(token)] = (principal, self.clock() + self.ttl)
        return principal

    def forget_token(self, token: str) -> None:
        self._entries.pop(_key(token), None)

    def forget_user(self, user_id: int) -> None:
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
