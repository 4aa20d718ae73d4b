"""Every query on ``held_messages``."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.held.models import held_messages as table

Row = dict[str, Any]


class HeldMessageRepository:
    async def insert_many(self, session: AsyncSession, rows: list[Row]) -> list[Row]:
        """Keep the rows not kept before (by intake id); returns those inserted now."""
        if not rows:
            return []
        statement = insert(table).on_conflict_do_nothing(index_elements=[table.c.id]).returning(table)
        # As parameters: one cached statement (a multi-row .values() is compiled per call).
        return [dict(row) for row in (await session.execute(statement, rows)).mappings()]

    async def get(self, session: AsyncSession, held_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        statement = select(table).where(table.c.id == held_id)
        if lock:
            statement = statement.with_for_update()
        row = (await session.execute(statement)).mappings().one_or_none()
        return dict(row) if row else None

    async def page(
        self,
        session: AsyncSession,
        *,
        channel: str | None,
        reason: str | None,
        after: tuple[Any, ...] | None,
        limit: int,
    ) -> list[Row]:
        """Messages still held, the latest received first."""
        statement = (
            select(table)
            .where(table.c.status == "held")
            .order_by(table.c.received_at.desc(), table.c.id.desc())
            .limit(limit)
        )
        if channel is not None:
            statement = statement.where(table.c.channel == channel)
        if reason is not None:
            statement = statement.where(table.c.reason == reason)
        if after is not None:
            statement = statement.where(tuple_(table.c.received_at, table.c.id) < tuple_(*after))
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    async def settle(self, session: AsyncSession, held_id: uuid.UUID, values: Row) -> Row:
        statement = table.update().where(table.c.id == held_id).values(**values).returning(table)
        return dict((await session.execute(statement)).mappings().one())

    async def delete_expired(self, session: AsyncSession, now: datetime, limit: int) -> list[Row]:
        """Held messages past their time, removed (a batch); returns their channel and reason."""
        due = (
            select(table.c.id)
            .where(table.c.status == "held", table.c.expires_at <= now)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = delete(table).where(table.c.id.in_(due)).returning(table.c.channel, table.c.reason)
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    async def delete_settled_before(self, session: AsyncSession, cutoff: datetime, limit: int) -> int:
        due = select(table.c.id).where(table.c.status != "held", table.c.settled_at < cutoff).limit(limit)
        result = await session.execute(delete(table).where(table.c.id.in_(due)).returning(table.c.id))
        return len(result.all())
