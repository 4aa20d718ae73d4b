"""Every query about views, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, or_, select

from omnicase.case_core.records import column_values
from omnicase.case_core.views.models import views as table
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class ViewRow:
    id: uuid.UUID
    name: str
    visibility: str
    owner: str | None
    group_id: uuid.UUID | None
    filters: Mapping[str, Any]  # ViewFilters, as JSON
    columns: tuple[str, ...]
    sort: str
    position: int
    created_at: datetime
    updated_at: datetime


def _record(row: RowMapping) -> ViewRow:
    return ViewRow(**{**row, "columns": tuple(row["columns"])})


class ViewRepository(Repository):
    async def insert(self, view: ViewRow) -> ViewRow:
        values = column_values(view)
        return _record((await self.session.execute(table.insert().values(**values).returning(table))).mappings().one())

    async def get(self, view_id: uuid.UUID) -> ViewRow | None:
        row = (await self.session.execute(select(table).where(table.c.id == view_id))).mappings().one_or_none()
        return _record(row) if row else None

    async def visible(self, owner: str, group_ids: Sequence[uuid.UUID] | None) -> list[ViewRow]:
        """Everyone's views, the caller's own, and those of the groups named (``None``: of every group)."""
        seen = [table.c.visibility == "everyone", table.c.owner == owner]
        if group_ids is None:
            seen.append(table.c.visibility == "group")
        elif group_ids:
            seen.append(table.c.group_id.in_(list(group_ids)))
        statement = select(table).where(or_(*seen)).order_by(table.c.position, table.c.name, table.c.id)
        return [_record(row) for row in (await self.session.execute(statement)).mappings()]

    async def update(self, view_id: uuid.UUID, changes: Mapping[str, Any]) -> ViewRow:
        """``changes``: column name to new value (JSON columns as JSON)."""
        statement = table.update().where(table.c.id == view_id).values(**changes).returning(table)
        return _record((await self.session.execute(statement)).mappings().one())

    async def delete(self, view_id: uuid.UUID) -> None:
        await self.session.execute(table.delete().where(table.c.id == view_id))
