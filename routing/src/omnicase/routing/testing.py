"""Helpers routing's tests share (test files cannot import each other): case snapshots
as case-core sends them, and a seeder that builds skills, queues, agents and rules
through the same services the API uses."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.kit.clock import utcnow
from omnicase.kit.events import CaseSnapshot, CaseStatus, Channel, Envelope, Priority
from omnicase.kit.identity import IDENTITY_HEADER, Role, sign_identity
from omnicase.kit.outbox import Outbox
from omnicase.kit.staging import flush_staged
from omnicase.kit.topics import Topic
from omnicase.routing.agents.schemas import AgentCreate, PresenceUpdate, SkillLevel, VoiceStatusUpdate
from omnicase.routing.agents.service import AgentService
from omnicase.routing.engine import Presence, RoutingModel, RuleConditions
from omnicase.routing.models import outbox as outbox_table
from omnicase.routing.rules.schemas import RequiredSkill, RuleCreate
from omnicase.routing.rules.service import RuleService
from omnicase.routing.settings import RoutingSettings
from omnicase.routing.work.service import RoutingService

DOMAIN_TABLES = (
    "timers",
    "decisions",
    "offers",
    "cases",
    "rule_skills",
    "rules",
    "group_members",
    "agent_skills",
    "agents",
    "groups",
    "skills",
    "outbox",
    "inbox",
)


def snapshot(
    *,
    case_id: uuid.UUID | None = None,
    version: int = 1,
    status: CaseStatus = CaseStatus.NEW,
    priority: Priority = Priority.NORMAL,
    channel: Channel = Channel.EMAIL,
    subject: str = "Where is my refund?",
    brand: str | None = None,
    group_id: uuid.UUID | None = None,
    assignee_id: uuid.UUID | None = None,
    tags: Sequence[str] = (),
    language: str | None = None,
    custom_fields: dict[str, Any] | None = None,
    created_at: datetime | None = None,
) -> CaseSnapshot:
    now = utcnow()
    return CaseSnapshot(
        case_id=case_id or uuid.uuid4(),
        number=1,
        subject=subject,
        status=status,
        priority=priority,
        channel=channel,
        group_id=group_id,
        assignee_id=assignee_id,
        brand=brand,
        tags=list(tags),
        language=language,
        custom_fields=custom_fields or {},
        created_at=created_at or now,
        updated_at=now,
        version=version,
    )


class Seeder:
    """Builds routing's configuration inside ``session`` (flushes, never commits)."""

    def __init__(self, session: AsyncSession, settings: RoutingSettings | None = None) -> None:
        self.session = session
        self.settings = settings or RoutingSettings()
        self.routing = RoutingService(session, Outbox(outbox_table), self.settings)

    async def skill(self, name: str | None = None) -> uuid.UUID:
        skill_id = uuid.uuid4()
        now = utcnow()
        await self.session.execute(
            text(
                "INSERT INTO routing.skills (id, name, description, created_at, updated_at) "
                "VALUES (:id, :name, '', :now, :now)"
            ),
            {"id": skill_id, "name": name or f"skill-{skill_id.hex[:8]}", "now": now},
        )
        return skill_id

    async def group(
        self,
        *,
        model: RoutingModel = RoutingModel.BEST_AVAILABLE,
        offer_timeout: int | None = None,
        overflow_after: int | None = None,
        overflow_to: uuid.UUID | None = None,
    ) -> uuid.UUID:
        group_id = uuid.uuid4()
        now = utcnow()
        await self.session.execute(
            text(
                "INSERT INTO routing.groups (id, name, description, routing_model, offer_timeout_seconds, "
                "overflow_after_seconds, overflow_group_id, created_at, updated_at) "
                "VALUES (:id, :name, '', :model, :timeout, :overflow, :to, :now, :now)"
            ),
            {
                "id": group_id,
                "name": f"queue-{group_id.hex[:8]}",
                "model": model.value,
                "timeout": offer_timeout,
                "overflow": overflow_after,
                "to": overflow_to,
                "now": now,
            },
        )
        return group_id

    async def agent(
        self,
        *groups: uuid.UUID,
        skills: dict[uuid.UUID, int] | None = None,
        capacity: int = 10,
        languages: Sequence[str] = (),
        online: bool = True,
        takes_calls: bool = False,
    ) -> uuid.UUID:
        agents = AgentService(self.routing)
        created = await agents.create(
            AgentCreate(
                user_id=uuid.uuid4(),
                name="Agent",
                capacity=capacity,
                languages=list(languages),
                skills=[SkillLevel(skill_id=skill_id, level=level) for skill_id, level in (skills or {}).items()],
                group_ids=list(groups),
            )
        )
        if online:
            await agents.set_presence(created.user_id, PresenceUpdate(status=Presence.ONLINE))
        if takes_calls:
            await agents.set_voice_status(created.user_id, VoiceStatusUpdate(status="available"))
        return created.user_id

    async def presence(self, agent_id: uuid.UUID, status: Presence) -> None:
        await AgentService(self.routing).set_presence(agent_id, PresenceUpdate(status=status))

    async def rule(
        self,
        target: uuid.UUID,
        conditions: RuleConditions,
        *,
        skills: dict[uuid.UUID, int] | None = None,
        require_language: bool = False,
        position: int | None = None,
    ) -> uuid.UUID:
        created = await RuleService(self.session).create(
            RuleCreate(
                name="rule",
                position=position,
                conditions=conditions,
                target_group_id=target,
                required_skills=[RequiredSkill(skill_id=s, min_level=level) for s, level in (skills or {}).items()],
                require_language=require_language,
            )
        )
        return created.id


