"""Every query about triggers and their runs."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.triggers.models import trigger_runs as runs
from omnicase.case_core.triggers.models import triggers as table

Row = dict[str, Any]


class TriggerRepository:
    async def active(self, session: AsyncSession) -> list[Row]:
        statement = select(table).where(table.c.active.is_(True)).order_by(table.c.position, table.c.id)
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    async def all(self, session: AsyncSession) -> list[Row]:
        statement = select(table).order_by(table.c.position, table.c.id)
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    async def get(self, session: AsyncSession, trigger_id: uuid.UUID) -> Row | None:
        row = (await session.execute(select(table).where(table.c.id == trigger_id))).mappings().one_or_none()
        return dict(row) if row else None

    async def next_position(self, session: AsyncSession) -> int:
        highest = await session.scalar(select(func.max(table.c.position)))
        return 0 if highest is None else int(highest) + 1

    async def insert(self, session: AsyncSession, values: Row) -> Row:
        return dict((await session.execute(table.insert().values(**values).returning(table))).mappings().one())

    async def update(self, session: AsyncSession, trigger_id: uuid.UUID, values: Row) -> Row:
        statement = table.update().where(table.c.id == trigger_id).values(**values).returning(table)
        return dict((await session.execute(statement)).mappings().one())

    async def delete(self, session: AsyncSession, trigger_id: uuid.UUID) -> bool:
        result = await session.execute(table.delete().where(table.c.id == trigger_id).returning(table.c.id))
        return result.first() is not None

    async def record_run(self, session: AsyncSession, values: Row) -> None:
        await session.execute(runs.insert().values(**values))

    async def runs_of(self, session: AsyncSession, case_id: uuid.UUID) -> list[Row]:
        statement = select(runs).where(runs.c.case_id == case_id).order_by(runs.c.at, runs.c.id)
        return [dict(row) for row in (await session.execute(statement)).mappings()]
