"""The timer worker as the app runs it (SLA thresholds, automations and webhook deliveries), and sla-engine's state."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.app import Runtime
from omnicase.kit.clock import utcnow
from omnicase.kit.outbox import Outbox
from omnicase.sla_engine.actions import WEBHOOK_TIMER
from omnicase.sla_engine.automations.runner import AUTOMATION_TIMER
from omnicase.sla_engine.events_out import EventSink
from omnicase.sla_engine.resync import RESYNC_TIMER
from omnicase.sla_engine.scheduler.repository import ClaimedTimer, TimerRepository
from omnicase.sla_engine.scheduler.worker import TimerKind, TimerWorker, WorkerConfig
from omnicase.sla_engine.settings import SlaEngineSettings
from omnicase.sla_engine.tracking.repository import TrackingRepository
from omnicase.sla_engine.tracking.service import SLA_TIMER, TrackingService
from omnicase.sla_engine.webhooks import USER_AGENT, WebhookSender

RESYNC_PAGE = 200


@dataclass(frozen=True)
class SlaEngineState:
    # None when this process runs no scheduler (``scheduler_enabled`` off).
    timers: TimerWorker | None


SlaEngineRuntime = Runtime[SlaEngineSettings, SlaEngineState]


@asynccontextmanager
async def sla_engine_state(runtime: Runtime[SlaEngineSettings, Any]) -> AsyncIterator[SlaEngineState]:
    settings = runtime.settings
    if not settings.scheduler_enabled:
        yield SlaEngineState(timers=None)
        return
    client = httpx.AsyncClient(timeout=settings.webhook_timeout, headers={"User-Agent": USER_AGENT})
    try:
        yield SlaEngineState(timers=build_worker(runtime, runtime.outbox, client))
    finally:
        await client.aclose()


def build_worker(runtime: Runtime[SlaEngineSettings, Any], outbox: Outbox, client: httpx.AsyncClient) -> TimerWorker:
    settings = runtime.settings
    sender = WebhookSender(client)

    async def fire_threshold(session: AsyncSession, timer: ClaimedTimer, events: EventSink) -> None:
        milestone_id = uuid.UUID(str(timer.payload["milestone_id"]))
        await TrackingService(session, events).fire_threshold(milestone_id, str(timer.payload["level"]), utcnow())

    async def fire_automation(session: AsyncSession, timer: ClaimedTimer, events: EventSink) -> None:
        assert timer.case_id is not None
        automation_id = uuid.UUID(str(timer.payload["automation_id"]))
        await TrackingService(session, events).automations.fire(timer.case_id, automation_id, utcnow())

    async def resync(session: AsyncSession, timer: ClaimedTimer, events: EventSink) -> None:
        after = timer.payload.get("after")
        now = utcnow()
        service = TrackingService(session, events)
        next_after = await service.resync(uuid.UUID(after) if after else None, RESYNC_PAGE, now)
        if next_after is not None:
            await TimerRepository(session).continue_later(timer, now, {"after": str(next_after)})

    async def deliver(session: AsyncSession, timer: ClaimedTimer, events: EventSink) -> None:
        await sender.deliver(timer)

    async def lock_cases(session: AsyncSession, case_ids: set[uuid.UUID]) -> set[uuid.UUID]:
        return await TrackingRepository(session).lock_cases_free(case_ids)

    return TimerWorker(
        runtime.database,
        outbox,
        {
            SLA_TIMER: TimerKind(fire_threshold),
            AUTOMATION_TIMER: TimerKind(fire_automation),
            # Locks its page of cases itself (SKIP LOCKED).
            RESYNC_TIMER: TimerKind(resync, locks_case=False),
            # A slow receiver must not hold the case row (and with it the consumer).
            WEBHOOK_TIMER: TimerKind(deliver, locks_case=False, own_transaction=True),
        },
        lock_cases=lock_cases,
        config=WorkerConfig(
            batch_size=settings.scheduler_batch_size,
            lease_seconds=settings.scheduler_lease_seconds,
            poll_interval=settings.scheduler_poll_interval,
            concurrency=settings.scheduler_concurrency,
            max_attempts=settings.scheduler_max_attempts,
        ),
    )


async def start_scheduler(runtime: SlaEngineRuntime) -> Callable[[], Awaitable[None]] | None:
    worker = runtime.state.timers
    if worker is None:
        return None
    worker.start()
    return worker.stop


async def scheduler_ready(runtime: SlaEngineRuntime) -> None:
    worker = runtime.state.timers
    if worker is None:
        return
    if not worker.running:
        raise RuntimeError("timer worker is not running")
    if worker.failure is not None:
        raise RuntimeError(f"timer worker failing: {worker.failure!r}")
