"""Every query on the widget's conversations and their entries."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.dialects.postgresql import insert

from omnicase.intake_web.models import widget_conversations as conversations
from omnicase.intake_web.models import widget_entries as entries
from omnicase.kit.repository import Repository

VISITOR = "visitor"
AGENT = "agent"


@dataclass(frozen=True)
class Entry:
    seq: int
    direction: str
    text: str
    author: str | None
    client_id: str | None
    created_at: datetime


_ENTRY_COLUMNS = (
    entries.c.seq,
    entries.c.direction,
    entries.c.text,
    entries.c.author,
    entries.c.client_id,
    entries.c.created_at,
)


class WidgetRepository(Repository):
    async def lock_conversation(self, conversation_id: uuid.UUID, channel_id: uuid.UUID, now: datetime) -> int:
        """The conversation's last entry number, its row created if new and locked until commit
        (entries of one conversation are numbered, and so committed, in order)."""
        statement = (
            insert(conversations)
            .values(id=conversation_id, channel_id=channel_id, last_seq=0, created_at=now, updated_at=now)
            .on_conflict_do_update(index_elements=[conversations.c.id], set_={"updated_at": now})
            .returning(conversations.c.last_seq)
        )
        return int((await self.session.execute(statement)).scalar_one())

    async def next_seq(self, conversation_id: uuid.UUID, now: datetime) -> int | None:
        """The number of a new entry, the conversation locked until commit; None if it has no row."""
        statement = (
            update(conversations)
            .where(conversations.c.id == conversation_id)
            .values(last_seq=conversations.c.last_seq + 1, updated_at=now)
            .returning(conversations.c.last_seq)
        )
        found = (await self.session.execute(statement)).scalar_one_or_none()
        return None if found is None else int(found)

    async def by_client_id(self, conversation_id: uuid.UUID, client_id: str) -> Entry | None:
        row = (
            await self.session.execute(
                select(*_ENTRY_COLUMNS).where(
                    entries.c.conversation_id == conversation_id, entries.c.client_id == client_id
                )
            )
        ).one_or_none()
        return None if row is None else Entry(*row)

    async def add(
        self,
        conversation_id: uuid.UUID,
        entry: Entry,
        *,
        intake_id: uuid.UUID | None = None,
        outbound_id: uuid.UUID | None = None,
    ) -> bool:
        """Store an entry; False when its reply (``outbound_id``) was stored before."""
        statement = (
            insert(entries)
            .values(
                conversation_id=conversation_id,
                seq=entry.seq,
                direction=entry.direction,
                text=entry.text,
                author=entry.author,
                client_id=entry.client_id,
                intake_id=intake_id,
                outbound_id=outbound_id,
                created_at=entry.created_at,
            )
            .on_conflict_do_nothing(index_elements=[entries.c.outbound_id])
            .returning(entries.c.seq)
        )
        return (await self.session.execute(statement)).one_or_none() is not None

    async def after(self, conversation_id: uuid.UUID, seq: int, limit: int) -> list[Entry]:
        """Entries after ``seq``, oldest first."""
        rows = await self.session.execute(
            select(*_ENTRY_COLUMNS)
            .where(entries.c.conversation_id == conversation_id, entries.c.seq > seq)
            .order_by(entries.c.seq)
            .limit(limit)
        )
        return [Entry(*row) for row in rows]
