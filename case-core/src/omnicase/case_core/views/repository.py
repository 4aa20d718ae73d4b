"""Every query about views."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.views.models import views as table

Row = dict[str, Any]


class ViewRepository:
    async def insert(self, session: AsyncSession, values: Row) -> Row:
        return dict((await session.execute(table.insert().values(**values).returning(table))).mappings().one())

    async def get(self, session: AsyncSession, view_id: uuid.UUID) -> Row | None:
        row = (await session.execute(select(table).where(table.c.id == view_id))).mappings().one_or_none()
        return dict(row) if row else None

    async def visible(self, session: AsyncSession, owner: str, group_ids: Sequence[uuid.UUID] | None) -> list[Row]:
        """Everyone's views, the caller's own, and those of the groups named (``None``: of every group)."""
        seen = [table.c.visibility == "everyone", table.c.owner == owner]
        if group_ids is None:
            seen.append(table.c.visibility == "group")
        elif group_ids:
            seen.append(table.c.group_id.in_(list(group_ids)))
        statement = select(table).where(or_(*seen)).order_by(table.c.position, table.c.name, table.c.id)
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    async def update(self, session: AsyncSession, view_id: uuid.UUID, values: Row) -> Row:
        statement = table.update().where(table.c.id == view_id).values(**values).returning(table)
        return dict((await session.execute(statement)).mappings().one())

    async def delete(self, session: AsyncSession, view_id: uuid.UUID) -> None:
        await session.execute(table.delete().where(table.c.id == view_id))
