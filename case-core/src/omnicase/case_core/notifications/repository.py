"""Every query about staff notifications, answering typed records."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import RowMapping, select

from omnicase.case_core.models import cases
from omnicase.case_core.notifications.models import notifications as table
from omnicase.case_core.records import column_values
from omnicase.kit.repository import Repository


@dataclass(frozen=True)
class NotificationRow:
    id: uuid.UUID
    reason: str
    case_id: uuid.UUID | None
    trigger_id: uuid.UUID | None
    subscription_id: uuid.UUID | None
    recipient_kind: str  # agent (recipient_id), group (recipient_id: its members), email (recipient_email)
    recipient_id: uuid.UUID | None
    recipient_email: str | None
    subject: str
    text: str
    html: str | None
    brand: str | None
    status: str
    next_attempt_at: datetime | None
    last_error: str | None
    created_at: datetime
    updated_at: datetime
    recipients: tuple[str, ...] = ()  # the addresses it was sent to, once resolved
    attempts: int = 0


def _record(row: RowMapping) -> NotificationRow:
    return NotificationRow(**{**row, "recipients": tuple(row["recipients"])})


class NotificationRepository(Repository):
    async def insert(self, notification: NotificationRow) -> NotificationRow:
        values = column_values(notification)
        statement = table.insert().values(**values).returning(table)
        return _record((await self.session.execute(statement)).mappings().one())

    async def get(self, notification_id: uuid.UUID, *, lock: bool = False) -> NotificationRow | None:
        statement = select(table).where(table.c.id == notification_id)
        if lock:
            statement = statement.with_for_update()
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return _record(row) if row else None

    async def update(self, notification_id: uuid.UUID, changes: Mapping[str, Any]) -> None:
        """``changes``: column name to new value."""
        await self.session.execute(table.update().where(table.c.id == notification_id).values(**changes))

    async def claim_due(self, *, now: datetime, lease_until: datetime, limit: int) -> list[NotificationRow]:
        """Due pending notifications, leased until ``lease_until`` (SKIP LOCKED: replicas share them)."""
        due = (
            select(table.c.id)
            .where(table.c.status == "pending", table.c.next_attempt_at <= now)
            .order_by(table.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        ids = (await self.session.scalars(due)).all()
        if not ids:
            return []
        statement = table.update().where(table.c.id.in_(ids)).values(next_attempt_at=lease_until).returning(table)
        rows = [_record(row) for row in (await self.session.execute(statement)).mappings()]
        return sorted(rows, key=lambda row: row.created_at)

    async def of_case(self, case_id: uuid.UUID, *, after: uuid.UUID | None, limit: int) -> list[NotificationRow]:
        statement = select(table).where(table.c.case_id == case_id).order_by(table.c.id).limit(limit)
        if after is not None:
            statement = statement.where(table.c.id > after)
        return [_record(row) for row in (await self.session.execute(statement)).mappings()]

    async def of_subscription(self, subscription_id: uuid.UUID) -> list[NotificationRow]:
        statement = select(table).where(table.c.subscription_id == subscription_id).order_by(table.c.id)
        return [_record(row) for row in (await self.session.execute(statement)).mappings()]

    async def case_ref_token(self, case_id: uuid.UUID) -> str | None:
        """The case's hidden reference token (what threads an answer to the notification into the case)."""
        token: str | None = await self.session.scalar(select(cases.c.ref_token).where(cases.c.id == case_id))
        return token

    async def fail_unreported(self, *, requested_before: datetime, reason: str, now: datetime) -> int:
        """Mark ``failed`` every notification ``requested`` before ``requested_before``; how many."""
        result = await self.session.execute(
            table.update()
            .where(table.c.status == "requested", table.c.updated_at < requested_before)
            .values(status="failed", last_error=reason, updated_at=now)
            .returning(table.c.id)
        )
        return len(result.all())

    async def prune(self, *, created_before: datetime, limit: int) -> int:
        """Delete up to ``limit`` settled notifications created before ``created_before``; how many."""
        old = (
            select(table.c.id)
            .where(table.c.status.in_(("sent", "failed")), table.c.created_at < created_before)
            .limit(limit)
            .scalar_subquery()
        )
        result = await self.session.execute(table.delete().where(table.c.id.in_(old)).returning(table.c.id))
        return len(result.all())
