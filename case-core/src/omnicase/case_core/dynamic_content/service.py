"""Dynamic content: named texts with a variant per locale, read per rendered text through a per-process cache.

A text with ``{{dc.<name>}}`` gets the item's variant for, in order, the recipient's locale
(the requester contact's ``locale``, else the case's ``language``), the case brand's default
locale, else the item's own text; a variant for ``ko`` also serves ``ko-kr``. An item nobody
defined renders empty.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.brands.service import BrandService
from omnicase.case_core.dynamic_content.repository import DynamicContentRepository, DynamicContentRow
from omnicase.case_core.dynamic_content.schemas import DynamicContentCreate, DynamicContentUpdate
from omnicase.case_core.errors import DynamicContentNotFound
from omnicase.case_core.models import config_version
from omnicase.kit.clock import utcnow
from omnicase.kit.config_version import VersionedCache
from omnicase.kit.errors import Conflict
from omnicase.kit.ids import uuid7

PREFIX = "dc."


class DynamicContentNameTaken(Conflict):
    slug = "dynamic-content-name-taken"


def _missing(item_id: uuid.UUID) -> DynamicContentNotFound:
    return DynamicContentNotFound(f"Dynamic content {item_id} does not exist.")


def variant_for(item: DynamicContentRow, locales: Iterable[str | None]) -> str:
    """The item's text for the first of ``locales`` it has (exactly, then by its base language), else its default."""
    for locale in locales:
        if not locale:
            continue
        wanted = locale.lower()
        for key in (wanted, wanted.split("-")[0]):
            if key in item.variants:
                return item.variants[key]
    return item.text


class DynamicContentService:
    def __init__(self, brands: BrandService) -> None:
        self.brands = brands
        # Read for every rendered text (auto-responses on the intake's path): kept per process.
        self.cache: VersionedCache[Mapping[str, DynamicContentRow]] = VersionedCache(
            config_version, self._load, once_per_transaction=True
        )

    async def _load(self, session: AsyncSession, _version: int) -> Mapping[str, DynamicContentRow]:
        return {row.name: row for row in await DynamicContentRepository(session).all()}

    async def values(self, session: AsyncSession, recipient_locale: str | None, brand: str | None) -> dict[str, str]:
        """``dc.<name>`` → its text for the recipient's locale, the brand's default, the item's default."""
        items = await self.cache.current(session)
        if not items:
            return {}
        found = (await self.brands.current(session)).of_slug(brand)
        locales = (recipient_locale, found.default_locale if found is not None else None)
        return {f"{PREFIX}{name}": variant_for(item, locales) for name, item in items.items()}

    async def all(self, session: AsyncSession) -> list[DynamicContentRow]:
        return await DynamicContentRepository(session).all()

    async def get(self, session: AsyncSession, item_id: uuid.UUID) -> DynamicContentRow:
        return await DynamicContentRepository(session).get_or_raise(item_id, _missing)

    async def create(self, session: AsyncSession, data: DynamicContentCreate) -> DynamicContentRow:
        now = utcnow()
        row = await DynamicContentRepository(session).insert(
            DynamicContentRow(uuid7(), data.name, data.text, dict(data.variants), now, now)
        )
        if row is None:
            raise DynamicContentNameTaken(f"Dynamic content named {data.name!r} exists already.")
        return row

    async def update(self, session: AsyncSession, item_id: uuid.UUID, data: DynamicContentUpdate) -> DynamicContentRow:
        await self.get(session, item_id)
        values: dict[str, Any] = {name: getattr(data, name) for name in data.model_fields_set}
        values["updated_at"] = utcnow()
        return await DynamicContentRepository(session).update(item_id, values)

    async def delete(self, session: AsyncSession, item_id: uuid.UUID) -> None:
        """Texts naming it render it empty from now on."""
        await self.get(session, item_id)
        await DynamicContentRepository(session).delete(item_id)
