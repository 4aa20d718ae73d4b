"""What became of a case's mail: the inbound messages it was made of and the mail sent for it."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.inbound.repository import RawMessageRepository
from omnicase.intake_email.inbound.schemas import InboundMessage, OutboundMessage
from omnicase.intake_email.outbound.repository import OutboundRepository
from omnicase.kit.errors import NotFound
from omnicase.kit.pagination import Page, paginate


class MessageNotFound(NotFound):
    pass


def _missing(intake_id: uuid.UUID) -> MessageNotFound:
    return MessageNotFound(f"No inbound message {intake_id}.")


class MailHistory:
    def __init__(self, session: AsyncSession) -> None:
        self.inbound = RawMessageRepository(session)
        self.outbound = OutboundRepository(session)

    async def message(self, intake_id: uuid.UUID) -> InboundMessage:
        row = await self.inbound.get_or_raise(intake_id, _missing)
        return _inbound(row, size=len(row.raw))

    async def source(self, intake_id: uuid.UUID) -> bytes:
        """The message as it came, byte for byte."""
        row = await self.inbound.get_or_raise(intake_id, _missing)
        raw: bytes = row.raw
        return raw

    async def inbound_of_case(self, case_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> Page[InboundMessage]:
        rows = await self.inbound.page_for_case(case_id, after=after, limit=limit + 1)
        return paginate(
            Page[InboundMessage],
            rows,
            limit,
            key=lambda row: [row.id],
            item=lambda row: _inbound(row, size=int(row.size)),
        )

    async def outbound_of_case(self, case_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> Page[OutboundMessage]:
        rows = await self.outbound.page_for_case(case_id, after=after, limit=limit + 1)
        return paginate(Page[OutboundMessage], rows, limit, key=lambda row: [row.id], item=_outbound)


def _inbound(row: Any, *, size: int) -> InboundMessage:
    return InboundMessage(
        id=row.id,
        mailbox_id=row.mailbox_id,
        route=row.route,
        received_at=row.received_at,
        envelope_from=row.envelope_from,
        envelope_to=list(row.envelope_to),
        message_id=row.message_id,
        subject=row.subject,
        status=row.status,
        reason=row.reason,
        noise=row.noise,
        hold_reason=row.hold_reason,
        parse_errors=list(row.parse_errors),
        case_id=row.case_id,
        published_count=row.published_count,
        acknowledged_at=row.acknowledged_at,
        size=size,
    )


def _outbound(row: Any) -> OutboundMessage:
    return OutboundMessage(
        id=row.id,
        case_id=row.case_id,
        mailbox_id=row.mailbox_id,
        kind=row.kind,
        recipients=list(row.recipients),
        subject=row.subject,
        message_id=row.message_id,
        status=row.status,
        attempts=row.attempts,
        last_error=row.last_error,
        created_at=row.created_at,
        sent_at=row.sent_at,
    )
