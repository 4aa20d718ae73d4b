"""Every query about triggers and their runs, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, func, select

from omnicase.case_core.records import column_values
from omnicase.case_core.triggers.models import trigger_runs as runs
from omnicase.case_core.triggers.models import triggers as table
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class TriggerRow:
    id: uuid.UUID
    name: str
    description: str
    active: bool
    position: int
    conditions: Mapping[str, Any]  # Conditions, as JSON
    actions: tuple[Mapping[str, Any], ...]  # Action, as JSON
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class TriggerRunRow:
    id: uuid.UUID
    case_id: uuid.UUID
    version: int  # the case's, after the run
    fired: tuple[Mapping[str, str], ...]  # {"trigger_id", "name"} of each trigger that fired, in order
    stopped_reason: str | None
    at: datetime


def _trigger(row: RowMapping) -> TriggerRow:
    return TriggerRow(**{**row, "actions": tuple(row["actions"])})


def _run(row: RowMapping) -> TriggerRunRow:
    return TriggerRunRow(**{**row, "fired": tuple(row["fired"])})


class TriggerRepository(Repository):
    async def active(self) -> list[TriggerRow]:
        statement = select(table).where(table.c.active.is_(True)).order_by(table.c.position, table.c.id)
        return [_trigger(row) for row in (await self.session.execute(statement)).mappings()]

    async def all(self) -> list[TriggerRow]:
        statement = select(table).order_by(table.c.position, table.c.id)
        return [_trigger(row) for row in (await self.session.execute(statement)).mappings()]

    async def get(self, trigger_id: uuid.UUID) -> TriggerRow | None:
        row = (await self.session.execute(select(table).where(table.c.id == trigger_id))).mappings().one_or_none()
        return _trigger(row) if row else None

    async def next_position(self) -> int:
        highest = await self.session.scalar(select(func.max(table.c.position)))
        return 0 if highest is None else int(highest) + 1

    async def insert(self, trigger: TriggerRow) -> TriggerRow:
        statement = table.insert().values(**column_values(trigger)).returning(table)
        return _trigger((await self.session.execute(statement)).mappings().one())

    async def update(self, trigger_id: uuid.UUID, changes: Mapping[str, Any]) -> TriggerRow:
        """``changes``: column name to new value (conditions and actions as JSON)."""
        statement = table.update().where(table.c.id == trigger_id).values(**changes).returning(table)
        return _trigger((await self.session.execute(statement)).mappings().one())

    async def delete(self, trigger_id: uuid.UUID) -> bool:
        result = await self.session.execute(table.delete().where(table.c.id == trigger_id).returning(table.c.id))
        return result.first() is not None

    async def record_run(self, run: TriggerRunRow) -> None:
        await self.session.execute(runs.insert().values(**column_values(run)))

    async def runs_of(self, case_id: uuid.UUID) -> list[TriggerRunRow]:
        statement = select(runs).where(runs.c.case_id == case_id).order_by(runs.c.at, runs.c.id)
        return [_run(row) for row in (await self.session.execute(statement)).mappings()]
