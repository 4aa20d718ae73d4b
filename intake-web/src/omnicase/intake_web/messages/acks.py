"""End-to-end acknowledgement: case-core's case events confirm the messages this intake sent.

A ``case.created`` or ``case.message_added`` naming one of our intake ids marks that
message acknowledged (it will not be republished). The submitter's acknowledgement email
is case-core's to write, from the shared templates: the submission asked for it in its
``metadata`` (:func:`omnicase.intake_web.forms.autoresponse.acknowledgement_request`).
"""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.messages.repository import PENDING, InboundMessageRepository
from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseCreated, CaseMessageAdded


class Acknowledgements:
    async def case_created(self, session: AsyncSession, event: CaseCreated) -> None:
        if event.source_intake_id is not None:
            await self._acknowledge(session, event.source_intake_id, event.case.case_id)

    async def message_added(self, session: AsyncSession, event: CaseMessageAdded) -> None:
        if event.source_intake_id is not None and event.direction == "inbound":
            await self._acknowledge(session, event.source_intake_id, event.case_id)

    async def _acknowledge(self, session: AsyncSession, intake_id: uuid.UUID, case_id: uuid.UUID) -> None:
        messages = InboundMessageRepository(session)
        row = await messages.get(intake_id, lock=True)
        if row is None or row.status != PENDING:
            return
        await messages.acknowledge(intake_id, case_id, utcnow())
