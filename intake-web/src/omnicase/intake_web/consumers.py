"""intake-web's one consumer: case events (acknowledgements) and outbound messages (delivery)."""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.channels.outbound import OutboundRequests
from omnicase.intake_web.messages.acks import Acknowledgements
from omnicase.intake_web.models import outbox as outbox_table
from omnicase.kit.events import CaseCreated, CaseMessageAdded, Envelope, OutboundMessageRequested
from omnicase.kit.outbox import Outbox

GROUP = "intake-web"


class IntakeWebConsumer:
    def __init__(self) -> None:
        outbox = Outbox(outbox_table)
        self.acks = Acknowledgements()
        self.outbound = OutboundRequests(outbox)

    async def handle(self, session: AsyncSession, envelope: Envelope) -> None:
        if envelope.type == CaseCreated.event_type:
            await self.acks.case_created(session, CaseCreated.parse(envelope))
        elif envelope.type == CaseMessageAdded.event_type:
            await self.acks.message_added(session, CaseMessageAdded.parse(envelope))
        elif envelope.type == OutboundMessageRequested.event_type:
            await self.outbound.requested(session, OutboundMessageRequested.parse(envelope))
