"""Every query about organizations and their email domains, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from sqlalchemy import RowMapping, and_, func, or_, select
from sqlalchemy.dialects.postgresql import insert

from omnicase.case_core.models import organization_domains as domains
from omnicase.case_core.models import organizations
from omnicase.case_core.records import column_values
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class OrganizationRow:
    id: uuid.UUID
    name: str
    notes: str
    created_at: datetime
    updated_at: datetime


class OrganizationValues(TypedDict, total=False):
    """Columns of an organization to set, by name, and their values (what a change writes)."""

    name: str
    notes: str
    updated_at: datetime


def _record(row: RowMapping) -> OrganizationRow:
    return OrganizationRow(**row)


class OrganizationRepository(Repository):
    async def insert(self, organization: OrganizationRow) -> OrganizationRow:
        statement = organizations.insert().values(**column_values(organization)).returning(organizations)
        return _record((await self.session.execute(statement)).mappings().one())

    async def get(self, organization_id: uuid.UUID) -> OrganizationRow | None:
        statement = select(organizations).where(organizations.c.id == organization_id)
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return _record(row) if row else None

    async def update(self, organization_id: uuid.UUID, changes: OrganizationValues) -> OrganizationRow:
        """Set the columns of ``changes``."""
        statement = (
            organizations.update()
            .where(organizations.c.id == organization_id)
            .values(**changes)
            .returning(organizations)
        )
        return _record((await self.session.execute(statement)).mappings().one())

    async def delete(self, organization_id: uuid.UUID) -> None:
        await self.session.execute(organizations.delete().where(organizations.c.id == organization_id))

    async def by_domain(self, domain: str) -> uuid.UUID | None:
        return await self.session.scalar(select(domains.c.organization_id).where(domains.c.domain == domain))

    async def claim_domain(self, organization_id: uuid.UUID, domain: str) -> bool:
        statement = (
            insert(domains)
            .values(domain=domain, organization_id=organization_id)
            .on_conflict_do_nothing(index_elements=["domain"])
            .returning(domains.c.domain)
        )
        if (await self.session.execute(statement)).scalar_one_or_none() is not None:
            return True
        return await self.by_domain(domain) == organization_id

    async def release_domains(self, organization_id: uuid.UUID) -> None:
        await self.session.execute(domains.delete().where(domains.c.organization_id == organization_id))

    async def move_domains(self, source: uuid.UUID, target: uuid.UUID) -> None:
        await self.session.execute(
            domains.update().where(domains.c.organization_id == source).values(organization_id=target)
        )

    async def domains_of(self, ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
        result: dict[uuid.UUID, list[str]] = {organization_id: [] for organization_id in ids}
        if ids:
            statement = (
                select(domains.c.organization_id, domains.c.domain)
                .where(domains.c.organization_id.in_(list(ids)))
                .order_by(domains.c.domain)
            )
            for row in await self.session.execute(statement):
                result[row.organization_id].append(row.domain)
        return result

    async def search(self, *, q: str | None, after: uuid.UUID | None, limit: int) -> list[OrganizationRow]:
        statement = select(organizations)
        conditions = []
        if q:
            pattern = q.strip().lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            holders = select(domains.c.organization_id).where(domains.c.domain.like(pattern))
            conditions.append(or_(func.lower(organizations.c.name).like(pattern), organizations.c.id.in_(holders)))
        if after is not None:
            conditions.append(organizations.c.id > after)
        statement = statement.where(and_(True, *conditions)).order_by(organizations.c.id).limit(limit)
        return [_record(row) for row in (await self.session.execute(statement)).mappings()]
