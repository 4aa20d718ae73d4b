"""Every query on ``deliveries``: outbound messages waiting for, or done with, their provider."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any, cast

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert

from omnicase.intake_web.models import deliveries
from omnicase.kit.repository import Repository

PENDING = "pending"
SENT = "sent"
FAILED = "failed"


class DeliveryRepository(Repository):
    async def add(
        self, outbound_id: uuid.UUID, case_id: uuid.UUID, channel_id: uuid.UUID, request: dict[str, Any], now: datetime
    ) -> bool:
        statement = (
            insert(deliveries)
            .values(
                outbound_id=outbound_id,
                case_id=case_id,
                channel_id=channel_id,
                request=request,
                status=PENDING,
                attempts=0,
                next_attempt_at=now,
                created_at=now,
            )
            .on_conflict_do_nothing(index_elements=[deliveries.c.outbound_id])
            .returning(deliveries.c.outbound_id)
        )
        return (await self.session.execute(statement)).one_or_none() is not None

    async def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[Row[Any]]:
        """Due deliveries, leased to this worker (a crash mid-send lets the lease expire and retries)."""
        due = (
            select(deliveries.c.outbound_id)
            .where(deliveries.c.status == PENDING, deliveries.c.next_attempt_at <= now)
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
            .with_for_update(skip_locked=True)
            .scalar_subquery()
        )
        result = await self.session.execute(
            update(deliveries)
            .where(deliveries.c.outbound_id.in_(due))
            .values(attempts=deliveries.c.attempts + 1, next_attempt_at=lease_until)
            .returning(*deliveries.c)
        )
        return cast(list[Row[Any]], list(result.all()))

    async def get(self, outbound_id: uuid.UUID) -> Row[Any] | None:
        query = select(*deliveries.c).where(deliveries.c.outbound_id == outbound_id)
        return (await self.session.execute(query)).one_or_none()

    async def finish(
        self, outbound_id: uuid.UUID, status: str, now: datetime, provider_message_id: str | None, error: str | None
    ) -> None:
        await self.session.execute(
            update(deliveries)
            .where(deliveries.c.outbound_id == outbound_id)
            .values(status=status, finished_at=now, provider_message_id=provider_message_id, last_error=error)
        )

    async def record_sms(self, outbound_id: uuid.UUID, encoding: str, segments: int) -> None:
        await self.session.execute(
            update(deliveries)
            .where(deliveries.c.outbound_id == outbound_id)
            .values(sms_encoding=encoding, sms_segments=segments)
        )

    async def record_parts_sent(self, outbound_id: uuid.UUID, parts_sent: int) -> None:
        await self.session.execute(
            update(deliveries).where(deliveries.c.outbound_id == outbound_id).values(parts_sent=parts_sent)
        )

    async def retry_at(self, outbound_id: uuid.UUID, when: datetime, error: str) -> None:
        await self.session.execute(
            update(deliveries)
            .where(deliveries.c.outbound_id == outbound_id)
            .values(next_attempt_at=when, last_error=error)
        )

    async def page_for_channel(self, channel_id: uuid.UUID, before: uuid.UUID | None, limit: int) -> list[Row[Any]]:
        query = (
            select(*deliveries.c)
            .where(deliveries.c.channel_id == channel_id)
            .order_by(deliveries.c.outbound_id.desc())
            .limit(limit)
        )
        if before is not None:
            query = query.where(deliveries.c.outbound_id < before)
        return list((await self.session.execute(query)).all())
