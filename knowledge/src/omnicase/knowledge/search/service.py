"""Search: the query cut into words as each language's texts were, run as one ranked statement."""

from __future__ import annotations

import asyncio

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.pagination import Int32, Page, decode_cursor, paginate
from omnicase.knowledge.locales import language_of
from omnicase.knowledge.search.analysis import DEFAULT_LANGUAGE, SIMPLE, Terms, TextAnalyzer
from omnicase.knowledge.search.repository import HitRow, SearchQuery, SearchRepository
from omnicase.knowledge.search.schemas import SearchHit
from omnicase.knowledge.search.snippets import lexemes, snippet


class SearchService:
    def __init__(self, session: AsyncSession, analyzer: TextAnalyzer) -> None:
        self.repository = SearchRepository(session)
        self.analyzer = analyzer

    async def search(
        self, text: str, locale: str | None, brand: str | None, cursor: str | None, limit: int, *, public: bool = False
    ) -> Page[SearchHit]:
        """Translations (drafts included, archived never; ``public``: published ones of ``brand`` only)
        matching ``text``, best first."""
        after = decode_cursor(cursor, Int32)
        # A position this service never hands out (below the first) starts at the top.
        offset = max(0, after[0]) if after is not None else 0
        rows = await self.hits(text, locale, brand, offset, limit, public=public)
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
        positions = {id(row): offset + index + 1 for index, row in enumerate(rows)}
        return paginate(Page[SearchHit], rows, limit, key=lambda row: [positions[id(row)]], items=items)

    async def hits(
        self, text: str, locale: str | None, brand: str | None, offset: int, limit: int, *, public: bool
    ) -> list[HitRow]:
        """``limit + 1`` ranked rows from ``offset`` (see :meth:`search`)."""
        parts = await asyncio.to_thread(self._parts, text, locale)
        # A locale without a region (``zh``) finds every region's translations (``zh-CN``, ``zh-TW``).
        exact = locale if locale is not None and "-" in locale else None
        query = SearchQuery(
            text=text,
            parts=parts,
            brand=brand,
            locale=exact,
            language=language_of(locale) if locale is not None and exact is None else None,
            public=public,
        )
        return await self.repository.search(query, offset, limit)

    def detected_language(self, text: str) -> str:
        """The language ``text`` is written in, as search reads it (see search/analysis.py)."""
        return self.analyzer.language(text)

    def _parts(self, text: str, locale: str | None) -> list[Terms]:
        if locale is not None:
            language = language_of(locale)
            return [Terms(self.analyzer.config(language), " ".join(self.analyzer.query_words(text, language)))]
        language = self.analyzer.language(text)
        parts = [Terms(self.analyzer.config(language), " ".join(self.analyzer.query_words(text, language)))]
        if language not in ("ko", "zh", "ja"):
            # Short queries are often guessed wrong; English is the default and plain words match any language.
            words = " ".join(self.analyzer.query_words(text, DEFAULT_LANGUAGE))
            parts += [Terms(self.analyzer.config(DEFAULT_LANGUAGE), words), Terms(SIMPLE, words)]
        return list(dict.fromkeys(parts))
