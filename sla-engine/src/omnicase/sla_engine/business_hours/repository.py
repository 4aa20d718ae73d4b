"""Every query on schedules."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select, tuple_, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.pagination import Page
from omnicase.kit.repository import TableRepository
from omnicase.sla_engine.business_hours.schemas import Schedule
from omnicase.sla_engine.models import automations, policies, schedules


def _schedule(row: Any) -> Schedule:
    return Schedule.model_validate(row._mapping)


class ScheduleRepository(TableRepository[Schedule]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, schedules, Page[Schedule], _schedule)

    async def get(self, schedule_id: uuid.UUID, *, for_update: bool = False) -> Schedule | None:
        query = select(schedules).where(schedules.c.id == schedule_id)
        if for_update:
            query = query.with_for_update()
        row = (await self.session.execute(query)).one_or_none()
        return _schedule(row) if row else None

    async def all(self) -> list[Schedule]:
        return [_schedule(row) for row in await self.session.execute(select(schedules).order_by(schedules.c.id))]

    async def exists(self, schedule_id: uuid.UUID) -> bool:
        return bool(await self.session.scalar(select(exists().where(schedules.c.id == schedule_id))))

    async def by_name(self, after: tuple[str, uuid.UUID] | None, limit: int) -> Page[Schedule]:
        query = select(schedules).order_by(schedules.c.name, schedules.c.id)
        if after is not None:
            query = query.where(tuple_(schedules.c.name, schedules.c.id) > tuple_(*after))
        return await self.paginate(Page[Schedule], query, limit, key=lambda row: [row.name, row.id], item=_schedule)

    async def in_use(self, schedule_id: uuid.UUID) -> bool:
        users = union_all(
            select(policies.c.id).where(policies.c.schedule_id == schedule_id),
            select(automations.c.id).where(automations.c.schedule_id == schedule_id),
        )
        return bool(await self.session.scalar(select(exists(users.subquery().select()))))
