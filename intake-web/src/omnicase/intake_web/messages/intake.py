"""Accepting an inbound message: the stored row and its outbox event in one transaction."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.messages.repository import HELD, InboundMessageRepository, insert_message, new_message
from omnicase.intake_web.metrics import ACCEPTED
from omnicase.intake_web.service import SPEC
from omnicase.kit.db import Database
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
    row = _row(event, source, form_id, channel_id, dedupe_key, request_digest, fields, remote_ip)
    if not await InboundMessageRepository(session).add(**row, **held):
        return False
    staged: EventData = event if hold is None else MessageHeld(message=event, reason=hold[0], detail=hold[1])
    await outbox.add(session, staged, source=SPEC.name, subject=str(event.intake_id), key=event.thread_key)
    if count and hold is None:
        ACCEPTED.labels(event.channel.value).inc()
    return True


async def accept_message_alone(
    database: Database,
    outbox: Outbox,
    event: MessageReceived,
    *,
    source: str,
    form_id: uuid.UUID | None = None,
    dedupe_key: str | None = None,
    request_digest: str | None = None,
    fields: dict[str, Any] | None = None,
    remote_ip: str | None = None,
) -> bool:
    """:func:`accept_message` where storing it is the whole transaction: the message and its event by
    one statement run alone (one round trip, where a unit of work takes four). False, storing
    nothing, for a dedupe key its source sent before; the caller counts it in the metrics."""
    row = new_message(_row(event, source, form_id, None, dedupe_key, request_digest, fields, remote_ip))
    return await outbox.write_alone(
        database,
        insert_message(tuple(row)),
        row,
        event,
        source=SPEC.name,
        subject=str(event.intake_id),
        key=event.thread_key,
    )


def _row(
    event: MessageReceived,
    source: str,
    form_id: uuid.UUID | None,
    channel_id: uuid.UUID | None,
    dedupe_key: str | None,
    request_digest: str | None,
    fields: dict[str, Any] | None,
    remote_ip: str | None,
) -> dict[str, Any]:
    return {
        "id": event.intake_id,
        "source": source,
        "form_id": form_id,
        "channel_id": channel_id,
        "dedupe_key": dedupe_key,
        "request_digest": request_digest,
        "event": event.model_dump(mode="json"),
        "fields": fields or {},
        "remote_ip": remote_ip,
        "received_at": event.received_at,
        "last_published_at": event.received_at,
    }
