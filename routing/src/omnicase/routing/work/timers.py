"""The timer worker: fires due offer timeouts and overflows, ends agents' wrap-ups after calls, and
now and then pushes waiting work to agents with room for it.

Any number of replicas poll the ``timers`` table; ``FOR UPDATE SKIP LOCKED`` hands
each due timer to one of them, and timers that fell due while no replica ran fire
on the next poll.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from omnicase.kit.app import Runtime
from omnicase.kit.clock import get_clock
from omnicase.kit.outbox import Outbox
from omnicase.routing.models import outbox as outbox_table
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.voice.service import VoiceStatusService
from omnicase.routing.work.repository import WorkRepository
from omnicase.routing.work.service import RoutingService

if TYPE_CHECKING:
    from omnicase.routing.state import RoutingRuntime

logger = logging.getLogger(__name__)

SWEEP_AGENTS = 50


class TimerWorker:
    def __init__(self, runtime: Runtime[RoutingSettings, Any]) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.outbox = Outbox(outbox_table)
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    async def run_once(self) -> int:
        """Fire due offer timeouts and overflows, and end the wrap-ups that are over; how many."""
        async with self.runtime.database.unit_of_work() as session:
            routing = RoutingService(session, self.outbox, self.settings)
            fired = await routing.fire_due_timers(self.settings.timer_batch_size)
            return fired + await VoiceStatusService(routing).end_due_wrap_ups(self.settings.timer_batch_size)

    async def sweep(self) -> int:
        """Push waiting work to online agents who have room for it; each agent in its own
        transaction so a sweep holds at most one agent's row at a time."""
        async with self.runtime.database.unit_of_work() as session:
            agent_ids = await WorkRepository(session).agents_with_room(SWEEP_AGENTS)
        pushed = 0
        for agent_id in agent_ids:
            async with self.runtime.database.unit_of_work() as session:
                service = RoutingService(session, self.outbox, self.settings)
                pushed += await service.push_to_agent(agent_id, "periodic check: free capacity and waiting work")
        return pushed

    async def _loop(self) -> None:
        clock = get_clock()
        next_sweep = clock.monotonic() + self.settings.sweep_interval
        while True:
            try:
                fired = await self.run_once()
                if clock.monotonic() >= next_sweep:
                    next_sweep = clock.monotonic() + self.settings.sweep_interval
                    await self.sweep()
            except Exception:
                logger.exception("timer poll failed")
                fired = 0
            if fired < self.settings.timer_batch_size:
                await asyncio.sleep(self.settings.timer_poll_interval)

    def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name="routing-timers")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task


async def start_timer_worker(runtime: RoutingRuntime) -> Callable[[], Awaitable[None]]:
    worker = runtime.state.timers
    worker.start()
    return worker.stop


async def timer_worker_ready(runtime: RoutingRuntime) -> None:
    if not runtime.state.timers.running:
        raise RuntimeError("timer worker is not running")
