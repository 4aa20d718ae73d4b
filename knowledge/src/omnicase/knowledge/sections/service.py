"""Section rules: ordered per brand; a section that holds articles is not deleted."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.brands import BrandDirectory
from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NotFound
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import Int32, Page, decode_cursor
from omnicase.knowledge.sections.repository import SectionRepository
from omnicase.knowledge.sections.schemas import Section, SectionCreate, SectionUpdate


class SectionNotFound(NotFound):
    slug, title = "section-not-found", "Section not found"


def section_missing(section_id: uuid.UUID) -> SectionNotFound:
    return SectionNotFound(f"Section {section_id} does not exist.")


class SectionService:
    def __init__(self, session: AsyncSession) -> None:
        self.repository = SectionRepository(session)

    async def create(self, payload: SectionCreate, brands: BrandDirectory) -> Section:
        await brands.check({"body.brand": payload.brand})
        now = utcnow()
        position = payload.position
        if position is None:
            position = await self.repository.next_position(payload.brand)
        return await self.repository.insert(
            {
                "id": uuid7(),
                "brand": payload.brand,
                "name": payload.name,
                "description": payload.description,
                "position": position,
                "created_at": now,
                "updated_at": now,
            }
        )

    async def page(self, brand: str | None, cursor: str | None, limit: int) -> Page[Section]:
        """The brand's sections in their order, a page after ``cursor``."""
        return await self.repository.page(brand, decode_cursor(cursor, Int32, uuid.UUID), limit)

    async def get(self, section_id: uuid.UUID) -> Section:
        return await self.repository.get_or_raise(section_id, section_missing)

    async def update(self, section_id: uuid.UUID, payload: SectionUpdate) -> Section:
        changes = payload.model_dump(exclude_unset=True)
        updated = await self.repository.update(section_id, {**changes, "updated_at": utcnow()})
        if updated is None:
            raise section_missing(section_id)
        return updated

    async def delete(self, section_id: uuid.UUID) -> None:
        await self.get(section_id)
        await self.repository.delete(section_id)
