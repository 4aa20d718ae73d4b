"""Every query on SLA policies (the shape every ordered rule shares: :mod:`omnicase.sla_engine.ordered`)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.pagination import Page
from omnicase.sla_engine.models import policies
from omnicase.sla_engine.ordered import OrderedRepository
from omnicase.sla_engine.policies.schemas import Policy


def _policy(row: Any) -> Policy:
    return Policy.model_validate(dict(row._mapping))


class PolicyRepository(OrderedRepository[Policy]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, policies, Page[Policy], _policy)
