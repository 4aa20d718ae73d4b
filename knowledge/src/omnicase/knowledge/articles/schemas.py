"""Articles, their translations and versions as the API shows them."""

from __future__ import annotations

import uuid
from datetime import datetime
from enum import StrEnum
from typing import Annotated, ClassVar, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints

from omnicase.kit.inputs import PatchInput, StrictInput, Trimmed
from omnicase.knowledge.locales import Locale
from omnicase.knowledge.sections.schemas import Brand


class TranslationStatus(StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    ARCHIVED = "archived"


# What a writer sets; an article is archived as a whole, by its own action.
WritableStatus = Literal["draft", "published"]

Title = Annotated[str, Trimmed(300)]
Body = Annotated[str, StringConstraints(max_length=200_000)]
Label = Annotated[str, Trimmed(100)]


def _distinct(labels: list[str]) -> list[str]:
    return list(dict.fromkeys(labels))


Labels = Annotated[list[Label], Field(max_length=50), AfterValidator(_distinct)]


class TranslationWrite(StrictInput):
    title: Title = Field(examples=["Reset your password"])
    body: Body = Field(description="Markdown (CommonMark with tables); rendered and sanitised as `body_html`.")
    status: WritableStatus = Field(description="`published` keeps this text as a new version.")


class ArticleCreate(TranslationWrite):
    locale: Locale = Field(description="The locale of this first translation.", examples=["en", "ko", "zh-CN"])
    section_id: uuid.UUID | None = None
    brand: Brand | None = Field(
        default=None,
        description="The slug of a brand of `/api/v1/brands`; left out: the section's brand, else the default brand.",
    )
    labels: Labels = Field(default_factory=list)


class ArticleUpdate(PatchInput):
    nullable = frozenset({"section_id"})

    section_id: uuid.UUID | None = Field(default=None, description="null: no section. Within the article's brand.")
    labels: Labels | None = None


class Translation(BaseModel):
    model_config = ConfigDict(frozen=True)

    locale: str
    title: str
    body: str
    body_html: str = Field(description="The body rendered from Markdown and sanitised.")
    status: TranslationStatus
    version: int = Field(description="Published versions so far (0: never published).")
    created_at: datetime
    updated_at: datetime
    updated_by: str
    published_at: datetime | None


class Article(BaseModel):
    model_config = ConfigDict(frozen=True)
    page_name: ClassVar[str] = "ArticlePage"

    id: uuid.UUID
    brand: str | None
    section_id: uuid.UUID | None
    labels: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None
    translations: list[Translation]


class ArticleVersion(BaseModel):
    model_config = ConfigDict(frozen=True)
    page_name: ClassVar[str] = "ArticleVersionPage"

    id: uuid.UUID
    article_id: uuid.UUID
    locale: str
    version: int
    title: str
    body: str
    author_id: str
    author_name: str | None
    published_at: datetime
