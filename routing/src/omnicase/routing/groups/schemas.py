from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field

from omnicase.kit.inputs import Integer, PatchInput, StrictInput
from omnicase.routing.engine import RoutingModel
from omnicase.routing.schemas import Description, Name

OFFER_TIMEOUT = Field(
    default=None,
    ge=1,
    le=3600,
    description="Seconds an agent has to accept an offer before it goes to the next agent; null: auto-accept.",
    examples=[30],
)
OVERFLOW_AFTER = Field(
    default=None,
    ge=1,
    le=7 * 24 * 3600,
    description="Seconds a case may wait in this queue before it moves to `overflow_group_id`.",
    examples=[600],
)


class GroupCreate(StrictInput):
    name: Name = Field(examples=["Billing"])
    description: Description = ""
    routing_model: RoutingModel = Field(
        default=RoutingModel.BEST_AVAILABLE,
        description="best_available: every required skill, then most free capacity, then longest idle; "
        "round_robin: rotate through eligible agents; least_active: fewest active cases.",
    )
    offer_timeout_seconds: Integer | None = OFFER_TIMEOUT
    overflow_after_seconds: Integer | None = OVERFLOW_AFTER
    overflow_group_id: uuid.UUID | None = Field(default=None, description="The fallback queue.")


class GroupUpdate(PatchInput):
    nullable = frozenset({"offer_timeout_seconds", "overflow_after_seconds", "overflow_group_id"})

    name: Name | None = None
    description: Description | None = None
    routing_model: RoutingModel | None = None
    offer_timeout_seconds: Integer | None = OFFER_TIMEOUT
    overflow_after_seconds: Integer | None = OVERFLOW_AFTER
    overflow_group_id: uuid.UUID | None = None


class Group(BaseModel):
    id: uuid.UUID
    name: str = Field(examples=["Billing"])
    description: str
    routing_model: RoutingModel
    offer_timeout_seconds: int | None
    overflow_after_seconds: int | None
    overflow_group_id: uuid.UUID | None
    created_at: datetime
    updated_at: datetime
