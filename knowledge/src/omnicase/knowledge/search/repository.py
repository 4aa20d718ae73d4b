"""The search query: ranked full-text matches (tsvector) and trigram matches (pg_trgm) of translations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import reduce
from typing import Any

from sqlalchemy import ColumnElement, Float, Text, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import REGCONFIG

from omnicase.kit.repository import Repository
from omnicase.knowledge.articles.schemas import TranslationStatus
from omnicase.knowledge.models import articles, translations
from omnicase.knowledge.search.analysis import Terms

# Title matches count above body matches twice over: in the tsvector's weights (A over B) and here.
TITLE_SIMILARITY = 0.5
BODY_SIMILARITY = 0.2


@dataclass(frozen=True)
class SearchQuery:
    text: str
    # Each part is a configuration and its words; a translation matching any word of any part is found.
    parts: list[Terms]
    brand: str | None
    locale: str | None
    language: str | None
    # The public's searches and the customers' suggestions: published translations of exactly one
    # brand (``brand`` None: the default brand), where agents' searches take None as every brand.
    public: bool = False


@dataclass(frozen=True)
class HitRow:
    article_id: uuid.UUID
    locale: str
    title: str
    status: TranslationStatus
    body_text: str
    score: float
    query_text: str


def _tsquery(parts: list[Terms]) -> ColumnElement[Any] | None:
    queries: list[ColumnElement[Any]] = [
        func.to_tsquery(cast(literal(part.config), REGCONFIG), literal(" | ".join(f"'{word}'" for word in words)))
        for part in parts
        if (words := part.text.split())
    ]
    return reduce(lambda left, right: left.op("||")(right), queries) if queries else None


class SearchRepository(Repository):
    async def languages(self) -> list[str]:
        """The languages the translations are written in."""
        return list(await self.session.scalars(select(translations.c.language).distinct()))

    async def publishes(self, language: str, brand: str | None) -> bool:
        """Whether ``brand`` (None: the default brand) has a published translation in ``language``."""
        found = (
            select(translations.c.article_id)
            .join(articles, articles.c.id == translations.c.article_id)
            .where(
                translations.c.language == language,
                translations.c.status == TranslationStatus.PUBLISHED.value,
                articles.c.brand.is_not_distinct_from(brand),
            )
            .limit(1)
        )
        return await self.session.scalar(found) is not None

    async def search(self, query: SearchQuery, offset: int, limit: int) -> list[HitRow]:
        """``limit + 1`` hits from ``offset`` on, best first."""
        text = literal(query.text)
        tsquery = _tsquery(query.parts)
        # word_similarity(q, text) > its threshold (0.6): q is close to some stretch of the text.
        similar = or_(
            text.op("<%", is_comparison=True)(translations.c.title),
            text.op("<%", is_comparison=True)(translations.c.body_text),
        )
        title_similarity = func.word_similarity(text, translations.c.title, type_=Float)
        body_similarity = func.word_similarity(text, translations.c.body_text, type_=Float)
        ranked: ColumnElement[Any] = TITLE_SIMILARITY * title_similarity + BODY_SIMILARITY * body_similarity
        matched: ColumnElement[bool] = similar
        if tsquery is not None:
            matched = or_(translations.c.search_vector.op("@@", is_comparison=True)(tsquery), similar)
            # 32: rank / (rank + 1), between 0 and 1 like the similarities.
            ranked = ranked + func.ts_rank_cd(translations.c.search_vector, tsquery, 32, type_=Float)
        score = ranked.label("score")
        statement = (
            select(
                translations.c.article_id,
                translations.c.locale,
                translations.c.title,
                translations.c.status,
                translations.c.body_text,
                score,
                (cast(tsquery, Text) if tsquery is not None else literal("")).label("query_text"),
            )
            .join(articles, articles.c.id == translations.c.article_id)
            .where(matched, translations.c.status != TranslationStatus.ARCHIVED.value)
            .order_by(score.desc(), translations.c.article_id, translations.c.locale)
            .offset(offset)
            .limit(limit + 1)
        )
        if query.public:
            statement = statement.where(
                translations.c.status == TranslationStatus.PUBLISHED.value,
                articles.c.brand.is_(None) if query.brand is None else articles.c.brand == query.brand,
            )
        elif query.brand is not None:
            statement = statement.where(articles.c.brand == query.brand)
        if query.locale is not None:
            statement = statement.where(translations.c.locale == query.locale)
        elif query.language is not None:
            statement = statement.where(translations.c.language == query.language)
        return [HitRow(**row._mapping) for row in await self.session.execute(statement)]
