"""The public help center's reads: published translations of one brand only, never drafts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.knowledge.articles.repository import ArticleRecord, ArticleRepository
from omnicase.knowledge.articles.schemas import Translation, TranslationStatus
from omnicase.knowledge.help.repository import HelpCenterRepository, PublishedRow
from omnicase.knowledge.sections.repository import SectionRepository
from omnicase.knowledge.sections.schemas import Section

# A help center's home lists this many sections at most.
MAX_SECTIONS = 1000


@dataclass(frozen=True)
class ArticleView:
    article: ArticleRecord
    translation: Translation
    # Every published translation's locale, this one's included (the page's hreflang alternates).
    locales: list[str]


@dataclass(frozen=True)
class SectionView:
    section: Section
    articles: list[PublishedRow]


class HelpCenterService:
    def __init__(self, session: AsyncSession) -> None:
        self.articles = ArticleRepository(session)
        self.repository = HelpCenterRepository(session)
        self.sections = SectionRepository(session)

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

    async def home(self, brand: str | None, locale: str) -> tuple[list[SectionView], list[PublishedRow]]:
        """The brand's sections with their articles in ``locale`` (sections without any left out), and
        the articles in no section."""
        listed = await self.repository.published(brand, locale=locale)
        by_section: dict[uuid.UUID | None, list[PublishedRow]] = {}
        for row in listed:
            by_section.setdefault(row.section_id, []).append(row)
        views = [
            SectionView(section, by_section[section.id])
            for section in await self._sections(brand)
            if section.id in by_section
        ]
        return views, by_section.get(None, [])

    async def section(self, brand: str | None, locale: str, section_id: uuid.UUID) -> SectionView | None:
        found = await self.sections.get(section_id)
        if found is None or found.brand != brand:
            return None
        return SectionView(found, await self.repository.published(brand, locale=locale, section_id=section_id))

    async def sitemap(self, brand: str | None) -> dict[uuid.UUID, list[PublishedRow]]:
        """Every published translation of the brand, by article (each article's translations are alternates)."""
        by_article: dict[uuid.UUID, list[PublishedRow]] = {}
        for row in await self.repository.published(brand):
            by_article.setdefault(row.article_id, []).append(row)
        return by_article

    async def _sections(self, brand: str | None) -> list[Section]:
        return (await self.sections.page(brand, None, MAX_SECTIONS)).items
