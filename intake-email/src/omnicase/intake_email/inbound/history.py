"""What became of a case's mail: the inbound messages it was made of and the mail sent for it."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.intake_email.inbound.repository import RawMessageRepository
from omnicase.intake_email.inbound.schemas import InboundMessage, OutboundMessage
from omnicase.intake_email.outbound.repository import OutboundRepository
from omnicase.kit.errors import NotFound
from omnicase.kit.pagination import Page, paginate

M = TypeVar("M", bound=BaseModel)


class MessageNotFound(NotFound):
    pass


def _from_row(model: type[M]) -> Callable[[Any], M]:
    """A row's columns as ``model``'s fields of the same names."""
    return lambda row: model.model_validate(row, from_attributes=True)


def _missing(intake_id: uuid.UUID) -> MessageNotFound:
    return MessageNotFound(f"No inbound message {intake_id}.")


class MailHistory:
    def __init__(self, session: AsyncSession) -> None:
        self.inbound = RawMessageRepository(session)
        self.outbound = OutboundRepository(session)

    async def message(self, intake_id: uuid.UUID) -> InboundMessage:
        row = await self.inbound.get_or_raise(intake_id, _missing)
        return InboundMessage.model_validate({**row._mapping, "size": len(row.raw)})

    async def source(self, intake_id: uuid.UUID) -> bytes:
        """The message as it came, byte for byte."""
        row = await self.inbound.get_or_raise(intake_id, _missing)
        raw: bytes = row.raw
        return raw

    async def inbound_of_case(self, case_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> Page[InboundMessage]:
        rows = await self.inbound.page_for_case(case_id, after=after, limit=limit + 1)
        return paginate(Page[InboundMessage], rows, limit, key=lambda row: [row.id], item=_from_row(InboundMessage))

    async def outbound_of_case(self, case_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> Page[OutboundMessage]:
        rows = await self.outbound.page_for_case(case_id, after=after, limit=limit + 1)
        return paginate(Page[OutboundMessage], rows, limit, key=lambda row: [row.id], item=_from_row(OutboundMessage))
