"""Keep clients spread evenly over the worker processes of one server.

Why: with ``--workers N`` the processes share one listening socket and the kernel decides, at
connect time, which one serves a keep-alive connection for its whole life. A worker serves its
clients first come, first served (see lane.py), so a client's latency grows with the number of
clients its worker holds: with 32 clients on 2 workers we measured splits from 16/16 to 24/8, and
the p99 of a run followed the split (docs/performance.md §2). Every connection to the port is
visible in /proc/net/tcp, so each worker can count the clients on the port and its own share. A
worker holding more than its fair share closes one connection after a response
(``Connection: close``); that client reconnects and may land elsewhere. Repeated, the split
settles at the fair share, typically within a second of 32 clients connecting. A closed
keep-alive connection is ordinary HTTP: clients reconnect.

Linux only (elsewhere, or with one worker, nothing is done). The census costs about 0.1 ms; it
runs at most twice a second per worker, and before each further shed while over share.
"""

from __future__ import annotations

import math
import os
import time
from collections.abc import Callable
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ESTABLISHED = "01"
CENSUS_EVERY_S = 0.5
#: at most one connection closed per this interval (then a recount), so a worker sheds gradually
SHED_EVERY_S = 0.01


def port_connections(port: int, net: Path = Path("/proc/net")) -> set[int]:
    """Socket inodes of established connections whose local port is ``port`` (server side)."""
    inodes: set[int] = set()
    for name in ("tcp", "tcp6"):
        try:
            lines = (net / name).read_text().splitlines()[1:]
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) > 9 and f[3] == ESTABLISHED and int(f[1].rsplit(":", 1)[1], 16) == port:
                inodes.add(int(f[9]))
    return inodes


def own_sockets(fd_dir: Path = Path("/proc/self/fd")) -> set[int]:
    """Socket inodes this process holds."""
    out: set[int] = set()
    try:
        names = os.listdir(fd_dir)
    except OSError:
        return out
    for name in names:
        try:
            target = os.readlink(fd_dir / name)
        except OSError:
            continue
        if target.startswith("socket:["):
            out.add(int(target[8:-1]))
    return out


def over_share(mine: int, total: int, workers: int) -> bool:
    """More clients here than an even split would give any worker."""
    return workers > 1 and mine > math.ceil(total / workers)


class Census:
    """This worker's clients and all clients on the port, refreshed at most every CENSUS_EVERY_S."""

    def __init__(self, workers: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.workers = workers
        self.clock = clock
        self.enabled = workers > 1 and Path("/proc/net/tcp").exists()
        self._next_census = 0.0
        self._next_shed = 0.0
        self._over = False

    def shed_now(self, port: int) -> bool:
        """Whether to close the connection whose response is being sent."""
        if not self.enabled:
            return False
        now = self.clock()
        if now >= self._next_census:
            self._next_census = now + CENSUS_EVERY_S
            on_port = port_connections(port)
            self._over = over_share(len(on_port & own_sockets()), len(on_port), self.workers)
        if self._over and now >= self._next_shed:
            self._next_shed = now + SHED_EVERY_S
            self._next_census = now  # recount before shedding another
            return True
        return False


class Balance:
    """Pure ASGI middleware: adds ``Connection: close`` when this worker holds too many clients."""

    def __init__(self, app: ASGIApp, workers: int) -> None:
        self.app = app
        self.census = Census(workers)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        server = scope.get("server")
        if scope["type"] != "http" or not self.census.enabled or not server or server[1] is None:
            await self.app(scope, receive, send)
            return
        port = int(server[1])

        async def balanced_send(message: Message) -> None:
            if message["type"] == "http.response.start" and self.census.shed_now(port):
                message = {**message, "headers": [*message.get("headers", []), (b"connection", b"close")]}
            await send(message)

        await self.app(scope, receive, balanced_send)
