"""Notification API shapes."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from omnicase.case_core.notifications.repository import NotificationRow

_EXAMPLE: dict[str, Any] = {
    "id": "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e20",
    "reason": "trigger:0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e21",
    "case_id": "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e22",
    "trigger_id": "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e21",
    "recipient_kind": "group",
    "recipient_id": "0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e10",
    "recipients": ["ada@example.com", "grace@example.com"],
    "subject": "[#1042] Printer on fire",
    "status": "failed",
    "attempts": 8,
    "last_error": "routing answered 503 to GET /api/v1/groups/0192f0c4-3c1e-7d1a-9a51-5a4b7c3d2e10",
    "created_at": "2026-11-23T14:00:00Z",
    "updated_at": "2026-11-23T16:10:00Z",
}


class Notification(BaseModel):
    """An email to staff and what became of it: ``pending`` (recipients not resolved yet),
    ``requested`` (handed to the email intake), ``sent`` or ``failed`` (with ``last_error``)."""

    model_config = ConfigDict(json_schema_extra={"examples": [_EXAMPLE]})

    id: uuid.UUID
    reason: str = Field(description="What asked for it: trigger:<id> or webhook_disabled:<id>.")
    case_id: uuid.UUID | None
    trigger_id: uuid.UUID | None
    recipient_kind: Literal["agent", "group", "email"]
    recipient_id: uuid.UUID | None = Field(description="The agent or group (routing's ids).")
    recipients: list[str] = Field(description="The addresses it went to, once resolved.")
    subject: str
    status: Literal["pending", "requested", "sent", "failed"]
    attempts: int
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "NotificationPage"


def to_notification(row: NotificationRow) -> Notification:
    return Notification.model_validate(row, from_attributes=True)
