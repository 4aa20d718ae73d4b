"""Every query about macros, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, func, or_, select

from omnicase.case_core.macros.models import macros as table
from omnicase.case_core.records import column_values
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class MacroRow:
    id: uuid.UUID
    name: str
    description: str
    active: bool
    position: int
    group_ids: tuple[uuid.UUID, ...]  # empty: every agent's
    actions: tuple[Mapping[str, Any], ...]  # MacroAction, as JSON
    created_at: datetime
    updated_at: datetime


def _record(row: RowMapping) -> MacroRow:
    return MacroRow(**{**row, "group_ids": tuple(row["group_ids"]), "actions": tuple(row["actions"])})


class MacroRepository(Repository):
    async def insert(self, macro: MacroRow) -> MacroRow:
        statement = table.insert().values(**column_values(macro)).returning(table)
        return _record((await self.session.execute(statement)).mappings().one())

    async def get(self, macro_id: uuid.UUID) -> MacroRow | None:
        row = (await self.session.execute(select(table).where(table.c.id == macro_id))).mappings().one_or_none()
        return _record(row) if row else None

    async def available(self, group_ids: Sequence[uuid.UUID] | None) -> list[MacroRow]:
        """Active macros for everyone plus those of ``group_ids``; ``None``: every macro (admins)."""
        statement = select(table).order_by(table.c.position, table.c.name, table.c.id)
        if group_ids is not None:
            everyone = func.cardinality(table.c.group_ids) == 0
            mine = table.c.group_ids.overlap(list(group_ids))
            statement = statement.where(table.c.active.is_(True), or_(everyone, mine) if group_ids else everyone)
        return [_record(row) for row in (await self.session.execute(statement)).mappings()]

    async def update(self, macro_id: uuid.UUID, changes: Mapping[str, Any]) -> MacroRow:
        """``changes``: column name to new value (actions as JSON)."""
        statement = table.update().where(table.c.id == macro_id).values(**changes).returning(table)
        return _record((await self.session.execute(statement)).mappings().one())

    async def delete(self, macro_id: uuid.UUID) -> bool:
        result = await self.session.execute(table.delete().where(table.c.id == macro_id).returning(table.c.id))
        return result.first() is not None
