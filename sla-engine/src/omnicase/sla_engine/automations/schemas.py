"""Time-based automations as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import ConfigDict, Field, StrictBool
from pydantic.config import JsonDict

from omnicase.kit.inputs import Integer, StrictInput
from omnicase.sla_engine.rules import AutomationAction, AutomationConditions


class TimeCondition(StrictInput):
    since: Literal["created", "updated", "pending", "solved", "agent_reply", "customer_message"] = Field(
        description=(
            "What the hours count from. `pending` and `solved`: entering that status (the case must still be in"
            " it). `agent_reply`: the last public agent reply, while the customer has not answered it."
            " `customer_message`: the customer's last message, while no agent has answered it."
        )
    )
    hours: float = Field(gt=0, le=24 * 366, examples=[96])
    business_hours: StrictBool = False


def _only_cases_since(since: str) -> JsonDict:
    """Hours since ``since`` apply to cases with that status only: no other status in the conditions."""
    status: JsonDict = {"anyOf": [{"maxItems": 0}, {"const": [since]}]}
    return {
        "if": {"properties": {"time_condition": {"properties": {"since": {"const": since}}}}},
        "then": {"properties": {"conditions": {"properties": {"status": status}}}},
    }


class AutomationCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "name": "Solve pending cases after 4 business days",
                    "conditions": {"status": ["pending"]},
                    "time_condition": {"since": "pending", "hours": 32, "business_hours": True},
                    "schedule_id": "0192f1c0-0000-7000-8000-0000000000dd",
                    "actions": [{"type": "set_status", "status": "solved"}],
                }
            ],
            # What the automation check holds a body to, said in the schema: business hours need a
            # schedule_id, and hours since pending (or solved) apply to pending (or solved) cases only.
            "allOf": [
                {
                    "if": {"required": ["schedule_id"], "properties": {"schedule_id": {"type": "string"}}},
                    "else": {"properties": {"time_condition": {"properties": {"business_hours": {"const": False}}}}},
                },
                _only_cases_since("pending"),
                _only_cases_since("solved"),
            ],
        }
    )

    name: str = Field(min_length=1, max_length=200, examples=["Close solved cases after 4 days"])
    position: Integer | None = Field(default=None, ge=0, le=1_000_000)
    active: StrictBool = True
    conditions: AutomationConditions = Field(default_factory=AutomationConditions)
    time_condition: TimeCondition
    schedule_id: uuid.UUID | None = Field(default=None, description="Required for business-hours conditions.")
    actions: list[AutomationAction] = Field(min_length=1, max_length=20)


class Automation(AutomationCreate):
    # The request example lacks the server-set fields: not this model's example.
    model_config = ConfigDict(json_schema_extra=None)

    id: uuid.UUID
    position: Integer
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "AutomationList"
    page_description: ClassVar[str] = "A page of automations, in evaluation order."
