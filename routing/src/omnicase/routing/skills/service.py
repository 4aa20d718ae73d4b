"""Skills: unique names, and refusing to delete one a rule or waiting work requires."""

from __future__ import annotations

import uuid

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.ids import uuid7
from omnicase.kit.pagination import Page, decode_id_cursor
from omnicase.routing.errors import NameTaken, SkillNotFound, StillInUse
from omnicase.routing.skills.repository import SkillRepository
from omnicase.routing.skills.schemas import Skill, SkillCreate, SkillUpdate


def _missing(skill_id: uuid.UUID) -> SkillNotFound:
    return SkillNotFound(f"Skill {skill_id} does not exist.")


class SkillService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = SkillRepository(session)

    async def get(self, skill_id: uuid.UUID) -> Skill:
        return await self.repo.get_or_raise(skill_id, _missing)

    async def page(self, cursor: str | None, limit: int) -> Page[Skill]:
        return await self.repo.page(decode_id_cursor(cursor), limit)

    async def create(self, payload: SkillCreate) -> Skill:
        if await self.repo.taken("name", payload.name):
            raise NameTaken(f"A skill named {payload.name!r} exists already.")
        skill_id, now = uuid7(), utcnow()
        await self.repo.insert({"id": skill_id, **payload.model_dump(), "created_at": now, "updated_at": now})
        return await self.get(skill_id)

    async def update(self, skill_id: uuid.UUID, payload: SkillUpdate) -> Skill:
        await self.get(skill_id)
        values = payload.model_dump(exclude_unset=True, exclude_none=True)
        if "name" in values and await self.repo.taken("name", values["name"], other_than=skill_id):
            raise NameTaken(f"A skill named {values['name']!r} exists already.")
        if values:
            await self.repo.update(skill_id, {**values, "updated_at": utcnow()})
        return await self.get(skill_id)

    async def delete(self, skill_id: uuid.UUID) -> None:
        await self.get(skill_id)
        if await self.repo.required_by_rules(skill_id):
            raise StillInUse(f"Skill {skill_id} is required by an assignment rule; change the rule first.")
        if await self.repo.required_by_waiting_work(skill_id):
            raise StillInUse(f"Skill {skill_id} is required by cases waiting in a queue; they would never be placed.")
        await self.repo.delete(skill_id)
