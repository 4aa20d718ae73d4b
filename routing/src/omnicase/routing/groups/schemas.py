from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from pydantic.config import JsonDict

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


# What the groups' _check holds a body to, said in the schema: a wait limit and a fallback queue
# come together (in a change, when the body gives both).
def _given(field: str, kind: str) -> JsonDict:
    return {"required": [field], "properties": {field: {"type": kind}}}


_LIMIT, _NO_LIMIT = _given("overflow_after_seconds", "integer"), _given("overflow_after_seconds", "null")
_FALLBACK, _NO_FALLBACK = _given("overflow_group_id", "string"), _given("overflow_group_id", "null")


class GroupCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={"allOf": [{"if": _LIMIT, "then": _FALLBACK}, {"if": _FALLBACK, "then": _LIMIT}]}
    )

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
    model_config = ConfigDict(
        json_schema_extra={"not": {"anyOf": [{"allOf": [_LIMIT, _NO_FALLBACK]}, {"allOf": [_FALLBACK, _NO_LIMIT]}]}}
    )

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
