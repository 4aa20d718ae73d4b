"""What intake-email consumes, in the group ``intake-email``.

- ``case.events``: ``case.created`` / ``case.message_added`` naming one of our intake
  ids acknowledge it (end-to-end), and ``case.held_message_kept`` a held one.
- ``outbound.messages``: ``outbound.message_requested`` for the email channel is
  queued for the sender (other channels belong to other intakes), and so is every
  ``outbound.notification_requested`` (emails to staff, answered with
  ``intake.notification_reported``).
"""

from __future__ import annotations

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.delivery.service import AcknowledgementService
from omnicase.intake_email.outbound.service import OutboundService
from omnicase.intake_email.outbound.templates import TemplateRenderer
from omnicase.intake_email.settings import IntakeEmailSettings
from omnicase.kit.blobs import BlobStore
from omnicase.kit.bus.batch import Batch, BatchHandler, event_types
from omnicase.kit.events import (
    CaseCreated,
    CaseMessageAdded,
    Channel,
    HeldMessageKept,
    NotificationRequested,
    OutboundMessageRequested,
)
from omnicase.kit.outbox import Outbox

ACCEPTS = event_types(CaseCreated, CaseMessageAdded, HeldMessageKept, OutboundMessageRequested, NotificationRequested)
# Acknowledgements and replies addressed to other channels' intakes are skipped unread.
INTAKE_CHANNELS = frozenset({Channel.EMAIL.value})


def make_handler(
    settings: IntakeEmailSettings, outbox: Outbox, renderer: TemplateRenderer, source: str, blobs: BlobStore
) -> BatchHandler:
    def outbound(session: AsyncSession) -> OutboundService:
        return OutboundService(session, settings=settings, outbox=outbox, blobs=blobs, renderer=renderer, source=source)

    async def handle(session: AsyncSession, batch: Batch) -> None:
        confirmations: list[CaseCreated | CaseMessageAdded | HeldMessageKept] = []
        for received in batch:
            match received.data:
                case CaseCreated() | CaseMessageAdded() | HeldMessageKept() as confirmation:
                    confirmations.append(confirmation)
                case OutboundMessageRequested(channel=Channel.EMAIL) as request:
                    with received.traced():
                        await outbound(session).queue_reply(request)
                case NotificationRequested() as notification:
                    with received.traced():
                        await outbound(session).queue_notification(notification)
        # Every acknowledgement of the batch in one statement.
        await AcknowledgementService(session).acknowledge(confirmations)

    return handle
