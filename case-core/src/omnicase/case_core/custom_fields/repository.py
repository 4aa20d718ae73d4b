"""Every query about custom field definitions, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.models import custom_field_definitions as table


@dataclass(frozen=True)
class CustomFieldRow:
    id: uuid.UUID
    key: str
    label: str
    type: str  # text, number, decimal, date, dropdown, checkbox, regex
    options: tuple[str, ...]  # a dropdown's choices
    pattern: str | None  # what a regex field's value must match fully
    required_on_solve: bool
    active: bool
    created_at: datetime
    updated_at: datetime


def _record(row: RowMapping) -> CustomFieldRow:
    return CustomFieldRow(**{**row, "options": tuple(row["options"])})


class CustomFieldRepository:
    async def insert(self, session: AsyncSession, field: CustomFieldRow) -> CustomFieldRow | None:
        """None if the key is taken."""
        statement = (
            insert(table)
            .values(
                id=field.id,
                key=field.key,
                label=field.label,
                type=field.type,
                options=list(field.options),
                pattern=field.pattern,
                required_on_solve=field.required_on_solve,
                active=field.active,
                created_at=field.created_at,
                updated_at=field.updated_at,
            )
            .on_conflict_do_nothing(index_elements=["key"])
            .returning(table)
        )
        row = (await session.execute(statement)).mappings().one_or_none()
        return _record(row) if row else None

    async def get(self, session: AsyncSession, field_id: uuid.UUID) -> CustomFieldRow | None:
        row = (await session.execute(select(table).where(table.c.id == field_id))).mappings().one_or_none()
        return _record(row) if row else None

    async def all(self, session: AsyncSession) -> list[CustomFieldRow]:
        rows = (await session.execute(select(table).order_by(table.c.key))).mappings()
        return [_record(row) for row in rows]

    async def by_key(self, session: AsyncSession) -> dict[str, CustomFieldRow]:
        return {row.key: row for row in await self.all(session)}

    async def update(self, session: AsyncSession, field_id: uuid.UUID, changes: Mapping[str, Any]) -> CustomFieldRow:
        """``changes``: column name to new value."""
        statement = table.update().where(table.c.id == field_id).values(**changes).returning(table)
        return _record((await session.execute(statement)).mappings().one())

    async def delete(self, session: AsyncSession, field_id: uuid.UUID) -> None:
        await session.execute(table.delete().where(table.c.id == field_id))
