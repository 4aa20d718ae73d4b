"""Article rules: a translation per locale, published changes kept as versions, archiving ends writing.

Each publication (a translation published for the first time, or published again with a
changed title or body) is a new version and one ``article.published`` event; a published
translation set back to draft is ``article.unpublished``; archiving the article archives
every translation and is ``article.archived``. Saving what is already published, unchanged,
is no version and no event.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.brands import BrandDirectory
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NOT_FOUND_CODE, Conflict, FieldError, NotFound, refusal
from omnicase.kit.events import ArticleArchived, ArticlePublished, ArticleUnpublished
from omnicase.kit.identity import Identity
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox
from omnicase.kit.pagination import Page, decode_id_cursor, paginate
from omnicase.knowledge.articles.markdown import RenderedBody, render
from omnicase.knowledge.articles.repository import ArticleFilter, ArticleRecord, ArticleRepository, SearchTerms
from omnicase.knowledge.articles.schemas import (
    Article,
    ArticleCreate,
    ArticleUpdate,
    ArticleVersion,
    Translation,
    TranslationStatus,
    TranslationWrite,
)
from omnicase.knowledge.locales import language_of
from omnicase.knowledge.search.analysis import TextAnalyzer
from omnicase.knowledge.sections.repository import SectionRepository
from omnicase.knowledge.service import SPEC

# A body naming a section of another brand: the stored section decides, so a 409.
SECTION_BRAND = "section_brand"


class ArticleNotFound(NotFound):
    slug, title = "article-not-found", "Article not found"


class ArticleIsArchived(Conflict):
    slug, title = "article-archived", "Article archived"


def article_missing(article_id: uuid.UUID) -> ArticleNotFound:
    return ArticleNotFound(f"Article {article_id} does not exist.")


class ArticleService:
    def __init__(
        self, session: AsyncSession, outbox: Outbox, analyzer: TextAnalyzer, *, brands: BrandDirectory | None = None
    ) -> None:
        self.session = session
        self.outbox = outbox
        self.analyzer = analyzer
        # None only where no request names a brand (the benchmark).
        self.brands = brands
        self.repository = ArticleRepository(session)

    async def create(self, payload: ArticleCreate, author: Identity) -> Article:
        if self.brands is not None:
            await self.brands.check({"body.brand": payload.brand})
        brand = await self._brand_for(payload)
        now = utcnow()
        record = await self.repository.insert(
            {
                "id": uuid7(),
                "brand": brand,
                "section_id": payload.section_id,
                "labels": payload.labels,
                "created_by": author.subject,
                "created_at": now,
                "updated_at": now,
            }
        )
        await self._write_translation(record, payload.locale, payload, None, author, now)
        return await self.get(record.id)

    async def get(self, article_id: uuid.UUID) -> Article:
        record = await self.repository.get_or_raise(article_id, article_missing)
        found = await self.repository.translations_of([record.id])
        return _article(record, found[record.id])

    async def page(self, where: ArticleFilter, cursor: str | None, limit: int) -> Page[Article]:
        """Articles in the order they were created, a page after ``cursor``."""
        rows = await self.repository.rows_after(where, decode_id_cursor(cursor), limit)
        kept = rows[:limit]
        found = await self.repository.translations_of([row.id for row in kept])
        items = [_article(row, found[row.id]) for row in kept]
        return paginate(Page[Article], rows, limit, key=lambda row: [row.id], items=items)

    async def put_translation(
        self, article_id: uuid.UUID, locale: str, payload: TranslationWrite, author: Identity
    ) -> Article:
        """Create or replace the ``locale`` translation."""
        record = await self._writable(article_id)
        current = await self.repository.translation(article_id, locale)
        now = utcnow()
        if await self._write_translation(record, locale, payload, current, author, now):
            await self.repository.touch(article_id, {"updated_at": now})
        return await self.get(article_id)

    async def update(self, article_id: uuid.UUID, payload: ArticleUpdate) -> Article:
        """Move the article to another section of its brand (or none), or relabel it."""
        record = await self._writable(article_id)
        changes = payload.model_dump(exclude_unset=True)
        if payload.section_id is not None:
            await self._section_brand(payload.section_id, record.brand, brand_field="body.section_id")
        if changes:
            await self.repository.touch(article_id, {**changes, "updated_at": utcnow()})
        return await self.get(article_id)

    async def archive(self, article_id: uuid.UUID, author: Identity) -> Article:
        await self._writable(article_id)
        now = utcnow()
        await self.repository.archive(article_id, now)
        await self.repository.touch(article_id, {"archived_at": now, "updated_at": now})
        await self._announce(
            article_id, ArticleArchived(article_id=article_id, author_id=author.subject, archived_at=now)
        )
        return await self.get(article_id)

    async def versions(
        self, article_id: uuid.UUID, locale: str | None, cursor: str | None, limit: int
    ) -> Page[ArticleVersion]:
        """The published versions, newest first."""
        await self.repository.get_or_raise(article_id, article_missing)
        return await self.repository.versions_page(article_id, locale, decode_id_cursor(cursor), limit)

    async def _writable(self, article_id: uuid.UUID) -> ArticleRecord:
        # Locked: two writers of one article take turns, so version numbers never collide.
        record = await self.repository.get(article_id, for_update=True)
        if record is None:
            raise article_missing(article_id)
        if record.archived_at is not None:
            raise ArticleIsArchived(f"Article {article_id} is archived; it can no longer be changed.")
        return record

    async def _brand_for(self, payload: ArticleCreate) -> str | None:
        if payload.section_id is None:
            return payload.brand
        if payload.brand is None:
            return await self._section_brand(payload.section_id, None, brand_field=None)
        return await self._section_brand(payload.section_id, payload.brand, brand_field="body.brand")

    async def _section_brand(self, section_id: uuid.UUID, brand: str | None, *, brand_field: str | None) -> str | None:
        """The brand of the section ``section_id``, which must be ``brand`` unless ``brand_field`` is None."""
        section = await SectionRepository(self.session).get(section_id)
        if section is None:
            error = FieldError(field="body.section_id", message="no section has this id", code=NOT_FOUND_CODE)
            raise refusal("The article names a section that does not exist.", [error])
        if brand_field is not None and brand != section.brand:
            owner = f"brand {section.brand!r}" if section.brand else "the default brand"
            error = FieldError(field=brand_field, message=f"the section belongs to {owner}", code=SECTION_BRAND)
            raise refusal("The article's brand is not its section's.", [error], conflicts={SECTION_BRAND})
        return section.brand

    async def _write_translation(
        self,
        record: ArticleRecord,
        locale: str,
        payload: TranslationWrite,
        current: Translation | None,
        author: Identity,
        now: datetime,
    ) -> bool:
        """Store the translation, its version and its event; False when nothing changed."""
        publish = payload.status == "published"
        changed = current is None or (current.title, current.body) != (payload.title, payload.body)
        if current is not None and not changed and current.status == payload.status:
            return False
        new_version = publish and (changed or current is None or current.status != TranslationStatus.PUBLISHED)
        version = (current.version if current else 0) + (1 if new_version else 0)
        language = language_of(locale)
        # Rendering and cutting a long body into terms is CPU work (and may load a model): off the loop.
        rendered, terms = await asyncio.to_thread(self._prepare, payload, language)
        values = {
            "title": payload.title,
            "body": payload.body,
            "body_html": rendered.html,
            "language": language,
            "body_text": rendered.text,
            "status": payload.status,
            "version": version,
            "updated_at": now,
            "updated_by": author.subject,
            "published_at": now if new_version else (current.published_at if current else None),
        }
        if current is None:
            await self.repository.insert_translation(
                {"article_id": record.id, "locale": locale, "brand": record.brand, "created_at": now, **values}, terms
            )
        else:
            await self.repository.update_translation(record.id, locale, values, terms)
        if new_version:
            await self.repository.insert_version(
                {
                    "id": uuid7(),
                    "article_id": record.id,
                    "locale": locale,
                    "version": version,
                    "title": payload.title,
                    "body": payload.body,
                    "author_id": author.subject,
                    "author_name": author.name,
                    "published_at": now,
                }
            )
            await self._announce(
                record.id,
                ArticlePublished(
                    article_id=record.id,
                    locale=locale,
                    brand=record.brand,
                    section_id=record.section_id,
                    title=payload.title,
                    version=version,
                    author_id=author.subject,
                    published_at=now,
                ),
            )
        elif current is not None and current.status == TranslationStatus.PUBLISHED and not publish:
            await self._announce(
                record.id,
                ArticleUnpublished(article_id=record.id, locale=locale, author_id=author.subject, unpublished_at=now),
            )
        return True

    def _prepare(self, payload: TranslationWrite, language: str) -> tuple[RenderedBody, SearchTerms]:
        rendered = render(payload.body)
        embedder = self.analyzer.embedder
        terms = SearchTerms(
            title=self.analyzer.terms(payload.title, language),
            body=self.analyzer.terms(rendered.text, language),
            embedding=embedder.passage(payload.title, rendered.text) if embedder else None,
        )
        return rendered, terms

    async def _announce(
        self, article_id: uuid.UUID, data: ArticlePublished | ArticleUnpublished | ArticleArchived
    ) -> None:
        await self.outbox.add(self.session, data, source=SPEC.name, subject=str(article_id), key=str(article_id))


def _article(record: ArticleRecord, translations: list[Translation]) -> Article:
    return Article(
        id=record.id,
        brand=record.brand,
        section_id=record.section_id,
        labels=record.labels,
        created_by=record.created_by,
        created_at=record.created_at,
        updated_at=record.updated_at,
        archived_at=record.archived_at,
        translations=translations,
    )
