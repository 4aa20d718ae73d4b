"""The kit's background loop: on time, again at once while busy, through failures, until stopped."""

from __future__ import annotations

import asyncio

import pytest

from omnicase.devtools.testing.clock import ManualClock
from omnicase.kit.periodic import periodic

pytestmark = pytest.mark.asyncio


async def _settle() -> None:
    for _ in range(20):
        await asyncio.sleep(0)


async def test_a_job_runs_at_start_then_once_per_interval(clock: ManualClock) -> None:
    runs: list[int] = []

    async def job() -> None:
        runs.append(len(runs))

    loop = periodic("test", 60, job)
    try:
        await _settle()
        assert len(runs) == 1
        await clock.advance(59)
        await _settle()
        assert len(runs) == 1
        await clock.advance(1)
        await _settle()
        assert len(runs) == 2
    finally:
        await loop.stop()


async def test_a_busy_job_runs_again_at_once_and_a_failing_one_at_its_next_turn(clock: ManualClock) -> None:
    backlog = [500, 500, 120]
    failures: list[Exception] = []

    async def job() -> int:
        if not backlog:
            raise RuntimeError("database restarting")
        return backlog.pop(0)

    loop = periodic("test", 10, job, busy=lambda done: done == 500, on_error=failures.append)
    try:
        await _settle()
        assert backlog == [], "two full batches and the rest, without waiting"
        assert failures == []
        await clock.advance(10)
        await _settle()
        assert [str(error) for error in failures] == ["database restarting"]
        backlog.append(1)
        await clock.advance(10)
        await _settle()
        assert backlog == [], "the loop lives on after a failure"
    finally:
        await loop.stop()


async def test_wait_first_waits_one_interval_and_a_stopped_loop_runs_no_more(clock: ManualClock) -> None:
    runs = 0

    async def job() -> None:
        nonlocal runs
        runs += 1

    loop = periodic("test", 5, job, wait_first=True)
    await _settle()
    assert runs == 0
    await clock.advance(5)
    await _settle()
    assert runs == 1
    await loop.stop()
    await clock.advance(50)
    await _settle()
    assert runs == 1
