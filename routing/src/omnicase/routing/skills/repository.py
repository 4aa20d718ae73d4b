from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import exists, select
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.pagination import Page
from omnicase.kit.repository import TableRepository
from omnicase.routing.models import cases, rule_skills, skills
from omnicase.routing.skills.schemas import Skill


def _skill(row: Any) -> Skill:
    return Skill.model_validate(row._mapping)


class SkillRepository(TableRepository[Skill]):
    def __init__(self, session: AsyncSession) -> None:
        super().__init__(session, skills, Page[Skill], _skill)

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
