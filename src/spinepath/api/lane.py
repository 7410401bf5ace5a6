"""The compute lane: CPU-bound request work, one job at a time per process, in arrival order.

Why a lane: an assessment is about 1.5 ms of pure Python. Run inline in each request's task, all
requests read in one poll of the event loop ran back to back, and a connection whose next
request arrived just after that poll waited for the whole following batch too; with 16 clients
per worker two connections were served at 57 % of the others' rate, and p99 was twice p50. Run
on a thread, it fought the event loop for the GIL: responses waited for the loop thread in
bursts (p99 1.6 × p50), and a shorter switch interval made every job slower. In the lane, jobs
queue on a FIFO lock and each job first yields once to the loop, so requests that arrived while
the previous job ran are read and queued behind it before it starts. Service is then
first-come, first-served: at 16 clients per worker p99 is within 15 % of p50
(docs/performance.md §2). Other requests (health checks, reads) wait at most one job.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import Callable
from typing import ParamSpec, TypeVar

P = ParamSpec("P")
T = TypeVar("T")


class ComputeLane:
    """First-come, first-served CPU work on the running event loop (one lock per loop)."""

    def __init__(self) -> None:
        # asyncio locks belong to one loop; a test client may run each request on a new one.
        self._locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = (
            weakref.WeakKeyDictionary())

    async def run(self, fn: Callable[P, T], *args: P.args, **kwargs: P.kwargs) -> T:
        loop = asyncio.get_running_loop()
        lock = self._locks.get(loop)
        if lock is None:
            lock = self._locks[loop] = asyncio.Lock()
        async with lock:
            await asyncio.sleep(0)  # requests that arrived meanwhile join the queue before this runs
            return fn(*args, **kwargs)
