"""End-to-end acknowledgement: case-core's case events confirm the messages this intake sent.

A ``case.created`` or ``case.message_added`` naming one of our intake ids marks that
message acknowledged (it will not be republished); ``case.held_message_kept`` does the same
for one held as spam, which stays ``held`` until staff recover it into a case. The submitter's acknowledgement email
is case-core's to write, from the shared templates: the submission asked for it in its
``metadata`` (:func:`omnicase.intake_web.forms.autoresponse.acknowledgement_request`).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.messages.repository import InboundMessageRepository
from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseCreated, CaseMessageAdded, HeldMessageKept
from omnicase.kit.intake import confirmed_by


class Acknowledgements:
    async def acknowledge(
        self, session: AsyncSession, events: Iterable[CaseCreated | CaseMessageAdded | HeldMessageKept]
    ) -> None:
        """Settle every message the events name, in one statement (the first event naming one wins)."""
        confirmed = confirmed_by(events)
        repository = InboundMessageRepository(session)
        now = utcnow()
        await repository.acknowledge([(intake_id, case_id) for intake_id, case_id, _ in confirmed.cases], now)
        await repository.acknowledge_held(confirmed.kept, now)
