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

Linux only (elsewhere, or with one worker, nothing is done). The census asks the kernel through a
sock_diag netlink socket for the established connections on the port (about 0.3 ms here); it
runs at most twice a second per worker, and before each further shed while over share. Reading
/proc/net/tcp and tcp6 instead cost about 9 ms on this machine: each file's read walks the
kernel's whole 262,144-bucket connection table more than once (about 2.3 ms a walk), and the read
blocked the event loop, so every request in flight waited for it. /proc is kept only as the
fallback for an address family whose netlink dump is refused.
"""

from __future__ import annotations

import math
import os
import socket
import struct
import time
from collections.abc import Callable
from pathlib import Path

from starlette.types import ASGIApp, Message, Receive, Scope, Send

ESTABLISHED = "01"
CENSUS_EVERY_S = 0.5
#: at most one connection closed per this interval (then a recount), so a worker sheds gradually
SHED_EVERY_S = 0.01


#: linux/netlink.h, linux/sock_diag.h, linux/inet_diag.h
NETLINK_SOCK_DIAG = 4
SOCK_DIAG_BY_FAMILY = 20
NLM_F_REQUEST, NLM_F_DUMP = 0x1, 0x300
NLMSG_ERROR, NLMSG_DONE = 2, 3
TCP_ESTABLISHED = 1
_NLMSG = struct.Struct("=IHHII")  # nlmsghdr: len, type, flags, seq, pid
#: inet_diag_req_v2: family, protocol, ext, pad, states, then the sockid: source port (network
#: byte order, as htons gives it in native order), destination port, addresses, interface, cookie
_REQ = struct.Struct("=BBBBIH46x")
_SPORT = struct.Struct(">H")  # inet_diag_msg: 4 bytes, then the sockid (source port first)
_INODE = struct.Struct("=I")  # inet_diag_msg: at byte 68, after expires, rqueue, wqueue, uid
_ERRNO = struct.Struct("=i")  # NLMSG_DONE's payload: 0, or a negative errno if the dump failed


def port_connections(port: int) -> set[int]:
    """Socket inodes of established connections whose local port is ``port`` (server side)."""
    inodes: set[int] = set()
    for family, proc_file in ((socket.AF_INET, "tcp"), (socket.AF_INET6, "tcp6")):
        try:
            inodes |= _diag_established(port, family)
        except (OSError, struct.error):  # no sock_diag for this family here, or a garbled reply
            inodes |= _proc_established(port, names=(proc_file,))
    return inodes


def _diag_established(port: int, family: int, protocol: int = socket.IPPROTO_TCP) -> set[int]:
    """Ask the kernel for the established TCP sockets of ``family`` on local port ``port``.

    The kernel filters on the port given in the request's sockid; the port is checked again
    here. A failed dump ends in NLMSG_ERROR, or in NLMSG_DONE carrying a negative errno.
    """
    req = _REQ.pack(family, protocol, 0, 0, 1 << TCP_ESTABLISHED, socket.htons(port))
    inodes: set[int] = set()
    with socket.socket(socket.AF_NETLINK, socket.SOCK_DGRAM, NETLINK_SOCK_DIAG) as nl:
        nl.settimeout(1.0)
        nl.sendall(_NLMSG.pack(_NLMSG.size + len(req), SOCK_DIAG_BY_FAMILY, NLM_F_REQUEST | NLM_F_DUMP, 1, 0) + req)
        while True:
            data = nl.recv(1 << 16)
            if not data:
                raise OSError("sock_diag: the dump ended without NLMSG_DONE")
            off = 0
            while off + _NLMSG.size <= len(data):
                length, kind = _NLMSG.unpack_from(data, off)[:2]
                if length < _NLMSG.size:
                    raise OSError("sock_diag: malformed message")
                body = off + _NLMSG.size
                if kind == NLMSG_DONE:
                    if len(data) >= body + _ERRNO.size and _ERRNO.unpack_from(data, body)[0] < 0:
                        raise OSError("sock_diag: the dump failed")
                    return inodes
                if kind == NLMSG_ERROR:
                    raise OSError("sock_diag refused the dump")
                if kind == SOCK_DIAG_BY_FAMILY and _SPORT.unpack_from(data, body + 4)[0] == port:
                    inodes.add(_INODE.unpack_from(data, body + 68)[0])
                off += (length + 3) & ~3


def _proc_established(port: int, net: Path = Path("/proc/net"), names: tuple[str, ...] = ("tcp", "tcp6")) -> set[int]:
    """The same from /proc/net/tcp{,6}: slow (see the module docstring), for where netlink is refused."""
    inodes: set[int] = set()
    for name in names:
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
