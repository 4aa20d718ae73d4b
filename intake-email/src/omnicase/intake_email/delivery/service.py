"""End-to-end acknowledgement: case-core's case events settle our pending messages.

A stored message stays ``pending`` until a case event names it (``source_intake_id``):
``case.created`` (it opened a case) or ``case.message_added`` (it joined one). Only
the first acknowledgement counts. A message held back (noise, a loop, a suspended sender)
is acknowledged by ``case.held_message_kept`` once case-core keeps it in its
suspended-messages queue, and by its case if staff recover it. (The new case's auto-response is case-core's to
write, from its shared templates; it arrives as an automatic ``outbound.message_requested``.)
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.inbound.repository import RawMessageRepository
from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseCreated, CaseMessageAdded, HeldMessageKept


class AcknowledgementService:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self.messages = RawMessageRepository(session)

    async def acknowledge(self, events: Iterable[CaseCreated | CaseMessageAdded | HeldMessageKept]) -> None:
        """Settle every message the events name, in one statement (the first event naming one wins).

        Another intake's message, or one acknowledged already, is left as it is.
        """
        acks: dict[uuid.UUID, tuple[uuid.UUID, int | None]] = {}
        kept: list[uuid.UUID] = []
        for event in events:
            match event:
                case HeldMessageKept(source_intake_id=intake_id):
                    kept.append(intake_id)
                case CaseCreated(source_intake_id=uuid.UUID() as intake_id):
                    acks.setdefault(intake_id, (event.case.case_id, event.case.number))
                case CaseMessageAdded(source_intake_id=uuid.UUID() as intake_id, direction="inbound"):
                    acks.setdefault(intake_id, (event.case_id, event.case.number if event.case else None))
        rows = [(intake_id, case_id, number) for intake_id, (case_id, number) in acks.items()]
        now = utcnow()
        await self.messages.acknowledge(rows, now)
        await self.messages.acknowledge_held(kept, now)
