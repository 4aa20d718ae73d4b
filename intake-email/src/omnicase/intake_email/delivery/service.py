"""End-to-end acknowledgement: case-core's case events settle our pending messages.

A stored message stays ``pending`` until a case event names it (``source_intake_id``):
``case.created`` (it opened a case) or ``case.message_added`` (it joined one). Only
the first acknowledgement counts. A message held back (noise, a loop, a suspended sender)
is acknowledged by ``case.held_message_kept`` once case-core keeps it in its
suspended-messages queue, and by its case if staff recover it. (The new case's auto-response is case-core's to
write, from its shared templates; it arrives as an automatic ``outbound.message_requested``.)
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.inbound.repository import RawMessageRepository
from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseCreated, CaseMessageAdded, HeldMessageKept
from omnicase.kit.intake import confirmed_by


class AcknowledgementService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.messages = RawMessageRepository(session)

    async def acknowledge(self, events: Iterable[CaseCreated | CaseMessageAdded | HeldMessageKept]) -> None:
        """Settle every message the events name, in one statement (the first event naming one wins).

        Another intake's message, or one acknowledged already, is left as it is.
        """
        confirmed = confirmed_by(events)
        now = utcnow()
        await self.messages.acknowledge(confirmed.cases, now)
        await self.messages.acknowledge_held(confirmed.kept, now)
