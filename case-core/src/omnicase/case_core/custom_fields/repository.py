"""Every query about custom field definitions."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.models import custom_field_definitions as table

Definition = dict[str, Any]


class CustomFieldRepository:
    async def insert(self, session: AsyncSession, values: dict[str, Any]) -> Definition | None:
        """None if the key is taken."""
        statement = insert(table).values(**values).on_conflict_do_nothing(index_elements=["key"]).returning(table)
        row = (await session.execute(statement)).mappings().one_or_none()
        return dict(row) if row else None

    async def get(self, session: AsyncSession, field_id: uuid.UUID) -> Definition | None:
        row = (await session.execute(select(table).where(table.c.id == field_id))).mappings().one_or_none()
        return dict(row) if row else None

    async def all(self, session: AsyncSession) -> list[Definition]:
        rows = (await session.execute(select(table).order_by(table.c.key))).mappings()
        return [dict(row) for row in rows]

    async def by_key(self, session: AsyncSession) -> dict[str, Definition]:
        return {row["key"]: row for row in await self.all(session)}

    async def update(self, session: AsyncSession, field_id: uuid.UUID, values: dict[str, Any]) -> Definition:
        statement = table.update().where(table.c.id == field_id).values(**values).returning(table)
        return dict((await session.execute(statement)).mappings().one())

    async def delete(self, session: AsyncSession, field_id: uuid.UUID) -> None:
        await session.execute(table.delete().where(table.c.id == field_id))
