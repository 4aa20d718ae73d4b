"""Every query on automations and their once-per-case runs."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, any_, bindparam, delete, func, select, tuple_, update
from sqlalchemy.dialects.postgresql import ARRAY, insert

from omnicase.kit.pagination import Page
from omnicase.kit.repository import Repository
from omnicase.sla_engine.automations.schemas import Automation
from omnicase.sla_engine.models import automation_runs, automations


def _automation(row: Any) -> Automation:
    return Automation.model_validate(dict(row._mapping))


class AutomationRepository(Repository):
    async def insert(self, values: dict[str, Any]) -> Automation:
        statement = automations.insert().values(**values).returning(*automations.c)
        return _automation((await self.session.execute(statement)).one())

    async def next_position(self) -> int:
        return int(await self.session.scalar(select(func.coalesce(func.max(automations.c.position) + 1, 0))) or 0)

    async def get(self, automation_id: uuid.UUID) -> Automation | None:
        row = (await self.session.execute(select(automations).where(automations.c.id == automation_id))).one_or_none()
        return _automation(row) if row else None

    async def page(self, after: tuple[int, uuid.UUID] | None, limit: int) -> Page[Automation]:
        query = select(automations).order_by(automations.c.position, automations.c.id)
        if after is not None:
            query = query.where(tuple_(automations.c.position, automations.c.id) > tuple_(*after))
        return await self.paginate(
            Page[Automation], query, limit, key=lambda row: [row.position, row.id], item=_automation
        )

    async def active_in_order(self) -> list[Automation]:
        query = select(automations).where(automations.c.active).order_by(automations.c.position, automations.c.id)
        return [_automation(row) for row in await self.session.execute(query)]

    async def update(self, automation_id: uuid.UUID, values: dict[str, Any]) -> Automation | None:
        statement = update(automations).where(automations.c.id == automation_id).values(**values)
        row = (await self.session.execute(statement.returning(*automations.c))).one_or_none()
        return _automation(row) if row else None

    async def delete(self, automation_id: uuid.UUID) -> bool:
        result = await self.session.execute(delete(automations).where(automations.c.id == automation_id))
        return bool(getattr(result, "rowcount", 0))

    async def has_run(self, case_id: uuid.UUID) -> set[uuid.UUID]:
        query = select(automation_runs.c.automation_id).where(automation_runs.c.case_id == case_id)
        return set((await self.session.scalars(query)).all())

    async def runs_of(self, case_ids: Collection[uuid.UUID]) -> dict[uuid.UUID, set[uuid.UUID]]:
        """The automations that already ran on each of these cases (one statement)."""
        found: dict[uuid.UUID, set[uuid.UUID]] = {case_id: set() for case_id in case_ids}
        if not case_ids:
            return found
        query = select(automation_runs.c.case_id, automation_runs.c.automation_id).where(
            automation_runs.c.case_id == any_(bindparam("case_ids", sorted(set(case_ids)), type_=ARRAY(Uuid)))
        )
        for row in await self.session.execute(query):
            found[row.case_id].add(row.automation_id)
        return found

    async def record_run(self, case_id: uuid.UUID, automation_id: uuid.UUID, at: datetime) -> bool:
        """Claim the one run of ``automation_id`` on ``case_id``; False if it already ran."""
        statement = (
            insert(automation_runs)
            .values(case_id=case_id, automation_id=automation_id, fired_at=at)
            .on_conflict_do_nothing()
            .returning(automation_runs.c.case_id)
        )
        return (await self.session.execute(statement)).first() is not None
