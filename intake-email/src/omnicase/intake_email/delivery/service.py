"""End-to-end acknowledgement: case-core's case events settle our pending messages.

A stored message stays ``pending`` until a case event names it (``source_intake_id``):
``case.created`` (it opened a case) or ``case.message_added`` (it joined one). Only
the first acknowledgement counts; it is also when a new case gets its auto-response.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.inbound.repository import RawMessageRepository
from omnicase.intake_email.mailboxes.repository import MailboxRepository
from omnicase.intake_email.outbound.service import AutoResponse, OutboundService
from omnicase.kit.clock import utcnow

logger = logging.getLogger(__name__)


class AcknowledgementService:
    def __init__(self, session: AsyncSession, outbound: OutboundService) -> None:
        self.session = session
        self.messages = RawMessageRepository(session)
        self.mailboxes = MailboxRepository(session)
        self.outbound = outbound

    async def acknowledge(
        self,
        intake_id: uuid.UUID,
        *,
        case_id: uuid.UUID,
        case_number: int | None,
        case_subject: str | None,
        opened_case: bool,
    ) -> None:
        now = utcnow()
        row = await self.messages.acknowledge(intake_id, case_id=case_id, case_number=case_number, now=now)
        if row is None:  # not ours (another intake's message) or acknowledged already
            return
        if opened_case and case_number is not None and await self._auto_response_due(row):
            event: dict[str, Any] = row.event_data or {}
            metadata: dict[str, Any] = event.get("metadata") or {}
            sender: dict[str, Any] = event.get("sender") or {}
            mailbox = await self.mailboxes.get(row.mailbox_id)
            assert mailbox is not None  # mailboxes with mail cannot be deleted
            queued = await self.outbound.queue_auto_response(
                mailbox,
                AutoResponse(
                    intake_id=intake_id,
                    case_id=case_id,
                    case_number=case_number,
                    case_subject=case_subject or row.subject or "",
                    recipient=str(metadata.get("reply_to") or row.thread_key),
                    recipient_name=sender.get("name"),
                    in_reply_to=row.message_id,
                ),
            )
            if queued:
                await self.messages.mark_auto_responded(intake_id, now)

    async def _auto_response_due(self, row: Any) -> bool:
        """Never to machines, the null sender, or mail that asked for none."""
        if row.noise is not None or row.envelope_from == "":
            return False
        metadata = (row.event_data or {}).get("metadata") or {}
        if metadata.get("auto_response_suppressed"):
            return False
        mailbox = await self.mailboxes.get(row.mailbox_id)
        return mailbox is not None and mailbox.auto_response
