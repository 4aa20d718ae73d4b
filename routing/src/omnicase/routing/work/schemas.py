from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field

from omnicase.kit.events import Channel, Priority
from omnicase.kit.inputs import StrictInput

CaseState = Literal["unrouted", "waiting", "offered", "assigned", "manual", "closed"]
OfferStatus = Literal["pending", "accepted", "declined", "expired", "revoked", "completed"]


class QueueSummary(BaseModel):
    group_id: uuid.UUID
    name: str
    routing_model: str
    waiting: int = Field(description="Cases waiting for an agent.")
    offered: int = Field(description="Cases offered to an agent and not yet accepted.")
    oldest_queued_at: datetime | None
    longest_wait_seconds: float = Field(description="How long the oldest case has been waiting (0 when none).")


class QueuedWork(BaseModel):
    case_id: uuid.UUID
    number: int
    subject: str
    channel: Channel
    priority: Priority
    state: Literal["waiting", "offered"]
    offered_to: uuid.UUID | None = Field(description="The agent holding the offer while `offered`.")
    queued_at: datetime
    wait_seconds: float = Field(examples=[42.5])
    cost: int
    required_skills: dict[str, int] = Field(description="Skill id → minimum level.")


class RoutedCase(BaseModel):
    """Routing's view of one case."""

    case_id: uuid.UUID
    number: int
    subject: str
    status: str
    priority: Priority
    channel: Channel
    state: CaseState = Field(
        description="unrouted (no queue), waiting, offered (awaiting acceptance), assigned (by routing), "
        "manual (assigned by a person; rules leave it alone), closed (solved or closed)."
    )
    group_id: uuid.UUID | None
    assignee_id: uuid.UUID | None
    rule_id: uuid.UUID | None
    required_skills: dict[str, int]
    cost: int
    queued_at: datetime | None
    holder_id: uuid.UUID | None = Field(description="The agent whose capacity the case holds.")


class Decision(BaseModel):
    seq: int = Field(description="Order of the decisions of this case.")
    case_id: uuid.UUID
    at: datetime
    kind: str = Field(
        examples=["offered"],
        description="queued, waiting, offered, assigned, accepted, declined, expired, revoked, manual, "
        "released or unrouted.",
    )
    summary: str = Field(examples=["new case: offered to agent … for 30 s; best of 3 eligible in 'Billing'."])
    rule_id: uuid.UUID | None
    group_id: uuid.UUID | None
    agent_id: uuid.UUID | None
    details: dict[str, Any] = Field(
        description="Rules evaluated with why each did or did not match; candidates considered with why each "
        "was or was not chosen."
    )


class Offer(BaseModel):
    id: uuid.UUID
    case_id: uuid.UUID
    agent_id: uuid.UUID
    group_id: uuid.UUID
    status: OfferStatus
    cost: int
    created_at: datetime
    expires_at: datetime | None
    decided_at: datetime | None
    decline_reason: str | None


class OfferDecline(StrictInput):
    reason: str = Field(default="declined", min_length=1, max_length=500, examples=["not my area"])


def offer_of(row: object) -> Offer:
    return Offer.model_validate(row, from_attributes=True)
