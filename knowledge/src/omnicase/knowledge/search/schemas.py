"""Search hits as the API shows them."""

from __future__ import annotations

import uuid
from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

from omnicase.kit.inputs import StrictInput
from omnicase.knowledge.articles.schemas import TranslationStatus
from omnicase.knowledge.locales import Locale

# What one analysis takes: a case's text and the solved cases it is compared with (collaboration).
MAX_ANALYSED_TEXTS = 101
MAX_ANALYSED_CHARS = 10_000


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


class AnalysisRequest(StrictInput):
    """Texts in one language, to be cut into terms the way knowledge cuts articles."""

    locale: Locale = Field(description="The texts' language (`ko`, `zh-CN`, `en`…): how they are cut.")
    texts: list[Annotated[str, StringConstraints(max_length=MAX_ANALYSED_CHARS)]] = Field(
        min_length=1, max_length=MAX_ANALYSED_TEXTS
    )


class AnalysedText(BaseModel):
    config: str = Field(description="The PostgreSQL text search configuration that parses `text`.", examples=["simple"])
    text: str = Field(description="What to give it: the text itself, or its words as knowledge cut them (ko, zh).")


class Analysis(BaseModel):
    """Each text's terms, in the order given: ``to_tsvector(config, text)`` indexes it as knowledge would."""

    items: list[AnalysedText]
