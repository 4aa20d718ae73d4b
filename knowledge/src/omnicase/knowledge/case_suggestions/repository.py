"""Every query of the articles suggested for cases on case.created."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, tuple_, union
from sqlalchemy.dialects.postgresql import insert

from omnicase.kit.repository import Repository
from omnicase.knowledge.models import case_suggestions, suggestions, translations


@dataclass(frozen=True)
class StoredSuggestion:
    case_id: uuid.UUID
    article_id: uuid.UUID
    locale: str
    read_locale: str
    rank: int
    score: float
    matched: list[str]
    suggested_at: datetime


@dataclass(frozen=True)
class TranslationTitle:
    title: str
    brand: str | None


_COLUMNS = [case_suggestions.c[name] for name in StoredSuggestion.__dataclass_fields__]


class CaseSuggestionRepository(Repository):
    async def suggested_cases(self, case_ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
        """The cases of ``case_ids`` that have suggestions already: stored for agents, or sent to their customer."""
        ids = list(set(case_ids))
        if not ids:
            return set()
        statement = union(
            select(case_suggestions.c.case_id).where(case_suggestions.c.case_id.in_(ids)),
            select(suggestions.c.case_id).where(suggestions.c.case_id.in_(ids)),
        )
        return set((await self.session.execute(statement)).scalars())

    async def insert(self, rows: list[dict[str, Any]]) -> None:
        """Store ``rows``; a case's article stored before stays as it was."""
        if rows:
            await self.session.execute(insert(case_suggestions).on_conflict_do_nothing(), rows)

    async def of_case(self, case_id: uuid.UUID) -> list[StoredSuggestion]:
        """The articles stored for the case, best first."""
        statement = select(*_COLUMNS).where(case_suggestions.c.case_id == case_id).order_by(case_suggestions.c.rank)
        return [StoredSuggestion(**row._mapping) for row in await self.session.execute(statement)]

    async def titles(self, keys: Iterable[tuple[uuid.UUID, str]]) -> dict[tuple[uuid.UUID, str], TranslationTitle]:
        """The current title and brand of each translation (article, locale) of ``keys``."""
        pairs = list(set(keys))
        if not pairs:
            return {}
        statement = select(
            translations.c.article_id, translations.c.locale, translations.c.title, translations.c.brand
        ).where(tuple_(translations.c.article_id, translations.c.locale).in_(pairs))
        return {
            (row.article_id, row.locale): TranslationTitle(row.title, row.brand)
            for row in await self.session.execute(statement)
        }
