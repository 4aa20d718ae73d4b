from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field, StringConstraints, WithJsonSchema

from omnicase.kit.inputs import StrictInput
from omnicase.routing.schemas import KEEPS_A_CHARACTER, Description

SkillName = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=100),
    WithJsonSchema({"type": "string", "minLength": 1, "maxLength": 100, "pattern": KEEPS_A_CHARACTER}),
]


class SkillCreate(StrictInput):
    name: SkillName = Field(examples=["billing"])
    description: Description = Field(default="", examples=["Invoices, refunds and payment methods."])


class SkillUpdate(StrictInput):
    name: SkillName | None = Field(default=None, examples=["billing"])
    description: Description | None = None


class Skill(BaseModel):
    id: uuid.UUID
    name: str = Field(examples=["billing"])
    description: str
    created_at: datetime
    updated_at: datetime
