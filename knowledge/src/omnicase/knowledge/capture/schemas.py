"""Articles' links to cases as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, ClassVar, Literal

from pydantic import BaseModel, ConfigDict, Field

from omnicase.kit.inputs import StrictInput, Trimmed
from omnicase.knowledge.locales import Locale

CaseRelation = Literal["captured", "solved", "attached"]


class ArticleCase(BaseModel):
    model_config = ConfigDict(frozen=True)
    page_name: ClassVar[str] = "ArticleCasePage"

    case_id: uuid.UUID
    relation: CaseRelation = Field(
        description=(
            "`captured`: the article was drafted from the case; `solved`: the customer said it answered the case; "
            "`attached`: a reply on the case carried its link."
        )
    )
    linked_by: str = Field(description="Who linked it: the staff member who captured it, or `customer`.")
    linked_at: datetime
    swarm_id: uuid.UUID | None = Field(
        default=None, description="The swarm whose outcome the article was captured with (collaboration's), if any."
    )


class CaseCapture(StrictInput):
    """What a swarm around the case adds to the draft (collaboration sends it when a swarm is resolved)."""

    swarm_id: uuid.UUID | None = Field(default=None, description="The swarm the article links back to.")
    outcome: Annotated[str, Trimmed(20_000)] | None = Field(
        default=None, description="The swarm's outcome, the draft's last paragraph (enough when no public answer)."
    )


class ArticleAttach(StrictInput):
    case_id: uuid.UUID
    locale: Locale | None = Field(
        default=None, description="The translation to link; left out: the first published one (English first)."
    )


class AttachedArticle(BaseModel):
    """The article a reply carries: its published translation's title and help-center address."""

    article_id: uuid.UUID
    case_id: uuid.UUID
    locale: str
    title: str
    url: str
