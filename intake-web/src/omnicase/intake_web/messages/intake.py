"""Accepting an inbound message: the stored row and its outbox event in one transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.messages.repository import InboundMessageRepository
from omnicase.intake_web.metrics import ACCEPTED
from omnicase.intake_web.service import SPEC
from omnicase.kit.events import MessageReceived
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
) -> bool:
    """Stage the message and its ``intake.message_received`` event; the caller's transaction commits both.

    Returns False, staging nothing, when the source already sent a message with this dedupe key.
    With ``count=False`` the caller counts it in the metrics once its transaction committed.
    """
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
    )
    if not inserted:
        return False
    await outbox.add(session, event, source=SPEC.name, subject=str(event.intake_id), key=event.thread_key)
    if count:
        ACCEPTED.labels(event.channel.value).inc()
    return True
