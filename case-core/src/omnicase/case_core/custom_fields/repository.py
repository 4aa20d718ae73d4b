"""Every query about custom field definitions, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.dialects.postgresql import insert

from omnicase.case_core.models import custom_field_definitions as table
from omnicase.case_core.records import column_values
from omnicase.kit.repository import Repository


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


class CustomFieldRepository(Repository):
    async def insert(self, field: CustomFieldRow) -> CustomFieldRow | None:
        """None if the key is taken."""
        statement = (
            insert(table).values(**column_values(field)).on_conflict_do_nothing(index_elements=["key"]).returning(table)
        )
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return _record(row) if row else None

    async def get(self, field_id: uuid.UUID) -> CustomFieldRow | None:
        row = (await self.session.execute(select(table).where(table.c.id == field_id))).mappings().one_or_none()
        return _record(row) if row else None

    async def all(self) -> list[CustomFieldRow]:
        rows = (await self.session.execute(select(table).order_by(table.c.key))).mappings()
        return [_record(row) for row in rows]

    async def by_key(self) -> dict[str, CustomFieldRow]:
        return {row.key: row for row in await self.all()}

    async def update(self, field_id: uuid.UUID, changes: Mapping[str, Any]) -> CustomFieldRow:
        """``changes``: column name to new value."""
        statement = table.update().where(table.c.id == field_id).values(**changes).returning(table)
        return _record((await self.session.execute(statement)).mappings().one())

    async def delete(self, field_id: uuid.UUID) -> None:
        await self.session.execute(table.delete().where(table.c.id == field_id))
