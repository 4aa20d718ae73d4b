"""Agent administration, and the routing each change sets off (presence, capacity, queues)."""

from __future__ import annotations

import uuid
from typing import Any

from omnicase.kit.clock import utcnow
from omnicase.kit.errors import NOT_FOUND_CODE, FieldError, refusal
from omnicase.kit.events import Channel
from omnicase.routing.agents.repository import AgentRepository
from omnicase.routing.agents.schemas import (
    Agent,
    AgentCreate,
    AgentLoad,
    AgentUpdate,
    HeldWork,
    PresenceUpdate,
    SkillLevel,
    VoiceStatusUpdate,
)
from omnicase.routing.engine import Presence, VoiceStatus
from omnicase.routing.errors import AgentExists, AgentNotFound, StillInUse
from omnicase.routing.groups.repository import GroupRepository
from omnicase.routing.skills.repository import SkillRepository
from omnicase.routing.voice.service import VoiceStatusService
from omnicase.routing.work.service import RoutingService


class AgentService:
    def __init__(self, routing: RoutingService) -> None:
        self.routing = routing
        self.repo = AgentRepository(routing.session)
        self.skills = SkillRepository(routing.session)
        self.groups = GroupRepository(routing.session)

    async def get(self, user_id: uuid.UUID, *, lock: bool = False) -> Agent:
        agent = await self.repo.get(user_id, lock=lock)
        if agent is None:
            raise AgentNotFound(f"Agent {user_id} does not exist.")
        return agent

    async def page(
        self,
        after: uuid.UUID | None,
        limit: int,
        *,
        presence: Presence | None,
        voice: VoiceStatus | None = None,
        group_id: uuid.UUID | None,
        skill_id: uuid.UUID | None,
    ) -> list[Agent]:
        return await self.repo.page(
            after,
            limit,
            presence=presence.value if presence else None,
            voice=voice.value if voice else None,
            group_id=group_id,
            skill_id=skill_id,
        )

    async def load(self, user_id: uuid.UUID) -> AgentLoad:
        """The agent's capacity in use and the cases holding it (offers first)."""
        agent = await self.get(user_id)
        held = await self.routing.repo.held_by(user_id)
        return AgentLoad(
            user_id=agent.user_id,
            presence=agent.presence.status,
            capacity=agent.capacity,
            used_capacity=agent.used_capacity,
            free_capacity=agent.free_capacity,
            active_cases=agent.active_cases,
            work=[
                HeldWork(
                    case_id=case.case_id,
                    number=case.number,
                    subject=case.subject,
                    channel=Channel(case.channel),
                    state=case.state,
                    cost=case.holder_cost,
                    since=case.holder_since,
                )
                for case in held
            ],
        )

    async def _check_references(self, skills: list[SkillLevel] | None, group_ids: list[uuid.UUID] | None) -> None:
        """Every skill and queue named must exist, once each; all problems reported together."""
        errors: list[FieldError] = []
        if skills is not None:
            ids = [item.skill_id for item in skills]
            known = await self.skills.existing(ids)
            seen: set[uuid.UUID] = set()
            for index, skill_id in enumerate(ids):
                if skill_id in seen:
                    errors.append(
                        FieldError(field=f"body.skills.{index}.skill_id", message="listed twice", code="duplicate")
                    )
                elif skill_id not in known:
                    errors.append(
                        FieldError(field=f"body.skills.{index}.skill_id", message="no such skill", code=NOT_FOUND_CODE)
                    )
                seen.add(skill_id)
        if group_ids is not None:
            known_groups = await self.groups.existing(group_ids)
            for index, group_id in enumerate(group_ids):
                if group_id not in known_groups:
                    errors.append(
                        FieldError(field=f"body.group_ids.{index}", message="no such group", code=NOT_FOUND_CODE)
                    )
            if len(set(group_ids)) != len(group_ids):
                errors.append(FieldError(field="body.group_ids", message="a group is listed twice", code="duplicate"))
        if errors:
            raise refusal("The agent refers to skills or groups that are not valid.", errors)

    async def create(self, payload: AgentCreate) -> Agent:
        if await self.repo.exists(payload.user_id):
            raise AgentExists(f"Agent {payload.user_id} exists already.")
        await self._check_references(payload.skills, payload.group_ids)
        now = utcnow()
        await self.repo.insert(
            {
                "user_id": payload.user_id,
                "name": payload.name,
                "email": payload.email,
                "languages": list(dict.fromkeys(payload.languages)),
                "capacity": payload.capacity,
                "voice_wrap_up_seconds": payload.voice_wrap_up_seconds,
                "presence": Presence.OFFLINE.value,
                "presence_changed_at": now,
                "created_at": now,
                "updated_at": now,
            }
        )
        await self.repo.replace_skills(payload.user_id, {item.skill_id: item.level for item in payload.skills})
        await self.repo.replace_groups(payload.user_id, payload.group_ids)
        return await self.get(payload.user_id)

    async def update(self, user_id: uuid.UUID, payload: AgentUpdate) -> Agent:
        # The row lock orders this change with concurrent reservations of the agent.
        await self.get(user_id, lock=True)
        changes = payload.model_dump(exclude_unset=True)
        await self._check_references(payload.skills, payload.group_ids)
        values: dict[str, Any] = {
            key: changes[key] for key in ("name", "email", "capacity", "voice_wrap_up_seconds") if key in changes
        }
        if payload.languages is not None:
            values["languages"] = list(dict.fromkeys(payload.languages))
        if values:
            await self.repo.update(user_id, {**values, "updated_at": utcnow()})
        if payload.skills is not None:
            await self.repo.replace_skills(user_id, {item.skill_id: item.level for item in payload.skills})
        if payload.group_ids is not None:
            await self.repo.replace_groups(user_id, payload.group_ids)
        # More room, new skills or new queues may fit work that is waiting now.
        if changes.keys() & {"capacity", "skills", "languages", "group_ids"}:
            await self.routing.push_to_agent(user_id, "agent's capacity, skills or queues changed")
        return await self.get(user_id)

    async def set_presence(self, user_id: uuid.UUID, payload: PresenceUpdate) -> Agent:
        current = await self.get(user_id)
        before = current.presence.status
        if payload.status is Presence.OFFLINE:
            # Case rows first, agent row after: the order routing takes locks in everywhere.
            await self.routing.lock_cases_offered_to(user_id)
        if before is not payload.status or current.presence.reason != payload.reason:
            now = utcnow()
            await self.repo.update(
                user_id,
                {
                    "presence": payload.status.value,
                    "presence_reason": payload.reason,
                    "presence_changed_at": now if before is not payload.status else current.presence.since,
                    "updated_at": now,
                },
            )
        await self.routing.presence_changed(user_id, before, payload.status)
        return await self.get(user_id)

    async def set_voice_status(self, user_id: uuid.UUID, payload: VoiceStatusUpdate) -> Agent:
        await VoiceStatusService(self.routing).set_by_person(user_id, VoiceStatus(payload.status), payload.reason)
        return await self.get(user_id)

    async def delete(self, user_id: uuid.UUID) -> None:
        agent = await self.get(user_id, lock=True)
        if agent.active_cases > 0:
            raise StillInUse(
                f"Agent {user_id} still holds {agent.active_cases} case(s); reassign them or let them finish first.",
                extra={"active_cases": agent.active_cases},
            )
        await self.repo.delete(user_id)
