"""Search hits as the API shows them."""

from __future__ import annotations

import uuid
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from omnicase.knowledge.articles.schemas import TranslationStatus


class SearchHit(BaseModel):
    model_config = ConfigDict(frozen=True)
    page_name: ClassVar[str] = "SearchHitPage"

    article_id: uuid.UUID
    locale: str
    title: str
    snippet: str = Field(
        description="HTML: a passage of the body, escaped, with each matching word in `<mark>`.",
        examples=["To <mark>reset</mark> your <mark>password</mark>, open Settings…"],
    )
    score: float = Field(description="Relevance; higher is better, comparable within one search only.")
    status: TranslationStatus = Field(description="Agents' searches include drafts.")


class HelpSearchHit(BaseModel):
    """A published article the public help center's search found (widgets show these)."""

    model_config = ConfigDict(frozen=True)
    page_name: ClassVar[str] = "HelpSearchHitPage"

    article_id: uuid.UUID
    locale: str
    title: str
    snippet: str = Field(description="HTML: a passage of the body, escaped, with each matching word in `<mark>`.")
    score: float = Field(description="Relevance; higher is better, comparable within one search only.")
    url: str = Field(description="The article's page in the help center.")
