"""SLA policies as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from pydantic import ConfigDict, Field, StrictBool
from pydantic.config import JsonDict

from omnicase.kit.events import Priority
from omnicase.kit.inputs import Integer, StrictInput
from omnicase.sla_engine.rules import CaseConditions, EscalationAction


class MilestoneKind(StrEnum):
    FIRST_REPLY = "first_reply"
    NEXT_REPLY = "next_reply"
    PERIODIC_UPDATE = "periodic_update"
    RESOLUTION = "resolution"
    REQUESTER_WAIT = "requester_wait"


class Target(StrictInput):
    minutes: Integer = Field(ge=1, le=365 * 24 * 60, examples=[60])
    business_hours: StrictBool = Field(default=False, description="Count only the policy's schedule's working time.")


class PriorityTargets(StrictInput):
    first_reply: Target | None = None
    next_reply: Target | None = None
    periodic_update: Target | None = None
    resolution: Target | None = None
    requester_wait: Target | None = None

    def target(self, kind: MilestoneKind) -> Target | None:
        value: Target | None = getattr(self, kind.value)
        return value


class Escalation(StrictInput):
    on: Literal["warning", "breach"]
    milestones: list[MilestoneKind] = Field(default_factory=list, description="Empty: every milestone.")
    actions: list[EscalationAction] = Field(min_length=1, max_length=20)

    def applies(self, level: str, kind: MilestoneKind) -> bool:
        return self.on == level and (not self.milestones or kind in self.milestones)


POLICY_EXAMPLE: dict[str, Any] = {
    "name": "Enterprise",
    "conditions": {"organization_id": ["0192f1c0-0000-7000-8000-0000000000cc"], "channel": ["email", "web"]},
    "targets": {
        "urgent": {"first_reply": {"minutes": 30}, "resolution": {"minutes": 240, "business_hours": True}},
        "normal": {"first_reply": {"minutes": 240, "business_hours": True}, "next_reply": {"minutes": 480}},
    },
    "schedule_id": "0192f1c0-0000-7000-8000-0000000000dd",
    "warning_percent": 75,
    "escalations": [
        {"on": "warning", "milestones": ["first_reply"], "actions": [{"type": "add_tags", "tags": ["sla-at-risk"]}]},
        {
            "on": "breach",
            "actions": [
                {"type": "set_priority", "priority": "urgent"},
                {"type": "notify_email", "to": ["support-lead@example.com"]},
                {"type": "webhook", "url": "https://hooks.example.com/sla"},
            ],
        },
    ],
}


# What the policy check holds a body to, said in the schema: without a schedule_id, no target
# counts business hours.
_NO_BUSINESS_HOURS: JsonDict = {
    "properties": {
        "targets": {
            "additionalProperties": {
                "properties": {
                    kind.value: {"properties": {"business_hours": {"const": False}}} for kind in MilestoneKind
                }
            }
        }
    }
}


class PolicyCreate(StrictInput):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [POLICY_EXAMPLE],
            "if": {"required": ["schedule_id"], "properties": {"schedule_id": {"type": "string"}}},
            "else": _NO_BUSINESS_HOURS,
        }
    )

    name: str = Field(min_length=1, max_length=200, examples=["Enterprise"])
    description: str = Field(default="", max_length=2000)
    position: Integer | None = Field(
        default=None, ge=0, le=1_000_000, description="Evaluation order, lowest first; omitted: after the last."
    )
    active: StrictBool = True
    conditions: CaseConditions = Field(default_factory=CaseConditions)
    targets: dict[Priority, PriorityTargets] = Field(
        min_length=1,
        examples=[{"urgent": {"first_reply": {"minutes": 30, "business_hours": False}}}],
    )
    schedule_id: uuid.UUID | None = Field(default=None, description="Required when a target counts business hours.")
    warning_percent: Integer = Field(
        default=75, ge=1, le=99, description="Warn when this share of a target has passed."
    )
    escalations: list[Escalation] = Field(default_factory=list, max_length=50)


class Policy(PolicyCreate):
    # The request example lacks the server-set fields: not this model's example.
    model_config = ConfigDict(json_schema_extra=None)

    id: uuid.UUID
    position: Integer
    created_at: datetime
    updated_at: datetime
    page_name: ClassVar[str] = "PolicyList"
    page_description: ClassVar[str] = "A page of SLA policies, in evaluation order."
