"""Handler of ``case.events``: keeps routing's case projection and routes from it."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.batch import BatchHandler, Received, event_types, one_at_a_time
from omnicase.kit.events import CaseCreated, CaseMessageAdded, CaseUpdated, EventData
from omnicase.kit.outbox import Outbox
from omnicase.routing.models import outbox as outbox_table
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.work.service import RoutingService

logger = logging.getLogger(__name__)

CONSUMER_GROUP = "routing"
ACCEPTS = event_types(CaseCreated, CaseUpdated, CaseMessageAdded)


def case_events_handler(settings: RoutingSettings) -> BatchHandler:
    outbox = Outbox(outbox_table)

    async def handle(session: AsyncSession, received: Received[EventData]) -> None:
        # A deadlock between replicas aborts the batch; the kit's consumer retries it (transient).
        await _apply(RoutingService(session, outbox, settings), received.data)

    return one_at_a_time(handle)


async def _apply(service: RoutingService, data: EventData) -> None:
    match data:
        case CaseCreated() as created:
            await service.apply_snapshot(
                created.case, actor=created.actor, description=created.description, created=True
            )
        case CaseUpdated(case=None) as updated:
            # Without a snapshot the projection cannot be brought up to date; the
            # next event that carries one will.
            logger.warning("case.updated without snapshot ignored", extra={"case_id": str(updated.case_id)})
        case CaseUpdated(case=snapshot) as updated if snapshot is not None:
            await service.apply_snapshot(snapshot, actor=updated.actor, changed=frozenset(updated.changes))
        case CaseMessageAdded(case=snapshot) as added if snapshot is not None:
            await service.apply_snapshot(snapshot, actor=added.author)
