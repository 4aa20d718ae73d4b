"""API models of stored inbound messages."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar

from pydantic import BaseModel, Field


class InboundMessage(BaseModel):
    """One stored inbound message: how it came and what became of it."""

    id: uuid.UUID = Field(description="The intake id (MessageReceived.intake_id).")
    mailbox_id: uuid.UUID
    route: str = Field(examples=["smtp"])
    received_at: datetime
    envelope_from: str | None = Field(description='"" is the null sender <>.')
    envelope_to: list[str]
    message_id: str | None
    subject: str | None
    status: str = Field(examples=["pending", "acknowledged", "dropped", "suspended"])
    reason: str | None = Field(description="Why it was dropped or suspended.")
    noise: str | None = Field(examples=["auto_reply", "bounce", "bulk"])
    hold_reason: str | None = Field(
        examples=["noise", "mail_loop", "sender_suspended"],
        description="Held back rather than discarded: case-core's suspended-messages queue has it.",
    )
    parse_errors: list[str]
    case_id: uuid.UUID | None
    published_count: int
    acknowledged_at: datetime | None
    size: int
    page_name: ClassVar[str] = "InboundMessagePage"


class InboundAccepted(BaseModel):
    intake_id: uuid.UUID
    mailbox: str = Field(examples=["support@example.com"])
    status: str = Field(examples=["pending"])
    duplicate: bool = Field(description="The same message was already received for this mailbox.")
    reason: str | None = None


class OutboundMessage(BaseModel):
    """One message we sent (or tried to): exactly what left, and what became of it."""

    id: uuid.UUID = Field(description="case-core's outbound id, or ours for auto-responses and verification mail.")
    case_id: uuid.UUID | None
    mailbox_id: uuid.UUID | None
    kind: str = Field(examples=["reply", "auto_response", "verification"])
    recipients: list[str]
    subject: str
    message_id: str = Field(description="The Message-ID it was sent with (replies thread by it).")
    status: str = Field(examples=["pending", "sent", "failed"])
    attempts: int
    last_error: str | None
    created_at: datetime
    sent_at: datetime | None
    page_name: ClassVar[str] = "OutboundMessagePage"
