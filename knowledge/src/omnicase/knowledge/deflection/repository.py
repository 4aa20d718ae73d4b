"""Every query of suggestions and their deflection counts."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, update

from omnicase.kit.repository import Repository
from omnicase.knowledge.models import suggestions


@dataclass(frozen=True)
class SuggestionRecord:
    id: uuid.UUID
    case_id: uuid.UUID | None
    article_id: uuid.UUID
    locale: str
    score: float
    matched: list[str]
    suggested_at: datetime
    opened_at: datetime | None
    answered_at: datetime | None
    answer: str | None


_COLUMNS = [suggestions.c[name] for name in SuggestionRecord.__dataclass_fields__]


def _record(row: Any) -> SuggestionRecord:
    return SuggestionRecord(**row._mapping)


class SuggestionRepository(Repository):
    async def insert(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            await self.session.execute(suggestions.insert(), rows)

    async def get(self, suggestion_id: uuid.UUID) -> SuggestionRecord | None:
        row = (await self.session.execute(select(*_COLUMNS).where(suggestions.c.id == suggestion_id))).one_or_none()
        return _record(row) if row else None

    async def opened(self, suggestion_id: uuid.UUID, now: datetime) -> None:
        """The first opening counts; later ones change nothing."""
        await self.session.execute(
            update(suggestions)
            .where(suggestions.c.id == suggestion_id, suggestions.c.opened_at.is_(None))
            .values(opened_at=now)
        )

    async def answer(self, suggestion_id: uuid.UUID, answer: str, now: datetime) -> SuggestionRecord | None:
        """Record the customer's one answer (opened too, if the page was skipped); None: answered before."""
        row = (
            await self.session.execute(
                update(suggestions)
                .where(suggestions.c.id == suggestion_id, suggestions.c.answered_at.is_(None))
                .values(answer=answer, answered_at=now, opened_at=func.coalesce(suggestions.c.opened_at, now))
                .returning(*_COLUMNS)
            )
        ).one_or_none()
        return _record(row) if row else None

    async def of_case(self, case_id: uuid.UUID) -> list[SuggestionRecord]:
        """The suggestions the case's customer was sent, oldest first."""
        statement = select(*_COLUMNS).where(suggestions.c.case_id == case_id).order_by(suggestions.c.suggested_at)
        return [_record(row) for row in await self.session.execute(statement)]

    async def counts(self, article_id: uuid.UUID) -> tuple[int, int, int]:
        """(suggested, opened, solved) for ``article_id``."""
        row = (
            await self.session.execute(
                select(
                    func.count(),
                    func.count(suggestions.c.opened_at),
                    func.count().filter(suggestions.c.answer == "yes"),
                ).where(suggestions.c.article_id == article_id)
            )
        ).one()
        return int(row[0]), int(row[1]), int(row[2])
