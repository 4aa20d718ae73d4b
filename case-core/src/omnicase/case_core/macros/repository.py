"""Every query about macros."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.macros.models import macros as table

Row = dict[str, Any]


class MacroRepository:
    async def insert(self, session: AsyncSession, values: Row) -> Row:
        return dict((await session.execute(table.insert().values(**values).returning(table))).mappings().one())

    async def get(self, session: AsyncSession, macro_id: uuid.UUID) -> Row | None:
        row = (await session.execute(select(table).where(table.c.id == macro_id))).mappings().one_or_none()
        return dict(row) if row else None

    async def available(self, session: AsyncSession, group_ids: Sequence[uuid.UUID] | None) -> list[Row]:
        """Active macros for everyone plus those of ``group_ids``; ``None``: every macro (admins)."""
        statement = select(table).order_by(table.c.position, table.c.name, table.c.id)
        if group_ids is not None:
            everyone = func.cardinality(table.c.group_ids) == 0
            mine = table.c.group_ids.overlap(list(group_ids))
            statement = statement.where(table.c.active.is_(True), or_(everyone, mine) if group_ids else everyone)
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    async def update(self, session: AsyncSession, macro_id: uuid.UUID, values: Row) -> Row:
        statement = table.update().where(table.c.id == macro_id).values(**values).returning(table)
        return dict((await session.execute(statement)).mappings().one())

    async def delete(self, session: AsyncSession, macro_id: uuid.UUID) -> bool:
        result = await session.execute(table.delete().where(table.c.id == macro_id).returning(table.c.id))
        return result.first() is not None
