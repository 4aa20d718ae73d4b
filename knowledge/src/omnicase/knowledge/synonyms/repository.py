"""Every query on synonym sets."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import ARRAY, Integer, Text, cast, delete, func, literal, select, update
from sqlalchemy.dialects.postgresql import REGCONFIG

from omnicase.kit.pagination import Page
from omnicase.kit.repository import Repository
from omnicase.knowledge.models import synonyms
from omnicase.knowledge.synonyms.schemas import SynonymSet


def _synonym_set(row: Any) -> SynonymSet:
    return SynonymSet.model_validate(row._mapping)


class SynonymRepository(Repository):
    async def insert(self, values: dict[str, Any]) -> SynonymSet:
        row = (await self.session.execute(synonyms.insert().values(**values).returning(*synonyms.c))).one()
        return _synonym_set(row)

    async def get(self, set_id: uuid.UUID) -> SynonymSet | None:
        row = (await self.session.execute(select(synonyms).where(synonyms.c.id == set_id))).one_or_none()
        return _synonym_set(row) if row else None

    async def page(self, locale: str | None, after: uuid.UUID | None, limit: int) -> Page[SynonymSet]:
        query = select(synonyms).order_by(synonyms.c.id)
        if locale is not None:
            query = query.where(synonyms.c.locale == locale)
        if after is not None:
            query = query.where(synonyms.c.id > after)
        return await self.paginate(Page[SynonymSet], query, limit, key=lambda row: [row.id], item=_synonym_set)

    async def update(self, set_id: uuid.UUID, values: dict[str, Any]) -> SynonymSet | None:
        row = (
            await self.session.execute(
                update(synonyms).where(synonyms.c.id == set_id).values(**values).returning(*synonyms.c)
            )
        ).one_or_none()
        return _synonym_set(row) if row else None

    async def delete(self, set_id: uuid.UUID) -> bool:
        deleted = await self.session.execute(delete(synonyms).where(synonyms.c.id == set_id).returning(synonyms.c.id))
        return deleted.first() is not None

    async def by_language(self) -> dict[str, list[list[str]]]:
        """Every set's terms, by the language of its locale, in the order they were made."""
        found: dict[str, list[list[str]]] = {}
        for row in await self.session.execute(select(synonyms.c.language, synonyms.c.terms).order_by(synonyms.c.id)):
            found.setdefault(row.language, []).append(list(row.terms))
        return found

    async def lexemes(self, configs: list[str], texts: list[str]) -> list[list[str]]:
        """Each text's lexemes as ``to_tsvector`` of its configuration makes them (one statement)."""
        if not texts:
            return []
        given = (
            func.unnest(
                literal(configs, ARRAY(Text)),
                literal(texts, ARRAY(Text)),
                literal(list(range(len(texts))), ARRAY(Integer)),
            )
            .table_valued("config", "text", "position")
            .render_derived()
        )
        vector = func.to_tsvector(cast(given.c.config, REGCONFIG), given.c.text)
        statement = select(given.c.position, func.tsvector_to_array(vector)).order_by(given.c.position)
        return [list(row[1]) for row in await self.session.execute(statement)]
