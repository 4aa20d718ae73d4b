"""The coalescer: what arrives while a round trip is in flight goes in the next, each answered."""

from __future__ import annotations

import asyncio

import pytest

from omnicase.kit.coalesce import Coalescer, CoalescerClosed

pytestmark = pytest.mark.asyncio


async def test_requests_arriving_during_a_round_trip_go_together_in_the_next_each_with_its_answer() -> None:
    batches: list[list[int]] = []
    release = asyncio.Event()

    async def run(requests: list[int]) -> list[int]:
        batches.append(requests)
        if len(batches) == 1:
            await release.wait()
        return [request * 10 for request in requests]

    coalescer = Coalescer(run, name="test")
    first = asyncio.create_task(coalescer.submit(1))
    await asyncio.sleep(0)
    others = [asyncio.create_task(coalescer.submit(n)) for n in (2, 3, 4)]
    await asyncio.sleep(0)
    release.set()
    assert await first == 10
    assert await asyncio.gather(*others) == [20, 30, 40]
    assert batches == [[1], [2, 3, 4]]


async def test_a_failed_round_trip_fails_its_own_requests_only() -> None:
    async def run(requests: list[int]) -> list[int]:
        if 0 in requests:
            raise RuntimeError("store away")
        return requests

    coalescer = Coalescer(run, name="test")
    with pytest.raises(RuntimeError):
        await coalescer.submit(0)
    assert await coalescer.submit(5) == 5


async def test_a_caller_giving_up_does_not_cancel_the_others_and_closing_tells_who_waits() -> None:
    release = asyncio.Event()

    async def run(requests: list[int]) -> list[int]:
        await release.wait()
        return requests

    coalescer = Coalescer(run, name="test")
    impatient = asyncio.create_task(coalescer.submit(1))
    patient = asyncio.create_task(coalescer.submit(2))
    await asyncio.sleep(0)
    impatient.cancel()
    release.set()
    assert await patient == 2
    release.clear()
    waiting = asyncio.create_task(coalescer.submit(3))
    await asyncio.sleep(0)
    await coalescer.close()
    with pytest.raises(CoalescerClosed):
        await waiting