ROLE_SCOPES = {
    "admin": frozenset({"routing:read", "routing:write", "routing:presence"}),
    "agent": frozenset({"routing:read", "routing:presence"}),
    "end_user": frozenset({"cases:read", "cases:write"}),
}


def identity_headers(
    settings: RoutingSettings,
    *,
    role: Role = "admin",
    subject: uuid.UUID | None = None,
    scopes: frozenset[str] | None = None,
) -> dict[str, str]:
    """The identity header the gateway would forward for this caller."""
    token = sign_identity(
        subject=str(subject or uuid.uuid4()),
        role=role,
        scopes=ROLE_SCOPES.get(role, frozenset()) if scopes is None else scopes,
        agent_id=subject if role == "agent" else None,
        secret=settings.internal_secret,
        now=utcnow(),
        ttl_seconds=3600,
    )
    return {IDENTITY_HEADER: token}


async def commands_for(session: AsyncSession, case_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    """The ``case.commands`` routing staged for a case, in order: (event type, data)."""
    return [(envelope.type, envelope.data) for envelope in await staged_for(session, case_id, Topic.CASE_COMMANDS)]


async def offer_events_for(session: AsyncSession, case_id: uuid.UUID) -> list[tuple[str, dict[str, Any]]]:
    """The ``routing.events`` routing staged for a case, in order: (event type, data)."""
    return [(envelope.type, envelope.data) for envelope in await staged_for(session, case_id, Topic.ROUTING_EVENTS)]


async def staged_for(session: AsyncSession, case_id: uuid.UUID, topic: Topic) -> list[Envelope]:
    """The envelopes routing staged on ``topic`` keyed by a case, in order."""
    await flush_staged(session)
    rows = await session.execute(
        select(outbox_table.c.payload)
        .where(outbox_table.c.key == str(case_id), outbox_table.c.topic == topic.value)
        .order_by(outbox_table.c.id)
    )
    return [Envelope.from_bytes(row.payload) for row in rows]


async def truncate_routing(session: AsyncSession) -> None:
    """Empty routing's tables (tests that really commit clean up after themselves)."""
    tables = ", ".join(f"routing.{name}" for name in DOMAIN_TABLES)
    await session.execute(text(f"TRUNCATE {tables}"))
