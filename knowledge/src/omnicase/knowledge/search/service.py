"""Search: the query cut into words as each language's texts were, run as one ranked statement."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.pagination import Int32, Page, decode_cursor, paginate
from omnicase.knowledge.locales import language_of
from omnicase.knowledge.search.analysis import DEFAULT_LANGUAGE, SIMPLE, Terms, TextAnalyzer
from omnicase.knowledge.search.repository import HitRow, SearchQuery, SearchRepository
from omnicase.knowledge.search.schemas import HelpSearchHit, SearchHit
from omnicase.knowledge.search.snippets import lexemes, snippet
from omnicase.knowledge.search.synonyms import SynonymCache

P = TypeVar("P", bound=Page[Any])


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
        """``limit + 1`` ranked rows from ``offset`` (see :meth:`search`)."""
        parts, words = await asyncio.to_thread(self._parts, text, locale)
        synonyms = tuple(
            [(await self.synonyms.thesaurus(self.session, language), tuple(written)) for language, written in words]
        )
        # A locale without a region (``zh``) finds every region's translations (``zh-CN``, ``zh-TW``).
        exact = locale if locale is not None and "-" in locale else None
        query = SearchQuery(
            text=text,
            parts=parts,
            brand=brand,
            locale=exact,
            language=language_of(locale) if locale is not None and exact is None else None,
            public=public,
            synonyms=synonyms,
        )
        return await self.repository.search(query, offset, limit)

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


def _page(page: type[P], rows: list[HitRow], offset: int, limit: int, items: list[Any]) -> P:
    """The page of ``items`` made from ``rows``; its cursor is the position in the ranking."""
    positions = {id(row): offset + index + 1 for index, row in enumerate(rows)}
    return paginate(page, rows, limit, key=lambda row: [positions[id(row)]], items=items)
