"""What intake-email consumes, in the group ``intake-email``.

- ``case.events``: ``case.created`` / ``case.message_added`` naming one of our intake
  ids acknowledge it (end-to-end).
- ``outbound.messages``: ``outbound.message_requested`` for the email channel is
  queued for the sender (other channels belong to other intakes), and so is every
  ``outbound.notification_requested`` (emails to staff, answered with
  ``intake.notification_reported``).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.delivery.service import AcknowledgementService
from omnicase.intake_email.inbound.blobs import PostgresBlobStore
from omnicase.intake_email.outbound.service import OutboundService
from omnicase.intake_email.outbound.templates import TemplateRenderer
from omnicase.intake_email.settings import IntakeEmailSettings
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    Channel,
    Envelope,
    NotificationRequested,
    OutboundMessageRequested,
)
from omnicase.kit.outbox import Outbox

Handler = Callable[[AsyncSession, Envelope], Awaitable[None]]


def make_handler(settings: IntakeEmailSettings, outbox: Outbox, renderer: TemplateRenderer, source: str) -> Handler:
    def outbound(session: AsyncSession) -> OutboundService:
        return OutboundService(
            session, settings=settings, outbox=outbox, blobs=PostgresBlobStore(), renderer=renderer, source=source
        )

    async def handle(session: AsyncSession, envelope: Envelope) -> None:
        if envelope.type == CaseCreated.event_type:
            created = CaseCreated.parse(envelope)
            if created.source_intake_id is not None:
                await AcknowledgementService(session).acknowledge(
                    created.source_intake_id, case_id=created.case.case_id, case_number=created.case.number
                )
        elif envelope.type == CaseMessageAdded.event_type:
            added = CaseMessageAdded.parse(envelope)
            if added.source_intake_id is not None and added.direction == "inbound":
                await AcknowledgementService(session).acknowledge(
                    added.source_intake_id, case_id=added.case_id, case_number=added.case.number if added.case else None
                )
        elif envelope.type == OutboundMessageRequested.event_type:
            request = OutboundMessageRequested.parse(envelope)
            if request.channel == Channel.EMAIL:
                await outbound(session).queue_reply(request)
        elif envelope.type == NotificationRequested.event_type:
            await outbound(session).queue_notification(NotificationRequested.parse(envelope))

    return handle
