"""Handler of ``case.events``: keeps routing's case projection and routes from it."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.batch import Batch, BatchHandler, Received, event_types
from omnicase.kit.events import CaseCreated, CaseMessageAdded, CaseUpdated, EventData
from omnicase.kit.outbox import Outbox
from omnicase.routing.models import outbox as outbox_table
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.work.batch import BatchRouting, CaseEvent

logger = logging.getLogger(__name__)

CONSUMER_GROUP = "routing"
ACCEPTS = event_types(CaseCreated, CaseUpdated, CaseMessageAdded)


def case_events_handler(settings: RoutingSettings) -> BatchHandler:
    outbox = Outbox(outbox_table)

    async def handle(session: AsyncSession, batch: Batch) -> None:
        # A deadlock between replicas aborts the batch; the kit's consumer retries it (transient).
        events = [event for received in batch if (event := _case_event(received)) is not None]
        await BatchRouting(session, outbox, settings).apply(events)

    return handle


def _case_event(received: Received[EventData]) -> CaseEvent | None:
    match received.data:
        case CaseCreated() as created:
            return CaseEvent(received, created.case, actor=created.actor, description=created.description, created=True)
        case CaseUpdated(case=None) as updated:
            # Without a snapshot the projection cannot be brought up to date; the
            # next event that carries one will.
            logger.warning("case.updated without snapshot ignored", extra={"case_id": str(updated.case_id)})
        case CaseUpdated(case=snapshot) as updated if snapshot is not None:
            return CaseEvent(received, snapshot, actor=updated.actor, changed=frozenset(updated.changes))
        case CaseMessageAdded(case=snapshot) as added if snapshot is not None:
            return CaseEvent(received, snapshot, actor=added.author)
    return None
