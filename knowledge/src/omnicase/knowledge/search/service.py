"""Search: the query cut into words as each language's texts were, run as one ranked statement."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import replace
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.pagination import Int32, Page, decode_cursor, paginate
from omnicase.knowledge.locales import language_of
from omnicase.knowledge.search.analysis import DEFAULT_LANGUAGE, SIMPLE, Terms, TextAnalyzer
from omnicase.knowledge.search.repository import HitRow, SearchQuery, SearchRepository
from omnicase.knowledge.search.schemas import HelpSearchHit, SearchHit
from omnicase.knowledge.search.snippets import lexemes, snippet
from omnicase.knowledge.search.synonyms import SynonymCache, Thesaurus

P = TypeVar("P", bound=Page[Any])

# Fusing words and meaning (search/embeddings.py): each side's first rows (at least this many)
# are fused; a rank counts ``weight / (RRF_K + rank)`` (60: the usual constant of reciprocal rank fusion).
FUSED_POOL = 50
RRF_K = 60
WORDS_WEIGHT = 1.0
MEANING_WEIGHT = 1.0


class SearchService:
    def __init__(self, session: AsyncSession, analyzer: TextAnalyzer, synonyms: SynonymCache) -> None:
        self.session = session
        self.repository = SearchRepository(session)
        self.analyzer = analyzer
        self.synonyms = synonyms

    async def search(
        self, text: str, locale: str | None, brand: str | None, cursor: str | None, limit: int
    ) -> Page[SearchHit]:
        """Translations (drafts included, archived never) matching ``text``, best first."""
        rows, offset = await self._ranked(text, locale, brand, cursor, limit, public=False)
        items = [
            SearchHit(
                article_id=row.article_id,
                locale=row.locale,
                title=row.title,
                snippet=snippet(row.body_text, lexemes(row.query_text)),
                score=round(row.score, 6),
                status=row.status,
            )
            for row in rows[:limit]
        ]
        return _page(Page[SearchHit], rows, offset, limit, items)

    async def public_search(
        self,
        text: str,
        locale: str | None,
        brand: str | None,
        cursor: str | None,
        limit: int,
        url_of: Callable[[HitRow], str],
    ) -> Page[HelpSearchHit]:
        """Published translations of ``brand`` (None: the default brand) matching ``text``, best first,
        each with its help-center address ``url_of(row)``."""
        rows, offset = await self._ranked(text, locale, brand, cursor, limit, public=True)
        items = [
            HelpSearchHit(
                article_id=row.article_id,
                locale=row.locale,
                title=row.title,
                snippet=snippet(row.body_text, lexemes(row.query_text)),
                score=round(row.score, 6),
                url=url_of(row),
            )
            for row in rows[:limit]
        ]
        return _page(Page[HelpSearchHit], rows, offset, limit, items)

    async def _ranked(
        self, text: str, locale: str | None, brand: str | None, cursor: str | None, limit: int, *, public: bool
    ) -> tuple[list[HitRow], int]:
        after = decode_cursor(cursor, Int32)
        # A position this service never hands out (below the first) starts at the top.
        offset = max(0, after[0]) if after is not None else 0
        return await self.hits(text, locale, brand, offset, limit, public=public), offset

    async def hits(
        self, text: str, locale: str | None, brand: str | None, offset: int, limit: int, *, public: bool
    ) -> list[HitRow]:
        """``limit + 1`` ranked rows from ``offset`` (see :meth:`search`): by words, and by meaning too
        when a model is configured (:func:`fused`)."""
        embedder = self.analyzer.embedder
        # The question's vector is computed in a thread of its own while the words are searched:
        # the search waits for the longer of the two, not their sum.
        embedding = asyncio.ensure_future(asyncio.to_thread(embedder.query, text)) if embedder else None
        if embedding is None:
            return await self._by_words(text, locale, brand, public, offset, limit)
        # Each side's first rows (as many as the page needs, at least FUSED_POOL) are fused.
        pool = max(offset + limit + 1, FUSED_POOL)
        try:
            by_words = await self._by_words(text, locale, brand, public, 0, pool - 1)
        finally:
            meaning = await embedding
        by_meaning = await self.repository.nearest(_query(text, locale, brand, public), meaning, pool)
        return fused(by_words, by_meaning)[offset : offset + limit + 1]

    async def _by_words(
        self, text: str, locale: str | None, brand: str | None, public: bool, offset: int, limit: int
    ) -> list[HitRow]:
        """``limit + 1`` rows ranked by words from ``offset``."""
        parts, words = await asyncio.to_thread(self._parts, text, locale)
        synonyms = tuple(
            [(await self.synonyms.thesaurus(self.session, language), tuple(written)) for language, written in words]
        )
        return await self.repository.search(_query(text, locale, brand, public, parts, synonyms), offset, limit)

    async def publishes(self, locale: str | None, brand: str | None) -> bool:
        """Whether ``brand`` publishes anything in ``locale``'s language (None: in any language; else a
        public search finds nothing)."""
        return await self.repository.publishes(language_of(locale) if locale is not None else None, brand)

    def detected_language(self, text: str) -> str:
        """The language ``text`` is written in, as search reads it (see search/analysis.py)."""
        return self.analyzer.language(text)

    def _parts(self, text: str, locale: str | None) -> tuple[list[Terms], list[tuple[str, list[str]]]]:
        """What PostgreSQL cuts the query with, and its words in each language it is read in (for synonyms)."""
        language = language_of(locale) if locale is not None else self.analyzer.language(text)
        words = [(language, self.analyzer.query_words(text, language))]
        parts = [Terms(self.analyzer.config(language), " ".join(words[0][1]))]
        if locale is None and language not in ("ko", "zh", "ja"):
            # Short queries are often guessed wrong; English is the default and plain words match any language.
            english = self.analyzer.query_words(text, DEFAULT_LANGUAGE)
            parts += [
                Terms(self.analyzer.config(DEFAULT_LANGUAGE), " ".join(english)),
                Terms(SIMPLE, " ".join(english)),
            ]
            if language != DEFAULT_LANGUAGE:
                words.append((DEFAULT_LANGUAGE, english))
        return list(dict.fromkeys(parts)), words


def _query(
    text: str,
    locale: str | None,
    brand: str | None,
    public: bool,
    parts: list[Terms] | None = None,
    synonyms: tuple[tuple[Thesaurus, tuple[str, ...]], ...] = (),
) -> SearchQuery:
    # A locale without a region (``zh``) finds every region's translations (``zh-CN``, ``zh-TW``).
    exact = locale if locale is not None and "-" in locale else None
    return SearchQuery(
        text=text,
        parts=parts or [],
        brand=brand,
        locale=exact,
        language=language_of(locale) if locale is not None and exact is None else None,
        public=public,
        synonyms=synonyms,
    )


def fused(by_words: list[HitRow], by_meaning: list[HitRow]) -> list[HitRow]:
    """One ranking of two (reciprocal rank fusion: each list gives a translation
    ``weight / (RRF_K + its rank)``, summed), so neither score scale has to be read against the
    other. A translation found by meaning alone takes the words' query (its snippet marks any word
    it shares); the score is the fused one."""
    query_text = by_words[0].query_text if by_words else ""
    scores: dict[tuple[object, str], float] = {}
    rows: dict[tuple[object, str], HitRow] = {}
    for ranked, weight in ((by_words, WORDS_WEIGHT), (by_meaning, MEANING_WEIGHT)):
        for rank, row in enumerate(ranked, start=1):
            key = (row.article_id, row.locale)
            scores[key] = scores.get(key, 0.0) + weight / (RRF_K + rank)
            rows.setdefault(key, replace(row, query_text=query_text))
    order = sorted(scores, key=lambda key: (-scores[key], str(key[0]), key[1]))
    return [replace(rows[key], score=scores[key]) for key in order]


def _page(page: type[P], rows: list[HitRow], offset: int, limit: int, items: list[Any]) -> P:
    """The page of ``items`` made from ``rows``; its cursor is the position in the ranking."""
    positions = {id(row): offset + index + 1 for index, row in enumerate(rows)}
    return paginate(page, rows, limit, key=lambda row: [positions[id(row)]], items=items)
