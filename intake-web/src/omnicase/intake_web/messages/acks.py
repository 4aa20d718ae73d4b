"""End-to-end acknowledgement: case-core's case events confirm the messages this intake sent.

A ``case.created`` or ``case.message_added`` naming one of our intake ids marks that
message acknowledged (it will not be republished). The submitter's acknowledgement email
is case-core's to write, from the shared templates: the submission asked for it in its
``metadata`` (:func:`omnicase.intake_web.forms.autoresponse.acknowledgement_request`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.messages.repository import InboundMessageRepository
from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseCreated, CaseMessageAdded


class Acknowledgements:
    async def acknowledge(self, session: AsyncSession, events: Iterable[CaseCreated | CaseMessageAdded]) -> None:
        """Settle every message the events name, in one statement (the first event naming one wins)."""
        acks: dict[uuid.UUID, uuid.UUID] = {}
        for event in events:
            match event:
                case CaseCreated(source_intake_id=uuid.UUID() as intake_id):
                    acks.setdefault(intake_id, event.case.case_id)
                case CaseMessageAdded(source_intake_id=uuid.UUID() as intake_id, direction="inbound"):
                    acks.setdefault(intake_id, event.case_id)
        await InboundMessageRepository(session).acknowledge(list(acks.items()), utcnow())
