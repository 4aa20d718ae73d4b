"""Every query on articles, their translations and versions."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, cast, exists, func, literal, literal_column, select, update
from sqlalchemy.dialects.postgresql import REGCONFIG

from omnicase.kit.db import any_of
from omnicase.kit.pagination import Page
from omnicase.kit.repository import Repository
from omnicase.knowledge.articles.schemas import ArticleVersion, Translation, TranslationStatus
from omnicase.knowledge.models import articles, translations, vector_value, versions
from omnicase.knowledge.search.analysis import Terms
from omnicase.knowledge.search.embeddings import Embedding


@dataclass(frozen=True)
class ArticleRecord:
    id: uuid.UUID
    brand: str | None
    section_id: uuid.UUID | None
    labels: list[str]
    created_by: str
    created_at: datetime
    updated_at: datetime
    archived_at: datetime | None


@dataclass(frozen=True)
class SearchTerms:
    """A translation's terms as search/analysis.py cut them (its title's and its body's), and its
    meaning vector when a model is configured (search/embeddings.py)."""

    title: Terms
    body: Terms
    embedding: Embedding | None = None

    def columns(self) -> dict[str, Any]:
        """The search columns: the tsvector (title terms weighted A, body terms B) and the vector
        with its model (null without one: a changed text's old vector would be stale)."""
        title, body = func.setweight(_tsvector(self.title), _A), func.setweight(_tsvector(self.body), _B)
        meaning = self.embedding
        return {
            "search_vector": title.op("||")(body),
            "embedding": vector_value(meaning.vector) if meaning else None,
            "embedding_model": meaning.model if meaning else None,
        }


# setweight takes a "char", which a bound text parameter is not.
_A: ColumnElement[str] = literal_column("'A'")
_B: ColumnElement[str] = literal_column("'B'")


def _tsvector(terms: Terms) -> ColumnElement[Any]:
    return func.to_tsvector(cast(literal(terms.config), REGCONFIG), literal(terms.text))


@dataclass(frozen=True)
class ArticleFilter:
    brand: str | None = None
    section_id: uuid.UUID | None = None
    locale: str | None = None
    status: TranslationStatus | None = None
    label: str | None = None


_ARTICLE_COLUMNS = [articles.c[name] for name in ArticleRecord.__dataclass_fields__]
_TRANSLATION_COLUMNS = [translations.c[name] for name in Translation.model_fields]


def _article(row: Any) -> ArticleRecord:
    return ArticleRecord(**row._mapping)


def _translation(row: Any) -> Translation:
    return Translation.model_validate(row._mapping)


def _version(row: Any) -> ArticleVersion:
    return ArticleVersion.model_validate(row._mapping)


class ArticleRepository(Repository):
    async def insert(self, values: dict[str, Any]) -> ArticleRecord:
        row = (await self.session.execute(articles.insert().values(**values).returning(*_ARTICLE_COLUMNS))).one()
        return _article(row)

    async def get(self, article_id: uuid.UUID, *, for_update: bool = False) -> ArticleRecord | None:
        query = select(*_ARTICLE_COLUMNS).where(articles.c.id == article_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).one_or_none()
        return _article(row) if row else None

    async def touch(self, article_id: uuid.UUID, values: dict[str, Any]) -> ArticleRecord:
        statement = update(articles).where(articles.c.id == article_id).values(**values).returning(*_ARTICLE_COLUMNS)
        return _article((await self.session.execute(statement)).one())

    async def rows_after(self, where: ArticleFilter, after: uuid.UUID | None, limit: int) -> list[ArticleRecord]:
        """``limit + 1`` articles in id order after ``after`` (read by :func:`~omnicase.kit.pagination.paginate`)."""
        query = _filtered(select(*_ARTICLE_COLUMNS), where).order_by(articles.c.id).limit(limit + 1)
        if after is not None:
            query = query.where(articles.c.id > after)
        return [_article(row) for row in await self.session.execute(query)]

    async def translations_of(self, article_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, list[Translation]]:
        found: dict[uuid.UUID, list[Translation]] = {article_id: [] for article_id in article_ids}
        if not article_ids:
            return found
        query = (
            select(translations.c.article_id, *_TRANSLATION_COLUMNS)
            .where(any_of(translations.c.article_id, article_ids))
            .order_by(translations.c.article_id, translations.c.created_at, translations.c.locale)
        )
        for row in await self.session.execute(query):
            found[row.article_id].append(_translation(row))
        return found

    async def translation(self, article_id: uuid.UUID, locale: str) -> Translation | None:
        query = select(*_TRANSLATION_COLUMNS).where(
            translations.c.article_id == article_id, translations.c.locale == locale
        )
        row = (await self.session.execute(query)).one_or_none()
        return _translation(row) if row else None

    async def insert_translation(self, values: dict[str, Any], terms: SearchTerms) -> None:
        await self.session.execute(translations.insert().values(**values, **terms.columns()))

    async def update_translation(
        self, article_id: uuid.UUID, locale: str, values: dict[str, Any], terms: SearchTerms
    ) -> None:
        await self.session.execute(
            update(translations)
            .where(translations.c.article_id == article_id, translations.c.locale == locale)
            .values(**values, **terms.columns())
        )

    async def archive(self, article_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(translations)
            .where(translations.c.article_id == article_id)
            .values(status=TranslationStatus.ARCHIVED.value, updated_at=now)
        )

    async def insert_version(self, values: dict[str, Any]) -> None:
        await self.session.execute(versions.insert().values(**values))

    async def versions_page(
        self, article_id: uuid.UUID, locale: str | None, before: uuid.UUID | None, limit: int
    ) -> Page[ArticleVersion]:
        """Newest first."""
        query = select(versions).where(versions.c.article_id == article_id).order_by(versions.c.id.desc())
        if locale is not None:
            query = query.where(versions.c.locale == locale)
        if before is not None:
            query = query.where(versions.c.id < before)
        return await self.paginate(Page[ArticleVersion], query, limit, key=lambda row: [row.id], item=_version)


def _filtered(query: Select[Any], where: ArticleFilter) -> Select[Any]:
    if where.brand is not None:
        query = query.where(articles.c.brand == where.brand)
    if where.section_id is not None:
        query = query.where(articles.c.section_id == where.section_id)
    if where.label is not None:
        query = query.where(articles.c.labels.contains([where.label]))
    if where.locale is not None or where.status is not None:
        matching = select(translations.c.article_id).where(translations.c.article_id == articles.c.id)
        if where.locale is not None:
            matching = matching.where(translations.c.locale == where.locale)
        if where.status is not None:
            matching = matching.where(translations.c.status == where.status.value)
        query = query.where(exists(matching))
    return query
