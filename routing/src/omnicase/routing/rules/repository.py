from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import and_, delete, func, insert, select, text, update

from omnicase.kit.repository import Repository
from omnicase.routing.models import rule_skills, rules
from omnicase.routing.rules.schemas import RequiredSkill, Rule


class RuleRepository(Repository):
    async def lock_order(self) -> None:
        """Serialise changes to the rules' order (plain reads are not blocked)."""
        await self.session.execute(text("LOCK TABLE routing.rules IN SHARE ROW EXCLUSIVE MODE"))

    async def count(self) -> int:
        return int(await self.session.scalar(select(func.count()).select_from(rules)) or 0)

    async def get(self, rule_id: uuid.UUID) -> Rule | None:
        found = await self._load(select(rules).where(rules.c.id == rule_id))
        return found[0] if found else None

    async def page(self, after: tuple[int, uuid.UUID] | None, limit: int, *, enabled: bool | None) -> list[Rule]:
        statement = select(rules).order_by(rules.c.position, rules.c.id).limit(limit)
        if after is not None:
            position, rule_id = after
            statement = statement.where(
                (rules.c.position > position) | and_(rules.c.position == position, rules.c.id > rule_id)
            )
        if enabled is not None:
            statement = statement.where(rules.c.enabled.is_(enabled))
        return await self._load(statement)

    async def _load(self, statement: Any) -> list[Rule]:
        rows = list((await self.session.execute(statement)).mappings())
        if not rows:
            return []
        required: dict[uuid.UUID, list[RequiredSkill]] = {row["id"]: [] for row in rows}
        skill_rows = await self.session.execute(
            select(rule_skills)
            .where(rule_skills.c.rule_id.in_(list(required)))
            .order_by(rule_skills.c.rule_id, rule_skills.c.skill_id)
        )
        for skill_row in skill_rows.mappings():
            required[skill_row["rule_id"]].append(
                RequiredSkill(skill_id=skill_row["skill_id"], min_level=skill_row["min_level"])
            )
        return [Rule.model_validate({**row, "required_skills": required[row["id"]]}) for row in rows]

    async def make_room(self, position: int) -> None:
        await self.session.execute(
            update(rules).where(rules.c.position >= position).values(position=rules.c.position + 1)
        )

    async def close_gap(self, position: int) -> None:
        await self.session.execute(
            update(rules).where(rules.c.position > position).values(position=rules.c.position - 1)
        )

    async def insert(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(rules).values(**values))

    async def update(self, rule_id: uuid.UUID, values: dict[str, Any]) -> None:
        await self.session.execute(update(rules).where(rules.c.id == rule_id).values(**values))

    async def delete(self, rule_id: uuid.UUID) -> None:
        await self.session.execute(delete(rules).where(rules.c.id == rule_id))

    async def replace_skills(self, rule_id: uuid.UUID, required: Sequence[RequiredSkill]) -> None:
        await self.session.execute(delete(rule_skills).where(rule_skills.c.rule_id == rule_id))
        if required:
            await self.session.execute(
                insert(rule_skills),
                [{"rule_id": rule_id, "skill_id": item.skill_id, "min_level": item.min_level} for item in required],
            )
