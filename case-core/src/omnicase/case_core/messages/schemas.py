"""Message resources of the API."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from omnicase.kit.inputs import StrictInput


class Attachment(BaseModel):
    sha256: str = Field(description="Content address of the bytes.")
    filename: str
    content_type: str
    size: int = Field(description="Bytes.")
    content_id: str | None = None
    inline: bool = False
    url: str = Field(description="Where to download it (with its Content-Type and a Content-Disposition).")


class Message(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d40",
                    "case_id": "0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d2e",
                    "direction": "inbound",
                    "public": True,
                    "author": "contact:0190f5d2-7c1e-7a3b-9d4e-2f6a8b0c1d2f",
                    "author_role": "customer",
                    "channel": "email",
                    "text": "The printer is smoking again.",
                    "html": "<p>The printer is smoking again.</p>",
                    "email_message_id": "<abc@mail.example>",
                    "conversation_id": None,
                    "created_at": "2026-01-05T09:00:00Z",
                    "attachments": [],
                }
            ]
        }
    )

    id: uuid.UUID
    case_id: uuid.UUID
    direction: Literal["inbound", "outbound"]
    public: bool = Field(description="False for an internal note (agents only).")
    author: str
    author_role: Literal["agent", "customer", "system"]
    channel: str
    text: str
    html: str | None = Field(description="Sanitised: no scripts, no event handlers, no remote images.")
    email_message_id: str | None
    conversation_id: str | None
    created_at: datetime
    attachments: list[Attachment]
    page_name: ClassVar[str] = "MessagePage"


class MessageCreate(StrictInput):
    """A reply (``public: true``, sent to the requester) or an internal note (``public: false``)."""

    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {"text": "We are sending a technician tomorrow.", "public": True},
                {"text": "Customer is on the enterprise plan.", "public": False},
            ]
        }
    )

    text: str = Field(min_length=1, max_length=100_000)
    html: str | None = Field(default=None, max_length=500_000)
    public: bool
    articles: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=3,
        description=(
            "Knowledge articles the reply carries (public replies only): each one's published translation "
            "(English first) is linked at the end of the text and HTML, and knowledge links the article to the case."
        ),
    )
