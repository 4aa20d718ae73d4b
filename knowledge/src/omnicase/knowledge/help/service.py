"""The public help center's reads: published translations of one brand only, never drafts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.knowledge.articles.repository import ArticleRecord, ArticleRepository
from omnicase.knowledge.articles.schemas import Translation, TranslationStatus


@dataclass(frozen=True)
class ArticleView:
    article: ArticleRecord
    translation: Translation
    # Every published translation's locale, this one's included (the page's hreflang alternates).
    locales: list[str]


class HelpCenterService:
    def __init__(self, session: AsyncSession) -> None:
        self.articles = ArticleRepository(session)

    async def article(self, brand: str | None, locale: str, article_id: uuid.UUID) -> ArticleView | None:
        """The article's published ``locale`` translation, or None: the public has no such page."""
        article = await self.articles.get(article_id)
        if article is None or article.archived_at is not None or article.brand != brand:
            return None
        published = [
            translation
            for translation in (await self.articles.translations_of([article_id]))[article_id]
            if translation.status == TranslationStatus.PUBLISHED
        ]
        shown = next((translation for translation in published if translation.locale == locale), None)
        if shown is None:
            return None
        return ArticleView(article, shown, sorted(translation.locale for translation in published))
