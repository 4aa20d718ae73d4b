"""Every query about outbound messages."""

from __future__ import annotations

import uuid
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Row, func, select, update
from sqlalchemy.dialects.postgresql import insert

from omnicase.intake_email.models import outbound_messages
from omnicase.kit.repository import Repository

AnyRow = Row[*tuple[Any, ...]]


class OutboundRepository(Repository):
    async def insert(self, values: dict[str, Any]) -> bool:
        """Queue one message; False when it is queued already (a redelivered request)."""
        stored = await self.session.scalar(
            insert(outbound_messages)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["id"])
            .returning(outbound_messages.c.id)
        )
        return stored is not None

    async def get(self, outbound_id: uuid.UUID) -> AnyRow | None:
        row: AnyRow | None = (
            await self.session.execute(select(outbound_messages).where(outbound_messages.c.id == outbound_id))
        ).first()
        return row

    async def claim_due(self, now: datetime, lease: timedelta, limit: int) -> list[AnyRow]:
        """Due pending messages, leased to this sender (pushed ``lease`` ahead) so no other sends them meanwhile."""
        due = (
            select(outbound_messages.c.id)
            .where(outbound_messages.c.status == "pending", outbound_messages.c.next_attempt_at <= now)
            .order_by(outbound_messages.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        rows = (
            await self.session.execute(
                update(outbound_messages)
                .where(outbound_messages.c.id.in_(due))
                .values(next_attempt_at=now + lease, attempts=outbound_messages.c.attempts + 1)
                .returning(outbound_messages)
            )
        ).all()
        return list(rows)

    async def mark_sent(self, outbound_id: uuid.UUID, now: datetime) -> None:
        await self.session.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id == outbound_id)
            .values(status="sent", sent_at=now, last_error=None)
        )

    async def mark_retry(self, outbound_id: uuid.UUID, at: datetime, error: str) -> None:
        await self.session.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id == outbound_id)
            .values(next_attempt_at=at, last_error=error[:2000])
        )

    async def mark_failed(self, outbound_id: uuid.UUID, error: str) -> None:
        await self.session.execute(
            update(outbound_messages)
            .where(outbound_messages.c.id == outbound_id)
            .values(status="failed", last_error=error[:2000])
        )

    async def auto_responded_recently(self, recipient: str, since: datetime) -> bool:
        count = await self.session.scalar(
            select(func.count()).where(
                outbound_messages.c.kind == "auto_response",
                outbound_messages.c.primary_recipient == recipient,
                outbound_messages.c.created_at >= since,
            )
        )
        return bool(count)

    async def page_for_case(self, case_id: uuid.UUID, *, after: uuid.UUID | None, limit: int) -> list[AnyRow]:
        """A case's outbound messages by id (UUIDv7: queuing order), without their bytes."""
        columns = [column for column in outbound_messages.c if column.name != "raw"]
        query = (
            select(*columns).where(outbound_messages.c.case_id == case_id).order_by(outbound_messages.c.id).limit(limit)
        )
        if after is not None:
            query = query.where(outbound_messages.c.id > after)
        return list((await self.session.execute(query)).all())
