"""Held-message API shapes (``/api/v1/suspended-messages``)."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from omnicase.case_core.held.repository import HeldMessageRow
from omnicase.kit.events import AttachmentRef, Channel, HoldReason, Party

_EXAMPLE: dict[str, Any] = {
    "id": "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e20",
    "channel": "email",
    "reason": "noise",
    "detail": "bounce not in reply to any case: Content-Type multipart/report; report-type=delivery-status",
    "sender": {"email": "mailer-daemon@example.net", "name": "Mail Delivery System"},
    "subject": "Undelivered Mail Returned to Sender",
    "preview": "This is the mail system at host example.net. I'm sorry to have to inform you…",
    "received_at": "2026-11-23T14:00:00Z",
    "held_at": "2026-11-23T14:00:01Z",
    "expires_at": "2026-12-07T14:00:01Z",
    "source_url": "/api/v1/mailboxes/-/messages/0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e20/source",
}


class HeldMessageSummary(BaseModel):
    """A message an intake held back instead of making it a case, and why."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: uuid.UUID = Field(description="The intake's id of the stored message.")
    channel: Channel
    reason: HoldReason = Field(
        description="noise (bounce, bulk or auto-reply answering no case), mail_loop (sent from one of our own "
        "addresses), sender_suspended (the loop guard stopped a sender), spam."
    )
    detail: str = Field(description="Which rule held it, in the intake's words.")
    sender: Party
    subject: str | None
    preview: str = Field(description="The start of its text.")
    received_at: datetime
    held_at: datetime
    expires_at: datetime = Field(description="When it is deleted unless recovered first.")
    source_url: str | None = Field(description="Where its raw source is read, for channels that keep one (email).")
    page_name: ClassVar[str] = "HeldMessagePage"
    page_description: ClassVar[str | None] = None


class HeldMessage(HeldMessageSummary):
    """The held message whole, and what became of it."""

    status: Literal["held", "recovered", "deleted"]
    recipient: str | None
    text: str
    html: str | None
    attachments: list[AttachmentRef]
    case_id: uuid.UUID | None = Field(description="The case it became (or joined), once recovered.")
    case_number: int | None
    settled_by: str | None = Field(description="Who recovered or deleted it.")
    settled_at: datetime | None


def summary(row: HeldMessageRow) -> HeldMessageSummary:
    return HeldMessageSummary.model_validate(_common(row))


def whole(row: HeldMessageRow) -> HeldMessage:
    message = row.message
    return HeldMessage.model_validate(
        _common(row)
        | {
            "status": row.status,
            "recipient": message.get("recipient"),
            "text": message.get("text") or "",
            "html": message.get("html"),
            "attachments": message.get("attachments") or [],
            "case_id": row.case_id,
            "case_number": row.case_number,
            "settled_by": row.settled_by,
            "settled_at": row.settled_at,
        }
    )


def _common(row: HeldMessageRow) -> dict[str, Any]:
    message = row.message
    source_url = (message.get("metadata") or {}).get("source_url")
    return {
        "id": row.id,
        "channel": row.channel,
        "reason": row.reason,
        "detail": row.detail,
        "sender": row.sender,
        "subject": row.subject,
        "preview": " ".join((message.get("text") or "").split())[:200],
        "received_at": row.received_at,
        "held_at": row.held_at,
        "expires_at": row.expires_at,
        "source_url": source_url if isinstance(source_url, str) else None,
    }
