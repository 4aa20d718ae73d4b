"""Publish again the messages case-core has not acknowledged within the threshold.

A broker that lost an ``intake.message_received`` or ``intake.message_held`` (or
case-core's answer) must not lose the customer's mail: every ``republish_interval_seconds`` the pending messages
last published more than ``republish_after_seconds`` ago are staged in the outbox
again under a new event id. case-core recognises the intake id and acknowledges again
instead of opening a second case. Replicas share the work through ``SKIP LOCKED``.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from datetime import timedelta

from omnicase.intake_email.inbound.repository import RawMessageRepository
from omnicase.intake_email.metrics import EMAIL_REPUBLISHED
from omnicase.intake_email.state import IntakeEmailRuntime
from omnicase.kit.clock import utcnow
from omnicase.kit.events import EventData, HoldReason, MessageHeld, MessageReceived
from omnicase.kit.periodic import periodic

logger = logging.getLogger(__name__)

BATCH = 200


async def republish_pending(runtime: IntakeEmailRuntime) -> int:
    """One round; returns how many messages were staged again."""
    settings = runtime.settings
    now = utcnow()
    async with runtime.database.unit_of_work() as session:
        repository = RawMessageRepository(session)
        rows = await repository.due_for_republication(now - timedelta(seconds=settings.republish_after_seconds), BATCH)
        for row in rows:
            message = MessageReceived.model_validate(row.event_data)
            event: EventData = message
            if row.hold_reason is not None:
                event = MessageHeld(message=message, reason=HoldReason(row.hold_reason), detail=row.reason or "")
            await runtime.outbox.add(session, event, source=runtime.spec.name, subject=str(row.id), key=row.thread_key)
        if rows:
            await repository.mark_published([row.id for row in rows], now)
            EMAIL_REPUBLISHED.inc(len(rows))
            logger.warning("republished unacknowledged messages", extra={"count": len(rows)})
    return len(rows)


async def start_republisher(runtime: IntakeEmailRuntime) -> Callable[[], Awaitable[None]] | None:
    settings = runtime.settings

    async def republish() -> int:
        return await republish_pending(runtime)

    # A full batch means more may be waiting: the next round starts at once.
    loop = periodic(
        "intake-email-republisher",
        settings.republish_interval_seconds,
        republish,
        busy=lambda count: count == BATCH,
        wait_first=True,
    )
    return loop.stop
