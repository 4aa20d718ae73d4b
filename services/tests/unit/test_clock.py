"""The controllable clock wakes sleepers only when driven past their deadline."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pytest

from omnicase.devtools.testing.clock import ManualClock


@pytest.mark.asyncio
async def test_sleeper_wakes_when_the_clock_passes_its_deadline() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    sleeper = asyncio.create_task(clock.sleep(60))
    await asyncio.sleep(0)  # let the sleeper take its deadline
    await clock.advance(59)
    assert not sleeper.done()
    await clock.advance(1)
    await asyncio.wait_for(sleeper, timeout=1)


@pytest.mark.asyncio
async def test_clock_refuses_to_go_backwards() -> None:
    clock = ManualClock(datetime(2026, 1, 1, tzinfo=UTC))
    with pytest.raises(ValueError, match="backwards"):
        await clock.set(datetime(2025, 1, 1, tzinfo=UTC))
