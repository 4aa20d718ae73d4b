"""Synonym sets as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from omnicase.kit.inputs import StrictInput, Trimmed
from omnicase.knowledge.locales import Locale

MAX_TERMS = 20
Term = Annotated[str, Trimmed(100)]


class SynonymSetCreate(StrictInput):
    """Words or phrases a search in ``locale``'s language reads as one meaning."""

    locale: Locale = Field(
        description="The queries it applies to: every query in this locale's language (`zh-CN`: Chinese).",
        examples=["en"],
    )
    terms: list[Term] = Field(
        min_length=2,
        max_length=MAX_TERMS,
        description="Two or more words or phrases; a query holding one is searched for the others too.",
        examples=[["refund", "money back", "reimbursement"]],
    )


class SynonymSet(BaseModel):
    model_config = ConfigDict(frozen=True, from_attributes=True)
    page_name: ClassVar[str] = "SynonymSetPage"

    id: uuid.UUID
    locale: str
    terms: list[str]
    created_at: datetime
    updated_at: datetime
    updated_by: str
