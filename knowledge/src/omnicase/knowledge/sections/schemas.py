"""Sections as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from omnicase.kit.brands import SLUG_PATTERN
from omnicase.kit.inputs import Integer, PatchInput, StrictInput, Trimmed

# A brand by its slug (case-core's brands; a slug nobody has is refused where a body names it).
Brand = Annotated[str, StringConstraints(min_length=1, max_length=100, pattern=SLUG_PATTERN)]
SectionName = Annotated[str, Trimmed(200)]
SectionDescription = Annotated[str, StringConstraints(max_length=2000)]
POSITION = Field(default=None, ge=0, le=1_000_000, description="Order within the brand; left out: after the last.")


class SectionCreate(StrictInput):
    brand: Brand | None = Field(
        default=None, description="The slug of a brand of `/api/v1/brands`; null: the default brand.", examples=["acme"]
    )
    name: SectionName = Field(examples=["Account and sign-in"])
    description: SectionDescription = ""
    position: Integer | None = POSITION


class SectionUpdate(PatchInput):
    name: SectionName | None = None
    description: SectionDescription | None = None
    position: Integer | None = Field(default=None, ge=0, le=1_000_000)


class Section(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)
    page_name: ClassVar[str] = "SectionPage"

    id: uuid.UUID
    brand: str | None
    name: str
    description: str
    position: int
    created_at: datetime
    updated_at: datetime
