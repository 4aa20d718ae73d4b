"""End-to-end acknowledgement: case-core's case events settle our pending messages.

A stored message stays ``pending`` until a case event names it (``source_intake_id``):
``case.created`` (it opened a case) or ``case.message_added`` (it joined one). Only
the first acknowledgement counts. (The new case's auto-response is case-core's to
write, from its shared templates; it arrives as an automatic ``outbound.message_requested``.)
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.inbound.repository import RawMessageRepository
from omnicase.kit.clock import utcnow


class AcknowledgementService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.messages = RawMessageRepository(session)

    async def acknowledge(self, intake_id: uuid.UUID, *, case_id: uuid.UUID, case_number: int | None) -> None:
        """Settle the message (another intake's, or one acknowledged already, is left as it is)."""
        await self.messages.acknowledge(intake_id, case_id=case_id, case_number=case_number, now=utcnow())
