from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated

from pydantic import BaseModel, Field

from omnicase.kit.inputs import StrictInput, Trimmed
from omnicase.routing.schemas import Description

SkillName = Annotated[str, Trimmed(100)]


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
