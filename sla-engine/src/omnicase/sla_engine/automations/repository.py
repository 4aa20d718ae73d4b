"""Every query on automations and their once-per-case runs."""

from __future__ import annotations

import uuid
from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Uuid, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY, insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.pagination import Page
from omnicase.sla_engine.automations.schemas import Automation
from omnicase.sla_engine.models import automation_runs, automations
from omnicase.sla_engine.ordered import OrderedRepository


def _automation(row: Any) -> Automation:
    return Automation.model_validate(dict(row._mapping))


class AutomationRepository(OrderedRepository[Automation]):
    """The automations (the shape every ordered rule shares: :mod:`omnicase.sla_engine.ordered`) and their runs."""

    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, automations, Page[Automation], _automation)

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
