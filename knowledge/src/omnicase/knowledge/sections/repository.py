"""Every query on sections."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update

from omnicase.kit.pagination import Page
from omnicase.kit.repository import Repository
from omnicase.knowledge.models import sections
from omnicase.knowledge.sections.schemas import Section


def _section(row: Any) -> Section:
    return Section.model_validate(row._mapping)


class SectionRepository(Repository):
    async def insert(self, values: dict[str, Any]) -> Section:
        row = (await self.session.execute(sections.insert().values(**values).returning(*sections.c))).one()
        return _section(row)

    async def get(self, section_id: uuid.UUID) -> Section | None:
        row = (await self.session.execute(select(sections).where(sections.c.id == section_id))).one_or_none()
        return _section(row) if row else None

    async def next_position(self, brand: str | None) -> int:
        last = await self.session.scalar(
            select(func.max(sections.c.position)).where(sections.c.brand.is_not_distinct_from(brand))
        )
        return 0 if last is None else last + 1

    async def page(self, brand: str | None, after: tuple[int, uuid.UUID] | None, limit: int) -> Page[Section]:
        query = (
            select(sections)
            .where(sections.c.brand.is_not_distinct_from(brand))
            .order_by(sections.c.position, sections.c.id)
        )
        if after is not None:
            query = query.where(tuple_(sections.c.position, sections.c.id) > tuple_(*after))
        return await self.paginate(Page[Section], query, limit, key=lambda row: [row.position, row.id], item=_section)

    async def update(self, section_id: uuid.UUID, values: dict[str, Any]) -> Section | None:
        row = (
            await self.session.execute(
                update(sections).where(sections.c.id == section_id).values(**values).returning(*sections.c)
            )
        ).one_or_none()
        return _section(row) if row else None

    async def delete(self, section_id: uuid.UUID) -> None:
        await self.session.execute(delete(sections).where(sections.c.id == section_id))
