"""The search query: ranked full-text matches (tsvector) and trigram matches (pg_trgm) of translations."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from functools import reduce
from typing import Any

from sqlalchemy import ColumnElement, Float, Select, Text, and_, cast, func, literal, select, union
from sqlalchemy.dialects.postgresql import REGCONFIG

from omnicase.kit.repository import Repository
from omnicase.knowledge.articles.schemas import TranslationStatus
from omnicase.knowledge.models import articles, translations
from omnicase.knowledge.search.analysis import Terms

# Title matches count above body matches twice over: in the tsvector's weights (A over B) and here.
TITLE_SIMILARITY = 0.5
BODY_SIMILARITY = 0.2
# Full-text matches scored in full beyond the page asked for (see SearchRepository.search).
CANDIDATES = 200


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
        """``limit + 1`` hits from ``offset`` on, best first.

        Scored in two steps, so a word thousands of translations hold (a Chinese word inside a
        longer one, a common English one) costs no similarity computed over each of them: the
        candidates are the best ``offset + limit + CANDIDATES`` full-text matches by their rank
        (from the tsvector index) and the trigram matches of titles and bodies (from their
        indexes, close matches only: few), each set read alone so each uses its index; only the
        candidates get the full score. A full-text match beyond them could have climbed only
        by a similarity under the trigram threshold (at most 0.42), never past the ones kept.
        """
        text = literal(query.text)
        tsquery = _tsquery(query.parts)
        key = (translations.c.article_id, translations.c.locale)
        # word_similarity(q, text) > its threshold (0.6): q is close to some stretch of the text.
        branches = [
            self._scoped(select(*key), query).where(text.op("<%", is_comparison=True)(translations.c.title)),
            self._scoped(select(*key), query).where(text.op("<%", is_comparison=True)(translations.c.body_text)),
        ]
        title_similarity = func.word_similarity(text, translations.c.title, type_=Float)
        body_similarity = func.word_similarity(text, translations.c.body_text, type_=Float)
        ranked: ColumnElement[Any] = TITLE_SIMILARITY * title_similarity + BODY_SIMILARITY * body_similarity
        if tsquery is not None:
            # 32: rank / (rank + 1), between 0 and 1 like the similarities.
            text_rank = func.ts_rank_cd(translations.c.search_vector, tsquery, 32, type_=Float)
            best = (
                self._scoped(select(*key), query)
                .where(translations.c.search_vector.op("@@", is_comparison=True)(tsquery))
                .order_by(text_rank.desc())
                .limit(offset + limit + 1 + CANDIDATES)
                .subquery()
            )
            branches.append(select(best.c.article_id, best.c.locale))
            ranked = ranked + text_rank
        candidates = union(*branches).subquery()
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
            .join(
                candidates,
                and_(
                    candidates.c.article_id == translations.c.article_id, candidates.c.locale == translations.c.locale
                ),
            )
            .order_by(score.desc(), translations.c.article_id, translations.c.locale)
            .offset(offset)
            .limit(limit + 1)
        )
        return [HitRow(**row._mapping) for row in await self.session.execute(statement)]

    @staticmethod
    def _scoped(statement: Select[Any], query: SearchQuery) -> Select[Any]:
        """``statement`` over the translations ``query`` may find: never archived; its brand, locale or language."""
        statement = statement.join(articles, articles.c.id == translations.c.article_id).where(
            translations.c.status != TranslationStatus.ARCHIVED.value
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
        return statement
