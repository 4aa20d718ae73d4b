"""Handler of ``case.events``: keeps routing's case projection and routes from it."""

from __future__ import annotations

import logging

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.bus.consumer import Handler
from omnicase.kit.events import CaseCreated, CaseMessageAdded, CaseUpdated, Envelope
from omnicase.kit.outbox import Outbox
from omnicase.routing.models import outbox as outbox_table
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.work.service import RoutingService

logger = logging.getLogger(__name__)

CONSUMER_GROUP = "routing"


def case_events_handler(settings: RoutingSettings) -> Handler:
    outbox = Outbox(outbox_table)

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        # A deadlock between replicas aborts the batch; the kit's consumer retries it (transient).
        await _apply(RoutingService(session, outbox, settings), envelope)

    return handle


async def _apply(service: RoutingService, envelope: Envelope) -> None:
    """Dispatch on the event type; types routing does not read are ignored."""
    if envelope.type == CaseCreated.event_type:
        created = CaseCreated.parse(envelope)
        await service.apply_snapshot(created.case, actor=created.actor, description=created.description, created=True)
    elif envelope.type == CaseUpdated.event_type:
        updated = CaseUpdated.parse(envelope)
        if updated.case is None:
            # Without a snapshot the projection cannot be brought up to date; the
            # next event that carries one will.
            logger.warning("case.updated without snapshot ignored", extra={"case_id": str(updated.case_id)})
            return
        await service.apply_snapshot(updated.case, actor=updated.actor, changed=frozenset(updated.changes))
    elif envelope.type == CaseMessageAdded.event_type:
        added = CaseMessageAdded.parse(envelope)
        if added.case is not None:
            await service.apply_snapshot(added.case, actor=added.author)
