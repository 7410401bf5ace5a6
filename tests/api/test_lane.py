"""The compute lane serves CPU-bound jobs first come, first served, one at a time, and lets the
event loop run between jobs (so requests that arrive meanwhile are queued, not starved)."""

from __future__ import annotations

import asyncio

import pytest

from spinepath.api.lane import ComputeLane


def test_jobs_run_in_arrival_order_with_the_loop_turning_between_them() -> None:
    lane = ComputeLane()
    ran: list[str] = []
    ticks = 0

    async def ticker() -> None:
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)

    def job(name: str) -> str:
        ran.append(f"{name}@{ticks}")
        return name

    async def flow() -> list[str]:
        tick = asyncio.create_task(ticker())
        first = [asyncio.create_task(lane.run(job, f"a{i}")) for i in range(4)]
        await asyncio.sleep(0)  # the first batch is queued; a late arrival joins behind it
        late = asyncio.create_task(lane.run(job, "late"))
        results = await asyncio.gather(*first, late)
        tick.cancel()
        return results

    assert asyncio.run(flow()) == ["a0", "a1", "a2", "a3", "late"]
    assert [r.split("@")[0] for r in ran] == ["a0", "a1", "a2", "a3", "late"]
    at = [int(r.split("@")[1]) for r in ran]
    assert all(b > a for a, b in zip(at, at[1:], strict=False)), f"the loop must turn between jobs: {ran}"


def test_an_error_in_a_job_reaches_its_caller_and_frees_the_lane() -> None:
    lane = ComputeLane()

    def boom() -> None:
        raise ValueError("bad case")

    async def flow() -> str:
        with pytest.raises(ValueError, match="bad case"):
            await lane.run(boom)
        return await lane.run(str.upper, "next")

    assert asyncio.run(flow()) == "NEXT"


def test_each_event_loop_gets_its_own_queue() -> None:
    lane = ComputeLane()
    assert asyncio.run(lane.run(len, "abc")) == 3
    assert asyncio.run(lane.run(len, "abcd")) == 4  # a new loop: no lock bound to the old one
