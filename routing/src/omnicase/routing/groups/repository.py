from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.pagination import Page
from omnicase.kit.repository import TableRepository
from omnicase.routing.groups.schemas import Group
from omnicase.routing.models import cases, groups, rules


def _group(row: Any) -> Group:
    return Group.model_validate(row._mapping)


class GroupRepository(TableRepository[Group]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, groups, Page[Group], _group)

    async def overflow_chain(self, start: uuid.UUID) -> list[uuid.UUID]:
        """The queues work overflows through from ``start`` on (``start`` included)."""
        chain = select(groups.c.id, groups.c.overflow_group_id).where(groups.c.id == start).cte("chain", recursive=True)
        step = select(groups.c.id, groups.c.overflow_group_id).join(chain, groups.c.id == chain.c.overflow_group_id)
        # UNION (not ALL) stops at a queue already seen, should a loop exist.
        chain = chain.union(step)
        return list((await self.session.execute(select(chain.c.id))).scalars())

    async def uses(self, group_id: uuid.UUID) -> list[str]:
        """What still points at the group, in words (empty when it can go)."""
        found = []
        if await self.session.scalar(select(exists().where(rules.c.target_group_id == group_id))):
            found.append("an assignment rule targets it")
        if await self.session.scalar(select(exists().where(groups.c.overflow_group_id == group_id))):
            found.append("another queue overflows into it")
        if await self.session.scalar(
            select(exists().where(cases.c.group_id == group_id, cases.c.state.in_(("waiting", "offered"))))
        ):
            found.append("cases are waiting in it")
        return found
