"""Every query about brands, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, exists, select
from sqlalchemy.dialects.postgresql import insert

from omnicase.case_core.models import brands as table
from omnicase.case_core.models import cases
from omnicase.case_core.records import column_values
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class BrandRow:
    id: uuid.UUID
    name: str
    slug: str
    default_locale: str
    supported_locales: tuple[str, ...]  # the default first
    logo_url: str | None
    colors: Mapping[str, Any] | None  # {"primary", "accent"}
    email_signature: str
    time_zone: str
    business_hours_id: uuid.UUID | None
    sla_policy_id: uuid.UUID | None
    csat: Mapping[str, Any] | None  # {"enabled"?, "delay_seconds"?, "texts"?}, as saved
    created_at: datetime
    updated_at: datetime


def _record(row: RowMapping) -> BrandRow:
    return BrandRow(**{**row, "supported_locales": tuple(row["supported_locales"])})


class BrandRepository(Repository):
    async def insert(self, brand: BrandRow) -> BrandRow | None:
        """None if the slug is taken."""
        statement = (
            insert(table)
            .values(**column_values(brand))
            .on_conflict_do_nothing(index_elements=["slug"])
            .returning(table)
        )
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return _record(row) if row else None

    async def get(self, brand_id: uuid.UUID) -> BrandRow | None:
        row = (await self.session.execute(select(table).where(table.c.id == brand_id))).mappings().one_or_none()
        return _record(row) if row else None

    async def all(self) -> list[BrandRow]:
        rows = (await self.session.execute(select(table).order_by(table.c.slug))).mappings()
        return [_record(row) for row in rows]

    async def update(self, brand_id: uuid.UUID, changes: Mapping[str, Any]) -> BrandRow:
        """``changes``: column name to new value."""
        statement = table.update().where(table.c.id == brand_id).values(**changes).returning(table)
        return _record((await self.session.execute(statement)).mappings().one())

    async def in_use(self, brand_id: uuid.UUID) -> bool:
        """Whether any case carries the brand."""
        return bool(await self.session.scalar(select(exists().where(cases.c.brand_id == brand_id))))

    async def delete(self, brand_id: uuid.UUID) -> None:
        await self.session.execute(table.delete().where(table.c.id == brand_id))
