"""Publish again what case-core has not confirmed in time (end-to-end acknowledgement).

A broker that lost a message, or a case-core that dead-lettered it and was since
fixed, gets it again; case-core drops copies by intake id. ``FOR UPDATE SKIP
LOCKED`` lets any number of replicas share the work.
"""

from __future__ import annotations

from datetime import timedelta

from omnicase.intake_web.messages.repository import InboundMessageRepository
from omnicase.intake_web.metrics import REPUBLISHED
from omnicase.intake_web.service import SPEC
from omnicase.kit.clock import utcnow
from omnicase.kit.db import Database
from omnicase.kit.events import EventData, HoldReason, MessageHeld, MessageReceived
from omnicase.kit.outbox import Outbox

BATCH = 200


async def republish_unacknowledged(database: Database, outbox: Outbox, older_than: timedelta) -> int:
    """One pass; returns how many messages were published again."""
    now = utcnow()
    async with database.unit_of_work() as session:
        messages = InboundMessageRepository(session)
        rows = await messages.claim_unacknowledged(now - older_than, BATCH)
        for row in rows:
            message = MessageReceived.model_validate(row.event)
            event: EventData = message
            if row.hold_reason is not None:
                event = MessageHeld(message=message, reason=HoldReason(row.hold_reason), detail=row.hold_detail or "")
            await outbox.add(session, event, source=SPEC.name, subject=str(row.id), key=message.thread_key)
        if rows:
            await messages.mark_published([row.id for row in rows], now)
    REPUBLISHED.inc(len(rows))
    return len(rows)
