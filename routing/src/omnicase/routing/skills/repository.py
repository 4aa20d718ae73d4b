from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import delete, exists, select, update

from omnicase.kit.pagination import Page
from omnicase.kit.repository import Repository
from omnicase.routing.models import cases, rule_skills, skills
from omnicase.routing.skills.schemas import Skill


class SkillRepository(Repository):
    async def get(self, skill_id: uuid.UUID) -> Skill | None:
        row = (await self.session.execute(select(skills).where(skills.c.id == skill_id))).mappings().first()
        return Skill.model_validate(dict(row)) if row else None

    async def name_taken(self, name: str, *, other_than: uuid.UUID | None = None) -> bool:
        condition = skills.c.name == name
        if other_than is not None:
            condition = condition & (skills.c.id != other_than)
        return bool(await self.session.scalar(select(exists().where(condition))))

    async def insert(self, values: dict[str, Any]) -> None:
        await self.session.execute(skills.insert().values(**values))

    async def update(self, skill_id: uuid.UUID, values: dict[str, Any]) -> None:
        await self.session.execute(update(skills).where(skills.c.id == skill_id).values(**values))

    async def delete(self, skill_id: uuid.UUID) -> None:
        await self.session.execute(delete(skills).where(skills.c.id == skill_id))

    async def required_by_rules(self, skill_id: uuid.UUID) -> bool:
        return bool(await self.session.scalar(select(exists().where(rule_skills.c.skill_id == skill_id))))

    async def required_by_waiting_work(self, skill_id: uuid.UUID) -> bool:
        """A case waiting for an agent with this skill (it could never be placed without it)."""
        return bool(
            await self.session.scalar(
                select(
                    exists().where(
                        cases.c.state.in_(("waiting", "offered")), cases.c.required_skills.has_key(str(skill_id))
                    )
                )
            )
        )

    async def page(self, after: uuid.UUID | None, limit: int) -> Page[Skill]:
        statement = select(skills).order_by(skills.c.id)
        if after is not None:
            statement = statement.where(skills.c.id > after)
        return await self.paginate(
            Page[Skill], statement, limit, key=lambda row: [row.id], item=lambda row: Skill.model_validate(row._mapping)
        )

    async def existing(self, skill_ids: list[uuid.UUID]) -> set[uuid.UUID]:
        if not skill_ids:
            return set()
        return set((await self.session.execute(select(skills.c.id).where(skills.c.id.in_(skill_ids)))).scalars())
