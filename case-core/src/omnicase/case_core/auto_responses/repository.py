"""Every query about the auto-response template."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.auto_responses.models import auto_response_templates as table

Row = dict[str, Any]


class AutoResponseRepository:
    async def get(self, session: AsyncSession) -> Row | None:
        row = (await session.execute(select(table))).mappings().one_or_none()
        return dict(row) if row else None

    async def save(self, session: AsyncSession, values: Row) -> Row:
        statement = (
            insert(table)
            .values(id=1, **values)
            .on_conflict_do_update(index_elements=[table.c.id], set_=values)
            .returning(table)
        )
        return dict((await session.execute(statement)).mappings().one())

    async def delete(self, session: AsyncSession) -> bool:
        return (await session.execute(table.delete().returning(table.c.id))).first() is not None
