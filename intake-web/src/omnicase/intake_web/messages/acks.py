"""End-to-end acknowledgement: case-core's case events confirm the messages this intake sent.

A ``case.created`` or ``case.message_added`` naming one of our intake ids marks that
message acknowledged (it will not be republished); ``case.held_message_kept`` does the same
for one held as spam, which stays ``held`` until staff recover it into a case. The submitter's acknowledgement email
is case-core's to write, from the shared templates: the submission asked for it in its
``metadata`` (:func:`omnicase.intake_web.forms.autoresponse.acknowledgement_request`).
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.messages.repository import InboundMessageRepository
from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseCreated, CaseMessageAdded, HeldMessageKept


class Acknowledgements:
    async def acknowledge(
        self, session: AsyncSession, events: Iterable[CaseCreated | CaseMessageAdded | HeldMessageKept]
    ) -> None:
        """Settle every message the events name, in one statement (the first event naming one wins)."""
        acks: dict[uuid.UUID, uuid.UUID] = {}
        kept: list[uuid.UUID] = []
        for event in events:
            match event:
                case HeldMessageKept(source_intake_id=intake_id):
                    kept.append(intake_id)
                case CaseCreated(source_intake_id=uuid.UUID() as intake_id):
                    acks.setdefault(intake_id, event.case.case_id)
                case CaseMessageAdded(source_intake_id=uuid.UUID() as intake_id, direction="inbound"):
                    acks.setdefault(intake_id, event.case_id)
        repository = InboundMessageRepository(session)
        now = utcnow()
        await repository.acknowledge(list(acks.items()), now)
        await repository.acknowledge_held(kept, now)
