"""Background jobs run every so often from start-up until shutdown: one loop for every service.

A job that raises is logged and run again at its next turn (a database restarting, say);
the loop itself only ends when it is stopped. ``busy`` says from a job's result that work
is left (a full batch), so the next turn starts at once instead of after the interval.
``jitter`` spreads the turns of replicas started together. Time is the kit's clock, so a
test's manual clock drives these loops too.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Generic, TypeVar

from omnicase.kit.backoff import JITTER
from omnicase.kit.clock import get_clock

logger = logging.getLogger(__name__)

T = TypeVar("T")
Stop = Callable[[], Awaitable[None]]


@dataclass(eq=False)
class Periodic(Generic[T]):
    name: str
    every: float
    job: Callable[[], Awaitable[T]]
    busy: Callable[[T], bool] | None = None
    jitter: float = 0.0
    wait_first: bool = False
    on_error: Callable[[Exception], None] | None = None
    _task: asyncio.Task[None] | None = field(default=None, init=False)

    def start(self) -> Periodic[T]:
        self._task = asyncio.create_task(self._loop(), name=self.name)
        return self

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        clock = get_clock()
        if self.wait_first:
            await clock.sleep(self._interval())
        while True:
            try:
                result = await self.job()
            except asyncio.CancelledError:
                raise
            except Exception as error:
                logger.exception("background job failed; running it again next time", extra={"job": self.name})
                if self.on_error is not None:
                    self.on_error(error)
            else:
                if self.busy is not None and self.busy(result):
                    await asyncio.sleep(0)  # let the rest of the process run between full batches
                    continue
            await clock.sleep(self._interval())

    def _interval(self) -> float:
        return self.every * JITTER.uniform(1 - self.jitter, 1 + self.jitter) if self.jitter else self.every


def periodic(
    name: str,
    every: float,
    job: Callable[[], Awaitable[T]],
    *,
    busy: Callable[[T], bool] | None = None,
    jitter: float = 0.0,
    wait_first: bool = False,
    on_error: Callable[[Exception], None] | None = None,
) -> Periodic[T]:
    """Start ``job`` every ``every`` seconds (see the module); returns the running loop, to stop."""
    return Periodic(name, every, job, busy=busy, jitter=jitter, wait_first=wait_first, on_error=on_error).start()


def stop_all(loops: Sequence[Periodic[Any]], *, then: Callable[[], Awaitable[None]] | None = None) -> Stop:
    """One stop for a background part's loops, each in turn, then ``then`` (a client they shared)."""

    async def stop() -> None:
        for loop in loops:
            await loop.stop()
        if then is not None:
            await then()

    return stop
