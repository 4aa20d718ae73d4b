"""Every query on SLA policies."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, func, select, tuple_, update

from omnicase.kit.pagination import Page
from omnicase.kit.repository import Repository
from omnicase.sla_engine.models import policies
from omnicase.sla_engine.policies.schemas import Policy


def _policy(row: Any) -> Policy:
    return Policy.model_validate(dict(row._mapping))


class PolicyRepository(Repository):
    async def insert(self, values: dict[str, Any]) -> Policy:
        return _policy((await self.session.execute(policies.insert().values(**values).returning(*policies.c))).one())

    async def next_position(self) -> int:
        return int(await self.session.scalar(select(func.coalesce(func.max(policies.c.position) + 1, 0))) or 0)

    async def get(self, policy_id: uuid.UUID) -> Policy | None:
        row = (await self.session.execute(select(policies).where(policies.c.id == policy_id))).one_or_none()
        return _policy(row) if row else None

    async def page(self, after: tuple[int, uuid.UUID] | None, limit: int) -> Page[Policy]:
        query = select(policies).order_by(policies.c.position, policies.c.id)
        if after is not None:
            query = query.where(tuple_(policies.c.position, policies.c.id) > tuple_(*after))
        return await self.paginate(Page[Policy], query, limit, key=lambda row: [row.position, row.id], item=_policy)

    async def active_in_order(self) -> list[Policy]:
        query = select(policies).where(policies.c.active).order_by(policies.c.position, policies.c.id)
        return [_policy(row) for row in await self.session.execute(query)]

    async def update(self, policy_id: uuid.UUID, values: dict[str, Any]) -> Policy | None:
        row = (
            await self.session.execute(
                update(policies).where(policies.c.id == policy_id).values(**values).returning(*policies.c)
            )
        ).one_or_none()
        return _policy(row) if row else None

    async def delete(self, policy_id: uuid.UUID) -> bool:
        result = await self.session.execute(delete(policies).where(policies.c.id == policy_id))
        return bool(getattr(result, "rowcount", 0))
