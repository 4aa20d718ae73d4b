"""The ``case.events`` consumer: each batch updates its cases' milestones and timers, set-based."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.batch import Batch, BatchHandler, event_types
from omnicase.kit.events import CaseCreated, CaseMessageAdded, CaseUpdated
from omnicase.kit.outbox import Outbox
from omnicase.sla_engine.config.cache import ConfigCache
from omnicase.sla_engine.tracking.service import TrackingService

ACCEPTS = event_types(CaseCreated, CaseUpdated, CaseMessageAdded)


def case_events_handler(outbox: Outbox, config: ConfigCache | None = None) -> BatchHandler:
    """The handler of one consumer; its configuration cache lives as long as the handler."""
    cache = config or ConfigCache()

    async def handle(session: AsyncSession, batch: Batch) -> None:
        await TrackingService(session, outbox, cache).handle_batch(batch)

    return handle
