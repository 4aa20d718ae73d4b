"""Hourly housekeeping on the service's own timer: forget inbox ids older than the retention.

The inbox only has to remember an event id for as long as the broker might redeliver
it; without pruning it grows by one row per consumed event, forever.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.inbox import Inbox
from omnicase.sla_engine.events_out import EventSink
from omnicase.sla_engine.models import inbox
from omnicase.sla_engine.scheduler.repository import ClaimedTimer, TimerRepository
from omnicase.sla_engine.scheduler.worker import TimerHandler

logger = logging.getLogger(__name__)

HOUSEKEEPING_TIMER = "housekeeping"
HOUSEKEEPING_KEY = "housekeeping"
EVERY = timedelta(hours=1)


async def ensure_scheduled(session: AsyncSession) -> None:
    """Create the recurring timer once (a replica starting later leaves it as it is)."""
    await TimerRepository(session).schedule_many(
        [{"key": HOUSEKEEPING_KEY, "kind": HOUSEKEEPING_TIMER, "due_at": utcnow(), "payload": {}, "attempts": 0}]
    )


def housekeeper(retention: timedelta) -> TimerHandler:
    async def run(session: AsyncSession, timer: ClaimedTimer, events: EventSink) -> None:
        forgotten = await Inbox(inbox).forget_older_than(session, retention)
        if forgotten:
            logger.info("inbox pruned", extra={"rows": forgotten})
        await TimerRepository(session).continue_later(timer, utcnow() + EVERY, {})

    return run
