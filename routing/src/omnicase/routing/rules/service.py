"""Assignment rules: validation and keeping the order 1, 2, 3 … without gaps."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, refusal
from omnicase.kit.ids import uuid7
from omnicase.routing.errors import RuleNotFound
from omnicase.routing.groups.repository import GroupRepository
from omnicase.routing.rules.repository import RuleRepository
from omnicase.routing.rules.schemas import RequiredSkill, Rule, RuleCreate, RuleUpdate
from omnicase.routing.skills.repository import SkillRepository


def _missing(rule_id: uuid.UUID) -> RuleNotFound:
    return RuleNotFound(f"Rule {rule_id} does not exist.")


class RuleService:
    def __init__(self, session: AsyncSession) -> None:
        self.repo = RuleRepository(session)
        self.groups = GroupRepository(session)
        self.skills = SkillRepository(session)

    async def get(self, rule_id: uuid.UUID) -> Rule:
        return await self.repo.get_or_raise(rule_id, _missing)

    async def page(self, after: tuple[int, uuid.UUID] | None, limit: int, *, enabled: bool | None) -> list[Rule]:
        return await self.repo.page(after, limit, enabled=enabled)

    async def _check(self, target_group_id: uuid.UUID | None, required: list[RequiredSkill] | None) -> None:
        errors: list[FieldError] = []
        if target_group_id is not None and not await self.groups.existing([target_group_id]):
            errors.append(FieldError(field="body.target_group_id", message="no such group", code=NOT_FOUND_CODE))
        if required is not None:
            known = await self.skills.existing([item.skill_id for item in required])
            seen: set[uuid.UUID] = set()
            for index, item in enumerate(required):
                field = f"body.required_skills.{index}.skill_id"
                if item.skill_id in seen:
                    errors.append(FieldError(field=field, message="listed twice", code="duplicate"))
                elif item.skill_id not in known:
                    errors.append(FieldError(field=field, message="no such skill", code=NOT_FOUND_CODE))
                seen.add(item.skill_id)
        if errors:
            raise refusal("The rule refers to groups or skills that are not valid.", errors)

    async def create(self, payload: RuleCreate) -> Rule:
        await self._check(payload.target_group_id, payload.required_skills)
        await self.repo.lock_order()
        last = await self.repo.count() + 1
        position = min(payload.position or last, last)
        await self.repo.make_room(position)
        rule_id, now = uuid7(), utcnow()
        await self.repo.insert(
            {
                "id": rule_id,
                "name": payload.name,
                "position": position,
                "enabled": payload.enabled,
                "conditions": payload.conditions.model_dump(mode="json"),
                "target_group_id": payload.target_group_id,
                "require_language": payload.require_language,
                "created_at": now,
                "updated_at": now,
            }
        )
        await self.repo.replace_skills(rule_id, payload.required_skills)
        return await self.get(rule_id)

    async def update(self, rule_id: uuid.UUID, payload: RuleUpdate) -> Rule:
        changes = payload.model_dump(exclude_unset=True)
        await self.repo.lock_order()
        current = await self.get(rule_id)
        await self._check(payload.target_group_id, payload.required_skills)
        values: dict[str, Any] = {
            key: changes[key] for key in ("name", "enabled", "target_group_id", "require_language") if key in changes
        }
        if payload.conditions is not None:
            values["conditions"] = payload.conditions.model_dump(mode="json")
        if payload.position is not None and payload.position != current.position:
            last = await self.repo.count()
            target = min(payload.position, last)
            await self.repo.close_gap(current.position)
            # Park the rule out of the way while the others shift.
            await self.repo.update(rule_id, {"position": 0})
            await self.repo.make_room(target)
            values["position"] = target
        await self.repo.update(rule_id, {**values, "updated_at": utcnow()})
        if payload.required_skills is not None:
            await self.repo.replace_skills(rule_id, payload.required_skills)
        return await self.get(rule_id)

    async def delete(self, rule_id: uuid.UUID) -> None:
        await self.repo.lock_order()
        current = await self.get(rule_id)
        await self.repo.delete(rule_id)
        await self.repo.close_gap(current.position)
