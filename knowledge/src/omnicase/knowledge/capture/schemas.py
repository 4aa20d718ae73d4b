"""Articles' links to cases as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

CaseRelation = Literal["captured", "solved"]


class ArticleCase(BaseModel):
    model_config = ConfigDict(frozen=True)
    page_name: ClassVar[str] = "ArticleCasePage"

    case_id: uuid.UUID
    relation: CaseRelation = Field(
        description=(
            "`captured`: the article was drafted from the case; `solved`: the customer said it answered the case."
        )
    )
    linked_by: str = Field(description="Who linked it: the staff member who captured it, or `customer`.")
    linked_at: datetime
