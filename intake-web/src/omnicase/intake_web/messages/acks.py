"""End-to-end acknowledgement: case-core's case events confirm the messages this intake sent.

A ``case.created`` or ``case.message_added`` naming one of our intake ids marks that
message acknowledged (it will not be republished). A new case opened by a web form
with an email field, whose form asks for it, gets the acknowledgement auto-response:
an ``outbound.message_requested`` on the email channel (intake-email sends it).
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_web.forms.autoresponse import DEFAULT_SUBJECT, DEFAULT_TEXT, fill, pick
from omnicase.intake_web.forms.repository import FormRepository
from omnicase.intake_web.forms.schemas import FormIn
from omnicase.intake_web.messages.repository import PENDING, InboundMessageRepository
from omnicase.intake_web.service import SPEC
from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseCreated, CaseMessageAdded, CaseSnapshot, Channel, OutboundMessageRequested, Party
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox

logger = logging.getLogger(__name__)


class Acknowledgements:
    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox

    async def case_created(self, session: AsyncSession, event: CaseCreated) -> None:
        if event.source_intake_id is not None:
            await self._acknowledge(session, event.source_intake_id, event.case.case_id, event.case)

    async def message_added(self, session: AsyncSession, event: CaseMessageAdded) -> None:
        if event.source_intake_id is not None and event.direction == "inbound":
            await self._acknowledge(session, event.source_intake_id, event.case_id, None)

    async def _acknowledge(
        self, session: AsyncSession, intake_id: uuid.UUID, case_id: uuid.UUID, new_case: CaseSnapshot | None
    ) -> None:
        messages = InboundMessageRepository(session)
        row = await messages.get(intake_id, lock=True)
        if row is None or row.status != PENDING:
            return
        now = utcnow()
        await messages.acknowledge(intake_id, case_id, now)
        wants_auto_response = new_case is not None and row.form_id is not None and row.auto_response_at is None
        if wants_auto_response and new_case is not None and await self._auto_respond(session, row, new_case):
            await messages.mark_auto_responded(intake_id, now)

    async def _auto_respond(self, session: AsyncSession, row: Any, case: CaseSnapshot) -> bool:
        email = row.fields.get("email")
        if not email:
            return False
        form_row = await FormRepository(session).get(row.form_id)
        if form_row is None:
            return False
        form = FormIn.model_validate(form_row.definition)
        if not form.auto_response:
            return False
        name = row.fields.get("name") or ""
        locale = str(row.event.get("metadata", {}).get("locale") or form.default_locale)
        values = {
            "name": name,
            "email": email,
            "subject": row.fields.get("subject") or case.subject,
            "case_number": str(case.number),
        }
        subject = fill(pick(form.auto_response_subject, locale, form.default_locale, DEFAULT_SUBJECT), values)
        text = fill(pick(form.auto_response_text, locale, form.default_locale, DEFAULT_TEXT), values)
        request = OutboundMessageRequested(
            outbound_id=uuid7(),
            case_id=case.case_id,
            channel=Channel.EMAIL,
            to=[Party(email=email, name=name or None)],
            subject=subject[:300],
            text=text,
            automatic=True,
        )
        await self.outbox.add(session, request, source=SPEC.name, subject=str(case.case_id), key=str(case.case_id))
        logger.info("auto-response requested", extra={"case_id": str(case.case_id), "intake_id": str(row.id)})
        return True
