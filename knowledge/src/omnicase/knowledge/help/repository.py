"""The help center's queries: published translations of one brand, never drafts or archived ones."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select

from omnicase.kit.repository import Repository
from omnicase.knowledge.articles.schemas import TranslationStatus
from omnicase.knowledge.models import articles, translations

# A help center lists at most this many articles on one page (sitemaps allow 50,000 addresses).
MAX_LISTED = 50_000


@dataclass(frozen=True)
class PublishedRow:
    article_id: uuid.UUID
    section_id: uuid.UUID | None
    locale: str
    title: str
    published_at: datetime


class HelpCenterRepository(Repository):
    async def published(
        self, brand: str | None, *, locale: str | None = None, section_id: uuid.UUID | None = None
    ) -> list[PublishedRow]:
        """Published translations of ``brand``'s articles (optionally of one locale or section), by title."""
        query = (
            select(
                translations.c.article_id,
                articles.c.section_id,
                translations.c.locale,
                translations.c.title,
                translations.c.published_at,
            )
            .join(articles, articles.c.id == translations.c.article_id)
            .where(
                articles.c.brand.is_not_distinct_from(brand),
                translations.c.status == TranslationStatus.PUBLISHED.value,
            )
            .order_by(translations.c.title, translations.c.article_id, translations.c.locale)
            .limit(MAX_LISTED)
        )
        if locale is not None:
            query = query.where(translations.c.locale == locale)
        if section_id is not None:
            query = query.where(articles.c.section_id == section_id)
        return [PublishedRow(**row._mapping) for row in await self.session.execute(query)]
