"""The ``case.events`` consumer: every case event updates that case's milestones and timers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.batch import BatchHandler, Received, event_types, one_at_a_time
from omnicase.kit.events import CaseCreated, CaseMessageAdded, CaseUpdated, EventData
from omnicase.kit.outbox import Outbox
from omnicase.sla_engine.tracking.service import TrackingService

ACCEPTS = event_types(CaseCreated, CaseUpdated, CaseMessageAdded)


def case_events_handler(outbox: Outbox) -> BatchHandler:
    async def handle(session: AsyncSession, received: Received[EventData]) -> None:
        await TrackingService(session, outbox).handle(received.envelope)

    return one_at_a_time(handle)
