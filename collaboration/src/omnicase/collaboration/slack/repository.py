"""Every query on the Slack connection, the calls to make and what the events endpoint has seen."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.dialects.postgresql import insert

from omnicase.collaboration.models import slack_calls, slack_connections, slack_seen, slack_users
from omnicase.kit.repository import Repository

CONNECTION = "default"


@dataclass(frozen=True)
class ConnectionRecord:
    id: str
    team_id: str
    channel_id: str
    api_url: str
    bot_token: str
    signing_secret: str
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class CallRecord:
    id: uuid.UUID
    swarm_id: uuid.UUID
    method: str
    payload: dict[str, Any]
    attempts: int


@dataclass(frozen=True)
class SlackUserRecord:
    slack_user_id: str
    user_id: uuid.UUID
    name: str | None
    mapped_at: datetime


class SlackRepository(Repository):
    async def connection(self) -> ConnectionRecord | None:
        query = select(slack_connections).where(slack_connections.c.id == CONNECTION)
        row = (await self.session.execute(query)).one_or_none()
        return ConnectionRecord(**row._mapping) if row else None

    async def put_connection(self, values: dict[str, Any]) -> ConnectionRecord:
        statement = insert(slack_connections).values(id=CONNECTION, **values)
        changed = {key: statement.excluded[key] for key in values if key != "created_at"}
        row = (
            await self.session.execute(
                statement.on_conflict_do_update(index_elements=[slack_connections.c.id], set_=changed).returning(
                    *slack_connections.c
                )
            )
        ).one()
        return ConnectionRecord(**row._mapping)

    async def delete_connection(self) -> bool:
        result = await self.session.execute(delete(slack_connections).where(slack_connections.c.id == CONNECTION))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def add_call(self, values: dict[str, Any]) -> None:
        await self.session.execute(slack_calls.insert().values(**values))

    async def claim_due(self, now: datetime, limit: int) -> list[CallRecord]:
        query = (
            select(
                slack_calls.c.id,
                slack_calls.c.swarm_id,
                slack_calls.c.method,
                slack_calls.c.payload,
                slack_calls.c.attempts,
            )
            .where(slack_calls.c.due_at <= now)
            .order_by(slack_calls.c.due_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        return [CallRecord(**row._mapping) for row in (await self.session.execute(query)).all()]

    async def settle(self, call_id: uuid.UUID, values: dict[str, Any]) -> None:
        await self.session.execute(update(slack_calls).where(slack_calls.c.id == call_id).values(**values))

    async def first_sight(self, key: str, now: datetime) -> bool:
        """Whether ``key`` is new (now remembered); False when it was seen already."""
        statement = insert(slack_seen).values(key=key, seen_at=now).on_conflict_do_nothing().returning(slack_seen.c.key)
        return (await self.session.scalar(statement)) is not None

    async def forget_seen_before(self, moment: datetime) -> None:
        await self.session.execute(delete(slack_seen).where(slack_seen.c.seen_at < moment))

    async def map_user(self, slack_user_id: str, user_id: uuid.UUID, name: str | None, at: datetime) -> SlackUserRecord:
        """The Slack user is this agent (the newest mapping wins: an address moved to another agent moves it)."""
        statement = insert(slack_users).values(slack_user_id=slack_user_id, user_id=user_id, name=name, mapped_at=at)
        upsert = statement.on_conflict_do_update(
            index_elements=[slack_users.c.slack_user_id],
            set_={"user_id": statement.excluded.user_id, "name": statement.excluded.name, "mapped_at": at},
        )
        row = (await self.session.execute(upsert.returning(*slack_users.c))).one()
        return SlackUserRecord(**row._mapping)

    async def slack_users(self, after: str | None, limit: int) -> list[SlackUserRecord]:
        query = select(slack_users).order_by(slack_users.c.slack_user_id).limit(limit + 1)
        if after is not None:
            query = query.where(slack_users.c.slack_user_id > after)
        return [SlackUserRecord(**row._mapping) for row in (await self.session.execute(query)).all()]

    async def unmap_user(self, slack_user_id: str) -> bool:
        result = await self.session.execute(delete(slack_users).where(slack_users.c.slack_user_id == slack_user_id))
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def slack_user(self, slack_user_id: str) -> SlackUserRecord | None:
        row = (
            await self.session.execute(select(slack_users).where(slack_users.c.slack_user_id == slack_user_id))
        ).one_or_none()
        return SlackUserRecord(**row._mapping) if row else None
