"""Accepting an inbound message: the stored row and its outbox event in one transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.messages.repository import HELD, InboundMessageRepository
from omnicase.intake_web.metrics import ACCEPTED
from omnicase.intake_web.service import SPEC
from omnicase.kit.events import EventData, HoldReason, MessageHeld, MessageReceived
from omnicase.kit.outbox import Outbox


async def accept_message(
    session: AsyncSession,
    outbox: Outbox,
    event: MessageReceived,
    *,
    source: str,
    form_id: uuid.UUID | None = None,
    channel_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
    request_digest: str | None = None,
    fields: dict[str, Any] | None = None,
    remote_ip: str | None = None,
    count: bool = True,
    hold: tuple[HoldReason, str] | None = None,
) -> bool:
    """Stage the message and its ``intake.message_received`` event; the caller's transaction commits both.

    With ``hold`` (reason, detail) it is stored ``held`` instead and staged as ``intake.message_held``,
    for case-core's suspended-messages queue. Returns False, staging nothing, when the source already
    sent a message with this dedupe key. With ``count=False`` the caller counts it in the metrics once
    its transaction committed.
    """
    held = {} if hold is None else {"status": HELD, "hold_reason": hold[0].value, "hold_detail": hold[1]}
    inserted = await InboundMessageRepository(session).add(
        id=event.intake_id,
        source=source,
        form_id=form_id,
        channel_id=channel_id,
        dedupe_key=dedupe_key,
        request_digest=request_digest,
        event=event.model_dump(mode="json"),
        fields=fields or {},
        remote_ip=remote_ip,
        received_at=event.received_at,
        last_published_at=event.received_at,
        **held,
    )
    if not inserted:
        return False
    staged: EventData = event if hold is None else MessageHeld(message=event, reason=hold[0], detail=hold[1])
    await outbox.add(session, staged, source=SPEC.name, subject=str(event.intake_id), key=event.thread_key)
    if count and hold is None:
        ACCEPTED.labels(event.channel.value).inc()
    return True
