from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, exists, select, update

from omnicase.kit.pagination import Page
from omnicase.kit.repository import Repository
from omnicase.routing.groups.schemas import Group
from omnicase.routing.models import cases, groups, rules


class GroupRepository(Repository):
    async def get(self, group_id: uuid.UUID) -> Group | None:
        row = (await self.session.execute(select(groups).where(groups.c.id == group_id))).mappings().first()
        return Group.model_validate(dict(row)) if row else None

    async def name_taken(self, name: str, *, other_than: uuid.UUID | None = None) -> bool:
        condition = groups.c.name == name
        if other_than is not None:
            condition = condition & (groups.c.id != other_than)
        return bool(await self.session.scalar(select(exists().where(condition))))

    async def insert(self, values: dict[str, Any]) -> None:
        await self.session.execute(groups.insert().values(**values))

    async def update(self, group_id: uuid.UUID, values: dict[str, Any]) -> None:
        await self.session.execute(update(groups).where(groups.c.id == group_id).values(**values))

    async def delete(self, group_id: uuid.UUID) -> None:
        await self.session.execute(delete(groups).where(groups.c.id == group_id))

    async def page(self, after: uuid.UUID | None, limit: int) -> Page[Group]:
        statement = select(groups).order_by(groups.c.id)
        if after is not None:
            statement = statement.where(groups.c.id > after)
        return await self.paginate(
            Page[Group], statement, limit, key=lambda row: [row.id], item=lambda row: Group.model_validate(row._mapping)
        )

    async def existing(self, group_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        if not group_ids:
            return set()
        return set((await self.session.execute(select(groups.c.id).where(groups.c.id.in_(group_ids)))).scalars())

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
