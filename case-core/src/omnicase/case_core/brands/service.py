"""Brands: the desk's brands, read per inbound message through a per-process cache."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.brands.repository import BrandRepository, BrandRow
from omnicase.case_core.brands.schemas import BrandCreate, BrandUpdate, with_default
from omnicase.case_core.errors import BrandNotFound, StillInUse
from omnicase.case_core.models import config_version
from omnicase.kit.clock import utcnow
from omnicase.kit.config_version import VersionedCache
from omnicase.kit.errors import Conflict
from omnicase.kit.events import BrandLook
from omnicase.kit.ids import uuid7


class BrandSlugTaken(Conflict):
    slug = "brand-slug-taken"


def _missing(brand_id: uuid.UUID) -> BrandNotFound:
    return BrandNotFound(f"Brand {brand_id} does not exist.")


@dataclass(frozen=True)
class Brands:
    """Every brand, by slug and by id (one read per configuration version)."""

    by_slug: Mapping[str, BrandRow]
    by_id: Mapping[uuid.UUID, BrandRow]

    def of_slug(self, slug: str | None) -> BrandRow | None:
        return self.by_slug.get(slug) if slug else None


def _json(value: Any) -> Any:
    return value.model_dump(mode="json") if value is not None and hasattr(value, "model_dump") else value


def look_of(brand: BrandRow | None, language: str | None = None) -> BrandLook | None:
    """What a customer email of the brand carries for its frame (intake-email's templates), written in
    ``language`` (the case's), else the brand's default locale."""
    if brand is None:
        return None
    return BrandLook(
        slug=brand.slug,
        name=brand.name,
        signature=brand.email_signature,
        logo_url=brand.logo_url,
        primary_color=(brand.colors or {}).get("primary"),
        locale=language or brand.default_locale,
    )


class BrandService:
    def __init__(self) -> None:
        # Read for every new case: kept per process until a brand changes anywhere.
        self.cache: VersionedCache[Brands] = VersionedCache(config_version, self._load, once_per_transaction=True)

    async def _load(self, session: AsyncSession, _version: int) -> Brands:
        rows = await BrandRepository(session).all()
        return Brands({row.slug: row for row in rows}, {row.id: row for row in rows})

    async def current(self, session: AsyncSession) -> Brands:
        return await self.cache.current(session)

    async def look(self, session: AsyncSession, slug: str | None, language: str | None) -> BrandLook | None:
        """The look of the brand ``slug`` names (none for no brand, or a slug no brand has)."""
        return look_of((await self.current(session)).of_slug(slug), language) if slug else None

    async def all(self, session: AsyncSession) -> list[BrandRow]:
        return await BrandRepository(session).all()

    async def get(self, session: AsyncSession, brand_id: uuid.UUID) -> BrandRow:
        return await BrandRepository(session).get_or_raise(brand_id, _missing)

    async def create(self, session: AsyncSession, data: BrandCreate) -> BrandRow:
        now = utcnow()
        row = await BrandRepository(session).insert(
            BrandRow(
                id=uuid7(),
                name=data.name,
                slug=data.slug,
                default_locale=data.default_locale,
                supported_locales=tuple(data.supported_locales),
                logo_url=data.logo_url,
                colors=_json(data.colors),
                email_signature=data.email_signature,
                time_zone=data.time_zone,
                business_hours_id=data.business_hours_id,
                sla_policy_id=data.sla_policy_id,
                csat=_json(data.csat),
                created_at=now,
                updated_at=now,
            )
        )
        if row is None:
            raise BrandSlugTaken(f"A brand with slug {data.slug!r} exists already.")
        return row

    async def update(self, session: AsyncSession, brand_id: uuid.UUID, data: BrandUpdate) -> BrandRow:
        current = await self.get(session, brand_id)
        values: dict[str, Any] = {name: _json(getattr(data, name)) for name in data.model_fields_set}
        if "default_locale" in values or "supported_locales" in values:
            default = values.get("default_locale", current.default_locale)
            values["supported_locales"] = with_default(
                default, list(values.get("supported_locales", current.supported_locales))
            )
        values["updated_at"] = utcnow()
        return await BrandRepository(session).update(brand_id, values)

    async def delete(self, session: AsyncSession, brand_id: uuid.UUID) -> None:
        """A brand some case carries stays (its cases would lose it): a 409."""
        await self.get(session, brand_id)
        if await BrandRepository(session).in_use(brand_id):
            raise StillInUse(f"Brand {brand_id} is the brand of some cases; it cannot be deleted.")
        await BrandRepository(session).delete(brand_id)
