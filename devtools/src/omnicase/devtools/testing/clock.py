"""The clock tests drive: time moves only when a test says so (install it with ``set_clock``).

Sleepers on it wake when time passes their deadline, so a test runs an SLA timer, a retry
backoff or a periodic loop to its next step without waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from omnicase.kit.clock import set_clock

# Monday 2 March 2026, 09:00 UTC: tests reason in whole office hours from here.
MONDAY_MORNING = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class ManualClock:
    """A clock that moves only by :meth:`advance` or :meth:`set`."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
        self._start = self._now
        self._changed = asyncio.Condition()

    def now(self) -> datetime:
        return self._now

    def monotonic(self) -> float:
        return (self._now - self._start).total_seconds()

    async def sleep(self, seconds: float) -> None:
        deadline = self._now + timedelta(seconds=max(0.0, seconds))
        async with self._changed:
            await self._changed.wait_for(lambda: self._now >= deadline)

    async def advance(self, seconds: float) -> None:
        await self.set(self._now + timedelta(seconds=seconds))

    async def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("ManualClock needs timezone-aware datetimes")
        if moment < self._now:
            raise ValueError("ManualClock does not go backwards")
        async with self._changed:
            self._now = moment
            self._changed.notify_all()
        await asyncio.sleep(0)


@contextmanager
def installed_clock(start: datetime | None = None) -> Iterator[ManualClock]:
    """A :class:`ManualClock` from ``start`` as the kit's clock inside the block; the previous one after it."""
    manual = ManualClock(start)
    previous = set_clock(manual)
    try:
        yield manual
    finally:
        set_clock(previous)
