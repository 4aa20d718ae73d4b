"""Every query on swarms, their members and messages."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from omnicase.collaboration.models import swarm_members, swarm_message_attachments, swarm_messages, swarms
from omnicase.collaboration.swarms.schemas import SwarmAttachment, SwarmMember, SwarmMessage
from omnicase.kit.events import AttachmentRef
from omnicase.kit.pagination import Page
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class SwarmRecord:
    id: uuid.UUID
    case_id: uuid.UUID
    started_by: str
    question: str
    urgency: str
    status: str
    outcome: str | None
    started_at: datetime
    ended_at: datetime | None
    ended_by: str | None
    slack_channel: str | None
    slack_thread_ts: str | None
    draft_article_id: uuid.UUID | None


def _swarm(row: Any) -> SwarmRecord:
    return SwarmRecord(**row._mapping)


def _member(row: Any) -> SwarmMember:
    kind, _, member_id = row.member.partition(":")
    return SwarmMember(
        kind="agent" if kind == "user" else "group",
        id=uuid.UUID(member_id),
        added_by=row.added_by,
        joined_at=row.joined_at,
    )


def _message(row: Any) -> SwarmMessage:
    return SwarmMessage.model_validate(dict(row._mapping))


def attachment_url(swarm_id: uuid.UUID, sha256: str) -> str:
    return f"/api/v1/swarms/{swarm_id}/attachments/{sha256}"


def _attachment(row: Any) -> SwarmAttachment:
    return SwarmAttachment(
        sha256=row.sha256,
        filename=row.filename,
        content_type=row.content_type,
        size=row.size,
        url=attachment_url(row.swarm_id, row.sha256),
    )


class SwarmRepository(Repository):
    async def insert(self, values: dict[str, Any]) -> SwarmRecord:
        row = (await self.session.execute(swarms.insert().values(**values).returning(*swarms.c))).one()
        return _swarm(row)

    async def get(self, swarm_id: uuid.UUID, *, lock: bool = False) -> SwarmRecord | None:
        query = select(swarms).where(swarms.c.id == swarm_id)
        if lock:
            query = query.with_for_update()
        row = (await self.session.execute(query)).one_or_none()
        return _swarm(row) if row else None

    async def in_slack_thread(self, channel: str, thread_ts: str) -> SwarmRecord | None:
        query = select(swarms).where(swarms.c.slack_channel == channel, swarms.c.slack_thread_ts == thread_ts)
        row = (await self.session.execute(query)).first()
        return _swarm(row) if row else None

    async def set_slack_thread(self, swarm_id: uuid.UUID, channel: str, thread_ts: str) -> None:
        await self.session.execute(
            update(swarms).where(swarms.c.id == swarm_id).values(slack_channel=channel, slack_thread_ts=thread_ts)
        )

    async def page_of_case(self, case_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> list[SwarmRecord]:
        query = select(swarms).where(swarms.c.case_id == case_id).order_by(swarms.c.id).limit(limit + 1)
        if after is not None:
            query = query.where(swarms.c.id > after)
        return [_swarm(row) for row in (await self.session.execute(query)).all()]

    async def end(self, swarm_id: uuid.UUID, values: dict[str, Any]) -> SwarmRecord:
        row = (
            await self.session.execute(
                update(swarms).where(swarms.c.id == swarm_id).values(**values).returning(*swarms.c)
            )
        ).one()
        return _swarm(row)

    async def add_members(self, swarm_id: uuid.UUID, members: list[str], added_by: str, at: datetime) -> list[str]:
        """The members that were not in the swarm yet (now added), in the order given."""
        if not members:
            return []
        rows = [{"swarm_id": swarm_id, "member": member, "added_by": added_by, "joined_at": at} for member in members]
        statement = insert(swarm_members).values(rows).on_conflict_do_nothing().returning(swarm_members.c.member)
        added = set((await self.session.scalars(statement)).all())
        return [member for member in members if member in added]

    async def members(self, swarm_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[SwarmMember]]:
        found: dict[uuid.UUID, list[SwarmMember]] = {swarm_id: [] for swarm_id in swarm_ids}
        query = (
            select(swarm_members)
            .where(swarm_members.c.swarm_id.in_(swarm_ids))
            .order_by(swarm_members.c.joined_at, swarm_members.c.member)
        )
        for row in (await self.session.execute(query)).all():
            found[row.swarm_id].append(_member(row))
        return found

    async def member_names(self, swarm_id: uuid.UUID) -> list[str]:
        query = (
            select(swarm_members.c.member).where(swarm_members.c.swarm_id == swarm_id).order_by(swarm_members.c.member)
        )
        return list((await self.session.scalars(query)).all())

    async def add_message(self, values: dict[str, Any]) -> SwarmMessage:
        row = (await self.session.execute(swarm_messages.insert().values(**values).returning(*swarm_messages.c))).one()
        return _message(row)

    async def message(self, swarm_id: uuid.UUID, message_id: uuid.UUID) -> SwarmMessage | None:
        query = select(swarm_messages).where(swarm_messages.c.swarm_id == swarm_id, swarm_messages.c.id == message_id)
        row = (await self.session.execute(query.with_for_update())).one_or_none()
        return _message(row) if row else None

    async def mark_promoted(self, message_id: uuid.UUID, by: str, at: datetime) -> SwarmMessage:
        statement = (
            update(swarm_messages)
            .where(swarm_messages.c.id == message_id)
            .values(promoted_at=at, promoted_by=by)
            .returning(*swarm_messages.c)
        )
        return _message((await self.session.execute(statement)).one())

    async def promoted_texts(self, swarm_id: uuid.UUID) -> list[str]:
        query = (
            select(swarm_messages.c.text)
            .where(swarm_messages.c.swarm_id == swarm_id, swarm_messages.c.promoted_at.is_not(None))
            .order_by(swarm_messages.c.id)
        )
        return list((await self.session.scalars(query)).all())

    async def messages_from(self, swarm_id: uuid.UUID, source: str) -> list[SwarmMessage]:
        """The swarm's messages from ``source`` (``omnicase``, ``slack``), oldest first."""
        query = (
            select(swarm_messages)
            .where(swarm_messages.c.swarm_id == swarm_id, swarm_messages.c.source == source)
            .order_by(swarm_messages.c.id)
        )
        return [_message(row) for row in (await self.session.execute(query)).all()]

    async def messages(self, swarm_id: uuid.UUID, after: uuid.UUID | None, limit: int) -> Page[SwarmMessage]:
        query = select(swarm_messages).where(swarm_messages.c.swarm_id == swarm_id).order_by(swarm_messages.c.id)
        if after is not None:
            query = query.where(swarm_messages.c.id > after)
        return await self.paginate(Page[SwarmMessage], query, limit, key=lambda row: [row.id], item=_message)

    async def add_attachments(self, swarm_id: uuid.UUID, message_id: uuid.UUID, refs: list[AttachmentRef]) -> None:
        if refs:
            await self.session.execute(
                swarm_message_attachments.insert(),
                [
                    {
                        "message_id": message_id,
                        "position": position,
                        "swarm_id": swarm_id,
                        "sha256": ref.sha256,
                        "filename": ref.filename[:255] or "attachment",
                        "content_type": ref.content_type[:255],
                        "size": ref.size,
                    }
                    for position, ref in enumerate(refs)
                ],
            )

    async def attachments_of(self, message_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[SwarmAttachment]]:
        found: dict[uuid.UUID, list[SwarmAttachment]] = {message_id: [] for message_id in message_ids}
        if message_ids:
            query = (
                select(swarm_message_attachments)
                .where(swarm_message_attachments.c.message_id.in_(message_ids))
                .order_by(swarm_message_attachments.c.message_id, swarm_message_attachments.c.position)
            )
            for row in (await self.session.execute(query)).all():
                found[row.message_id].append(_attachment(row))
        return found

    async def attachment(self, swarm_id: uuid.UUID, sha256: str) -> SwarmAttachment | None:
        query = select(swarm_message_attachments).where(
            swarm_message_attachments.c.swarm_id == swarm_id, swarm_message_attachments.c.sha256 == sha256
        )
        row = (await self.session.execute(query.limit(1))).first()
        return _attachment(row) if row else None
