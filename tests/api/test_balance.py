"""Spreading clients over worker processes: the census reads real sockets, a worker over its
share closes connections after responding, and clients of a real two-worker server end evenly
spread without a single failed request."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path

import httpx
import pytest

from spinepath.api.balance import (
    SHED_EVERY_S,
    Census,
    _diag_established,
    _proc_established,
    over_share,
    own_sockets,
    port_connections,
)
from tests.support.server import cli, make_env, running_server

pytestmark = pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="needs Linux /proc")


@contextmanager
def connected_pairs(n: int, host: str = "127.0.0.1") -> Iterator[tuple[int, list[socket.socket]]]:
    """A listening port with ``n`` connections accepted in this process: (port, accepted sockets)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with ExitStack() as stack:
        server = stack.enter_context(socket.create_server((host, 0), family=family))
        port = server.getsockname()[1]
        accepted = []
        for _ in range(n):
            stack.enter_context(socket.create_connection((host, port)))
            conn, _ = server.accept()
            accepted.append(stack.enter_context(conn))
        yield port, accepted


def test_census_counts_established_connections_on_the_port_and_which_are_ours() -> None:
    with connected_pairs(3) as (port, accepted):
        on_port = port_connections(port)
        assert len(on_port) == 3  # server ends only: the clients' local ports differ
        assert on_port <= own_sockets()
        accepted[0].close()
        assert len(port_connections(port)) == 2


def _has_ipv6_loopback() -> bool:
    try:
        with socket.create_server(("::1", 0), family=socket.AF_INET6):
            return True
    except OSError:
        return False


@pytest.mark.parametrize("host", [
    "127.0.0.1",
    pytest.param("::1", marks=pytest.mark.skipif(not _has_ipv6_loopback(), reason="no IPv6 loopback")),
])
def test_the_kernel_query_and_the_proc_file_see_the_same_connections(host: str) -> None:
    # The census asks sock_diag; /proc/net/tcp is its fallback. Both must name the same sockets.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with connected_pairs(4, host) as (port, _):
        fast = _diag_established(port, family)
        assert len(fast) == 4
        assert fast == _proc_established(port) == port_connections(port)
        assert fast <= own_sockets()


def test_a_dump_the_kernel_refuses_is_an_error_not_an_empty_port() -> None:
    # A failed dump may end in NLMSG_DONE with a negative errno; read as "no connections", it
    # would switch balancing off instead of falling back to /proc.
    with connected_pairs(2) as (port, _), pytest.raises(OSError):
        _diag_established(port, socket.AF_INET, protocol=200)  # no sock_diag handler for it


@pytest.mark.parametrize(("mine", "total", "workers", "over"), [
    (16, 32, 2, False), (17, 32, 2, True), (24, 32, 2, True), (17, 33, 2, False),
    (32, 32, 1, False), (9, 32, 4, True), (8, 32, 4, False), (0, 0, 2, False),
])
def test_over_share(mine: int, total: int, workers: int, over: bool) -> None:
    assert over_share(mine, total, workers) is over


def test_a_worker_over_its_share_sheds_one_connection_at_a_time() -> None:
    clock = [0.0]
    census = Census(workers=2, clock=lambda: clock[0])
    with connected_pairs(3) as (port, _):  # this process holds 3 of 3: its share is 2
        assert census.shed_now(port) is True
        assert census.shed_now(port) is False, "one shed per interval"
        clock[0] += SHED_EVERY_S
        assert census.shed_now(port) is True
    alone = Census(workers=1, clock=lambda: clock[0])
    with connected_pairs(3) as (port, _):
        assert alone.shed_now(port) is False  # a single worker never sheds


def worker_split(supervisor: int, port: int) -> list[int]:
    children = Path(f"/proc/{supervisor}/task/{supervisor}/children").read_text().split()
    workers = [pid for pid in children  # not multiprocessing's resource tracker
               if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()]
    on_port = port_connections(port)
    return sorted((len(on_port & own_sockets(Path(f"/proc/{pid}/fd"))) for pid in workers), reverse=True)


def test_clients_of_a_two_worker_server_end_evenly_spread(tmp_path: Path) -> None:
    env = make_env(f"sqlite:///{tmp_path / 'spinepath.db'}", tmp_path)
    cli(env, "db", "upgrade")
    failures: list[str] = []
    served = [0]
    stop = threading.Event()

    def client(base: str) -> None:
        with httpx.Client(base_url=base, limits=httpx.Limits(max_connections=1), timeout=10) as c:
            while not stop.is_set():
                r = c.get("/health")
                if r.status_code != 200:
                    failures.append(str(r.status_code))
                served[0] += 1

    with running_server(env, workers=2) as server:
        port = int(server.base.rsplit(":", 1)[1])
        threads = [threading.Thread(target=client, args=(server.base,)) for _ in range(12)]
        for t in threads:
            t.start()
        try:
            deadline = time.monotonic() + 20
            split = worker_split(server.proc.pid, port)
            while time.monotonic() < deadline and split != [6, 6]:
                time.sleep(0.5)
                split = worker_split(server.proc.pid, port)
        finally:
            stop.set()
            for t in threads:
                t.join(timeout=10)
    assert split == [6, 6]
    assert not failures and served[0] > 100
