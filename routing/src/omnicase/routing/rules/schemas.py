from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import BaseModel, Field, StrictBool

from omnicase.kit.inputs import Integer, PatchInput, StrictInput
from omnicase.routing.engine import RuleConditions
from omnicase.routing.schemas import Name

Position = Field(
    default=None,
    ge=1,
    le=100_000,
    description="1 is evaluated first; the rules at and after it move down one. Left out: last.",
    examples=[1],
)


class RequiredSkill(StrictInput):
    skill_id: uuid.UUID
    min_level: Integer = Field(ge=1, le=10, examples=[5], description="Lowest level an agent must hold (1 to 10).")


class RuleCreate(StrictInput):
    name: Name = Field(examples=["Refunds in German"])
    position: Integer | None = Position
    enabled: StrictBool = True
    conditions: RuleConditions = Field(
        default_factory=RuleConditions,
        examples=[{"channels": ["email"], "languages": ["de"], "keywords": ["refund", "Rückerstattung"]}],
    )
    target_group_id: uuid.UUID = Field(description="The queue matching cases go to.")
    required_skills: list[RequiredSkill] = Field(default_factory=list, max_length=50)
    require_language: StrictBool = Field(
        default=False,
        description="Only agents who speak the case's language may take it, until the case overflows "
        "from its queue (the queue's `overflow_after_seconds`): then anyone in the overflow queue may.",
    )


class RuleUpdate(PatchInput):
    name: Name | None = None
    position: Integer | None = Position
    enabled: StrictBool | None = None
    conditions: RuleConditions | None = None
    target_group_id: uuid.UUID | None = None
    required_skills: list[RequiredSkill] | None = Field(default=None, max_length=50)
    require_language: StrictBool | None = None


class Rule(BaseModel):
    id: uuid.UUID
    name: str = Field(examples=["Refunds in German"])
    position: int
    enabled: bool
    conditions: RuleConditions
    target_group_id: uuid.UUID
    required_skills: list[RequiredSkill]
    require_language: bool
    created_at: datetime
    updated_at: datetime
