from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update

from omnicase.kit.repository import Repository
from omnicase.routing.agents.schemas import Agent, HeldSkill, PresenceState, VoiceState
from omnicase.routing.models import agent_skills, agents, group_members, skills


class AgentRepository(Repository):
    async def exists(self, user_id: uuid.UUID) -> bool:
        return (await self.session.scalar(select(agents.c.user_id).where(agents.c.user_id == user_id))) is not None

    async def get(self, user_id: uuid.UUID, *, lock: bool = False) -> Agent | None:
        found = await self._load([user_id], lock=lock)
        return found[0] if found else None

    async def page(
        self,
        after: uuid.UUID | None,
        limit: int,
        *,
        presence: str | None = None,
        voice: str | None = None,
        group_id: uuid.UUID | None = None,
        skill_id: uuid.UUID | None = None,
    ) -> list[Agent]:
        statement = select(agents.c.user_id).order_by(agents.c.user_id).limit(limit)
        if after is not None:
            statement = statement.where(agents.c.user_id > after)
        if presence is not None:
            statement = statement.where(agents.c.presence == presence)
        if voice is not None:
            statement = statement.where(agents.c.voice_status == voice)
        if group_id is not None:
            statement = statement.where(
                agents.c.user_id.in_(select(group_members.c.agent_id).where(group_members.c.group_id == group_id))
            )
        if skill_id is not None:
            statement = statement.where(
                agents.c.user_id.in_(select(agent_skills.c.agent_id).where(agent_skills.c.skill_id == skill_id))
            )
        ids = list((await self.session.execute(statement)).scalars())
        return await self._load(ids)

    async def _load(self, ids: Sequence[uuid.UUID], *, lock: bool = False) -> list[Agent]:
        if not ids:
            return []
        statement = select(agents).where(agents.c.user_id.in_(ids)).order_by(agents.c.user_id)
        if lock:
            statement = statement.with_for_update()
        rows = list((await self.session.execute(statement)).mappings())
        held: dict[uuid.UUID, list[HeldSkill]] = {row["user_id"]: [] for row in rows}
        member: dict[uuid.UUID, list[uuid.UUID]] = {row["user_id"]: [] for row in rows}
        skill_rows = await self.session.execute(
            select(agent_skills.c.agent_id, agent_skills.c.skill_id, skills.c.name, agent_skills.c.level)
            .join(skills, skills.c.id == agent_skills.c.skill_id)
            .where(agent_skills.c.agent_id.in_(ids))
            .order_by(skills.c.name)
        )
        for agent_id, skill_id, name, level in skill_rows:
            held[agent_id].append(HeldSkill(skill_id=skill_id, name=name, level=level))
        group_rows = await self.session.execute(
            select(group_members.c.agent_id, group_members.c.group_id)
            .where(group_members.c.agent_id.in_(ids))
            .order_by(group_members.c.group_id)
        )
        for agent_id, group_id in group_rows:
            member[agent_id].append(group_id)
        return [
            Agent(
                user_id=row["user_id"],
                name=row["name"],
                email=row["email"],
                languages=list(row["languages"]),
                capacity=row["capacity"],
                used_capacity=row["used_capacity"],
                free_capacity=max(0, row["capacity"] - row["used_capacity"]),
                active_cases=row["active_cases"],
                presence=PresenceState(
                    status=row["presence"], reason=row["presence_reason"], since=row["presence_changed_at"]
                ),
                voice=VoiceState(
                    status=row["voice_status"],
                    call_id=row["voice_call_id"],
                    wrap_up_until=row["voice_wrap_up_until"],
                    since=row["voice_status_changed_at"],
                ),
                voice_wrap_up_seconds=row["voice_wrap_up_seconds"],
                skills=held[row["user_id"]],
                group_ids=member[row["user_id"]],
                last_assigned_at=row["last_assigned_at"],
                created_at=row["created_at"],
                updated_at=row["updated_at"],
            )
            for row in rows
        ]

    async def insert(self, values: dict[str, Any]) -> None:
        await self.session.execute(insert(agents).values(**values))

    async def update(self, user_id: uuid.UUID, values: dict[str, Any]) -> None:
        await self.session.execute(update(agents).where(agents.c.user_id == user_id).values(**values))

    async def delete(self, user_id: uuid.UUID) -> None:
        await self.session.execute(delete(agents).where(agents.c.user_id == user_id))

    async def replace_skills(self, user_id: uuid.UUID, levels: dict[uuid.UUID, int]) -> None:
        await self.session.execute(delete(agent_skills).where(agent_skills.c.agent_id == user_id))
        if levels:
            await self.session.execute(
                insert(agent_skills),
                [{"agent_id": user_id, "skill_id": skill_id, "level": level} for skill_id, level in levels.items()],
            )

    async def replace_groups(self, user_id: uuid.UUID, group_ids: Sequence[uuid.UUID]) -> None:
        # Keep rows of queues the agent stays in, so round-robin keeps its place.
        keep = list(group_ids)
        await self.session.execute(
            delete(group_members).where(group_members.c.agent_id == user_id, group_members.c.group_id.not_in(keep))
        )
        if keep:
            existing = set(
                (
                    await self.session.execute(
                        select(group_members.c.group_id).where(group_members.c.agent_id == user_id)
                    )
                ).scalars()
            )
            new = [group_id for group_id in keep if group_id not in existing]
            if new:
                await self.session.execute(
                    insert(group_members), [{"group_id": group_id, "agent_id": user_id} for group_id in new]
                )
