"""``outbound.message_requested`` for our channels → a delivery row the worker sends through the provider.

SMS, messaging and API replies are ours; their conversation id is one of our thread
keys, which names the channel to send through. Email (intake-email's) and anything
else is left alone.
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.channels.definition import parse_thread_key
from omnicase.intake_web.channels.delivery_repository import DeliveryRepository
from omnicase.intake_web.metrics import DELIVERIES
from omnicase.intake_web.service import SPEC
from omnicase.kit.clock import utcnow
from omnicase.kit.events import Channel, DeliveryReported, OutboundMessageRequested
from omnicase.kit.outbox import Outbox

OUR_CHANNELS = frozenset({Channel.SMS, Channel.MESSAGING, Channel.API})


async def report(
    session: AsyncSession,
    outbox: Outbox,
    request: OutboundMessageRequested,
    *,
    sent: bool,
    provider_message_id: str | None = None,
    error: str | None = None,
) -> None:
    """Tell case-core what became of the reply (``intake.delivery_reported``, keyed by the conversation)."""
    data = DeliveryReported(
        outbound_id=request.outbound_id,
        case_id=request.case_id,
        status="sent" if sent else "failed",
        provider_message_id=provider_message_id or None,
        error=error[:1000] if error else None,
    )
    key = request.conversation_id or str(request.case_id)
    await outbox.add(session, data, source=SPEC.name, subject=str(request.case_id), key=key)


class OutboundRequests:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def requested(self, session: AsyncSession, request: OutboundMessageRequested) -> None:
        if request.channel not in OUR_CHANNELS:
            return
        parsed = parse_thread_key(request.conversation_id)
        if parsed is None:
            DELIVERIES.labels("failed").inc()
            await report(session, self.outbox, request, sent=False, error="no intake-web conversation to reply to")
            return
        _kind, channel_id, _conversation = parsed
        await DeliveryRepository(session).add(
            request.outbound_id, request.case_id, channel_id, request.model_dump(mode="json"), utcnow()
        )
