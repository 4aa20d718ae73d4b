"""Every query about dynamic content, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select
from sqlalchemy.dialects.postgresql import insert

from omnicase.case_core.models import dynamic_content as table
from omnicase.case_core.records import column_values
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class DynamicContentRow:
    id: uuid.UUID
    name: str
    text: str  # the default
    variants: Mapping[str, str]  # locale -> text
    created_at: datetime
    updated_at: datetime


def _record(row: RowMapping) -> DynamicContentRow:
    return DynamicContentRow(**row)


class DynamicContentRepository(Repository):
    async def insert(self, item: DynamicContentRow) -> DynamicContentRow | None:
        """None if the name is taken."""
        statement = (
            insert(table).values(**column_values(item)).on_conflict_do_nothing(index_elements=["name"]).returning(table)
        )
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return _record(row) if row else None

    async def get(self, item_id: uuid.UUID) -> DynamicContentRow | None:
        row = (await self.session.execute(select(table).where(table.c.id == item_id))).mappings().one_or_none()
        return _record(row) if row else None

    async def all(self) -> list[DynamicContentRow]:
        rows = (await self.session.execute(select(table).order_by(table.c.name))).mappings()
        return [_record(row) for row in rows]

    async def update(self, item_id: uuid.UUID, changes: Mapping[str, Any]) -> DynamicContentRow:
        statement = table.update().where(table.c.id == item_id).values(**changes).returning(table)
        return _record((await self.session.execute(statement)).mappings().one())

    async def delete(self, item_id: uuid.UUID) -> None:
        await self.session.execute(table.delete().where(table.c.id == item_id))
