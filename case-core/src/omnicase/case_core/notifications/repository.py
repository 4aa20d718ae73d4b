"""Every query about staff notifications and the auto-response template."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.models import cases
from omnicase.case_core.notifications.models import notifications as table

Row = dict[str, Any]


class NotificationRepository:
    async def insert(self, session: AsyncSession, values: Row) -> Row:
        return dict((await session.execute(table.insert().values(**values).returning(table))).mappings().one())

    async def get(self, session: AsyncSession, notification_id: uuid.UUID, *, lock: bool = False) -> Row | None:
        statement = select(table).where(table.c.id == notification_id)
        if lock:
            statement = statement.with_for_update()
        row = (await session.execute(statement)).mappings().one_or_none()
        return dict(row) if row else None

    async def update(self, session: AsyncSession, notification_id: uuid.UUID, values: Row) -> None:
        await session.execute(table.update().where(table.c.id == notification_id).values(**values))

    async def claim_due(self, session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int) -> list[Row]:
        """Due pending notifications, leased until ``lease_until`` (SKIP LOCKED: replicas share them)."""
        due = (
            select(table.c.id)
            .where(table.c.status == "pending", table.c.next_attempt_at <= now)
            .order_by(table.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = (await session.scalars(due)).all()
        if not ids:
            return []
        statement = table.update().where(table.c.id.in_(ids)).values(next_attempt_at=lease_until).returning(table)
        rows = [dict(row) for row in (await session.execute(statement)).mappings()]
        return sorted(rows, key=lambda row: row["created_at"])

    async def of_case(
        self, session: AsyncSession, case_id: uuid.UUID, *, after: uuid.UUID | None, limit: int
    ) -> list[Row]:
        statement = select(table).where(table.c.case_id == case_id).order_by(table.c.id).limit(limit)
        if after is not None:
            statement = statement.where(table.c.id > after)
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    async def of_subscription(self, session: AsyncSession, subscription_id: uuid.UUID) -> list[Row]:
        statement = select(table).where(table.c.subscription_id == subscription_id).order_by(table.c.id)
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    async def case_ref_token(self, session: AsyncSession, case_id: uuid.UUID) -> str | None:
        """The case's hidden reference token (what threads an answer to the notification into the case)."""
        token: str | None = await session.scalar(select(cases.c.ref_token).where(cases.c.id == case_id))
        return token

    async def fail_unreported(
        self, session: AsyncSession, *, requested_before: datetime, reason: str, now: datetime
    ) -> int:
        """Mark ``failed`` every notification ``requested`` before ``requested_before``; how many."""
        result = await session.execute(
            table.update()
            .where(table.c.status == "requested", table.c.updated_at < requested_before)
            .values(status="failed", last_error=reason, updated_at=now)
            .returning(table.c.id)
        )
        return len(result.all())

    async def prune(self, session: AsyncSession, *, created_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` settled notifications created before ``created_before``; how many."""
        old = (
            select(table.c.id)
            .where(table.c.status.in_(("sent", "failed")), table.c.created_at < created_before)
            .limit(limit)
            .scalar_subquery()
        )
        result = await session.execute(table.delete().where(table.c.id.in_(old)).returning(table.c.id))
        return len(result.all())
