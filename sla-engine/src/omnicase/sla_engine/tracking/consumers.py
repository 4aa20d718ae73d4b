"""The ``case.events`` consumer: every case event updates that case's milestones and timers."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.consumer import Handler
from omnicase.kit.events import Envelope
from omnicase.kit.outbox import Outbox
from omnicase.sla_engine.tracking.service import TrackingService


def case_events_handler(outbox: Outbox) -> Handler:
    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        await TrackingService(session, outbox).handle(envelope)

    return handle
