"""Synonym sets: written by admins per locale, applied to that language's queries (search/synonyms.py)."""

from __future__ import annotations

import asyncio
import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import FieldError, NotFound, refusal
from omnicase.kit.identity import Identity
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import Page, decode_cursor
from omnicase.knowledge.locales import language_of
from omnicase.knowledge.search.analysis import TextAnalyzer
from omnicase.knowledge.synonyms.repository import SynonymRepository
from omnicase.knowledge.synonyms.schemas import SynonymSet, SynonymSetCreate


class SynonymSetNotFound(NotFound):
    slug, title = "synonym-set-not-found", "Synonym set not found"


def _missing(set_id: uuid.UUID) -> SynonymSetNotFound:
    return SynonymSetNotFound(f"Synonym set {set_id} does not exist.")


class SynonymService:
    def __init__(self, session: AsyncSession, analyzer: TextAnalyzer, identity: Identity) -> None:
        self.repository = SynonymRepository(session)
        self.analyzer = analyzer
        self.identity = identity

    async def page(self, locale: str | None, cursor: str | None, limit: int) -> Page[SynonymSet]:
        """The sets (of ``locale`` only, when given) in the order they were made, a page after ``cursor``."""
        after = decode_cursor(cursor, uuid.UUID)
        return await self.repository.page(locale, after[0] if after else None, limit)

    async def get(self, set_id: uuid.UUID) -> SynonymSet:
        return await self.repository.get_or_raise(set_id, _missing)

    async def create(self, payload: SynonymSetCreate) -> SynonymSet:
        now = utcnow()
        values = await self._values(payload)
        return await self.repository.insert({"id": uuid7(), "created_at": now, "updated_at": now, **values})

    async def replace(self, set_id: uuid.UUID, payload: SynonymSetCreate) -> SynonymSet:
        values = await self._values(payload)
        replaced = await self.repository.update(set_id, {**values, "updated_at": utcnow()})
        if replaced is None:
            raise _missing(set_id)
        return replaced

    async def delete(self, set_id: uuid.UUID) -> None:
        if not await self.repository.delete(set_id):
            raise _missing(set_id)

    async def _values(self, payload: SynonymSetCreate) -> dict[str, object]:
        """The row's columns; a term with no word a search could match (punctuation alone) is refused."""
        language = language_of(payload.locale)
        # Cutting Korean or Chinese may load its model: off the event loop.
        words = await asyncio.to_thread(lambda: [self.analyzer.query_words(term, language) for term in payload.terms])
        errors = [
            FieldError(field=f"body.terms.{index}", message="holds no word a search can match", code="no_words")
            for index, found in enumerate(words)
            if not found
        ]
        if errors:
            raise refusal("The synonym set is not valid.", errors)
        # The same term twice (in any case) is one.
        terms = list({term.casefold(): term for term in reversed(payload.terms)}.values())[::-1]
        if len(terms) < 2:
            raise refusal(
                "A synonym set needs two different terms.",
                [FieldError(field="body.terms", message="needs two different terms", code="too_few_terms")],
            )
        return {
            "locale": payload.locale,
            "language": language,
            "terms": terms,
            "updated_by": self.identity.subject,
        }
