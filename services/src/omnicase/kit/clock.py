"""The suite's one source of time.

Everything that reads the time (timestamps, SLA timers, retry backoff, outbox
ages) asks the kit's clock, so tests can drive time instead of sleeping.
Tests install a clock that moves only when told to
(:class:`omnicase.devtools.testing.clock.ManualClock`) with :func:`set_clock`.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...

    def monotonic(self) -> float:
        """Seconds on a clock that never goes backwards (for durations)."""
        ...

    async def sleep(self, seconds: float) -> None:
        """Wait until ``seconds`` of this clock's time have passed."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)

    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))


_clock: Clock = SystemClock()


def get_clock() -> Clock:
    return _clock


def set_clock(clock: Clock) -> Clock:
    """Install ``clock`` for the process; returns the previous one so tests can restore it."""
    global _clock
    previous, _clock = _clock, clock
    return previous


def utcnow() -> datetime:
    return _clock.now()
