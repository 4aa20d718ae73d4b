"""Every query on ``held_messages``, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, delete, select, tuple_
from sqlalchemy.dialects.postgresql import insert

from omnicase.case_core.held.models import held_messages as table
from omnicase.case_core.records import column_values
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class HeldMessageRow:
    id: uuid.UUID  # the intake id
    source: str
    channel: str
    reason: str
    detail: str
    sender: Mapping[str, Any]  # Party, as JSON
    subject: str | None
    message: Mapping[str, Any]  # the MessageReceived data, as a recovery hands it on
    received_at: datetime
    held_at: datetime
    expires_at: datetime
    status: str
    case_id: uuid.UUID | None = None
    case_number: int | None = None
    settled_by: str | None = None
    settled_at: datetime | None = None


def _record(row: RowMapping) -> HeldMessageRow:
    return HeldMessageRow(**row)


class HeldMessageRepository(Repository):
    async def insert_many(self, rows: list[HeldMessageRow]) -> list[HeldMessageRow]:
        """Keep the rows not kept before (by intake id); returns those inserted now."""
        if not rows:
            return []
        statement = insert(table).on_conflict_do_nothing(index_elements=[table.c.id]).returning(table)
        # As parameters: one cached statement (a multi-row .values() is compiled per call).
        values = [column_values(row) for row in rows]
        return [_record(row) for row in (await self.session.execute(statement, values)).mappings()]

    async def get(self, held_id: uuid.UUID, *, lock: bool = False) -> HeldMessageRow | None:
        statement = select(table).where(table.c.id == held_id)
        if lock:
            statement = statement.with_for_update()
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return _record(row) if row else None

    async def page(
        self,
        *,
        channel: str | None,
        reason: str | None,
        after: tuple[datetime, uuid.UUID] | None,
        limit: int,
    ) -> list[HeldMessageRow]:
        """Messages still held, the latest received first."""
        statement = (
            select(table)
            .where(table.c.status == "held")
            .order_by(table.c.received_at.desc(), table.c.id.desc())
            .limit(limit)
        )
        if channel is not None:
            statement = statement.where(table.c.channel == channel)
        if reason is not None:
            statement = statement.where(table.c.reason == reason)
        if after is not None:
            statement = statement.where(tuple_(table.c.received_at, table.c.id) < tuple_(*after))
        return [_record(row) for row in (await self.session.execute(statement)).mappings()]

    async def settle(
        self,
        held_id: uuid.UUID,
        *,
        status: str,
        settled_by: str,
        settled_at: datetime,
        case_id: uuid.UUID | None = None,
        case_number: int | None = None,
    ) -> HeldMessageRow:
        statement = (
            table.update()
            .where(table.c.id == held_id)
            .values(
                status=status, settled_by=settled_by, settled_at=settled_at, case_id=case_id, case_number=case_number
            )
            .returning(table)
        )
        return _record((await self.session.execute(statement)).mappings().one())

    async def delete_expired(self, now: datetime, limit: int) -> list[tuple[str, str]]:
        """Held messages past their time, removed (a batch); returns their (channel, reason)."""
        due = (
            select(table.c.id)
            .where(table.c.status == "held", table.c.expires_at <= now)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        statement = delete(table).where(table.c.id.in_(due)).returning(table.c.channel, table.c.reason)
        return [(channel, reason) for channel, reason in (await self.session.execute(statement)).all()]

    async def delete_settled_before(self, cutoff: datetime, limit: int) -> int:
        due = select(table.c.id).where(table.c.status != "held", table.c.settled_at < cutoff).limit(limit)
        result = await self.session.execute(delete(table).where(table.c.id.in_(due)).returning(table.c.id))
        return len(result.all())
