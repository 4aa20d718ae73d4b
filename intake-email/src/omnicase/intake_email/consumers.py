"""What intake-email consumes, in the group ``intake-email``.

- ``case.events``: ``case.created`` / ``case.message_added`` naming one of our intake
  ids acknowledge it (end-to-end).
- ``outbound.messages``: ``outbound.message_requested`` for the email channel is
  queued for the sender (other channels belong to other intakes), and so is every
  ``outbound.notification_requested`` (emails to staff, answered with
  ``intake.notification_reported``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.delivery.service import AcknowledgementService
from omnicase.intake_email.inbound.blobs import PostgresBlobStore
from omnicase.intake_email.outbound.service import OutboundService
from omnicase.intake_email.outbound.templates import TemplateRenderer
from omnicase.intake_email.settings import IntakeEmailSettings
from omnicase.kit.bus.batch import Batch, BatchHandler, event_types
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    Channel,
    NotificationRequested,
    OutboundMessageRequested,
)
from omnicase.kit.outbox import Outbox

ACCEPTS = event_types(CaseCreated, CaseMessageAdded, OutboundMessageRequested, NotificationRequested)


def make_handler(
    settings: IntakeEmailSettings, outbox: Outbox, renderer: TemplateRenderer, source: str
) -> BatchHandler:
    def outbound(session: AsyncSession) -> OutboundService:
        return OutboundService(
            session, settings=settings, outbox=outbox, blobs=PostgresBlobStore(), renderer=renderer, source=source
        )

    async def handle(session: AsyncSession, batch: Batch) -> None:
        for received in batch:
            with received.traced():
                match received.data:
                    case CaseCreated(source_intake_id=intake_id) as created if intake_id is not None:
                        await AcknowledgementService(session).acknowledge(
                            intake_id, case_id=created.case.case_id, case_number=created.case.number
                        )
                    case CaseMessageAdded(source_intake_id=intake_id, direction="inbound") as added if (
                        intake_id is not None
                    ):
                        await AcknowledgementService(session).acknowledge(
                            intake_id, case_id=added.case_id, case_number=added.case.number if added.case else None
                        )
                    case OutboundMessageRequested(channel=Channel.EMAIL) as request:
                        await outbound(session).queue_reply(request)
                    case NotificationRequested() as notification:
                        await outbound(session).queue_notification(notification)

    return handle
