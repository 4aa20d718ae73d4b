"""Every query about webhooks."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.webhooks.models import (
    webhook_allowed_networks as networks,
)
from omnicase.case_core.webhooks.models import (
    webhook_attempts as attempts,
)
from omnicase.case_core.webhooks.models import (
    webhook_deliveries as deliveries,
)
from omnicase.case_core.webhooks.models import (
    webhook_subscriptions as subscriptions,
)
from omnicase.case_core.webhooks.ssrf import IPNetwork

Row = dict[str, Any]


class WebhookRepository:
    # --- subscriptions

    async def insert_subscription(self, session: AsyncSession, values: Row) -> Row:
        statement = insert(subscriptions).values(**values).returning(subscriptions)
        return dict((await session.execute(statement)).mappings().one())

    async def get_subscription(
        self, session: AsyncSession, subscription_id: uuid.UUID, *, lock: bool = False
    ) -> Row | None:
        statement = select(subscriptions).where(subscriptions.c.id == subscription_id)
        if lock:
            statement = statement.with_for_update()
        row = (await session.execute(statement)).mappings().one_or_none()
        return dict(row) if row else None

    async def list_subscriptions(self, session: AsyncSession, *, after: uuid.UUID | None, limit: int) -> list[Row]:
        statement = select(subscriptions).order_by(subscriptions.c.id).limit(limit)
        if after is not None:
            statement = statement.where(subscriptions.c.id > after)
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    async def update_subscription(self, session: AsyncSession, subscription_id: uuid.UUID, values: Row) -> Row:
        statement = (
            subscriptions.update()
            .where(subscriptions.c.id == subscription_id)
            .values(**values)
            .returning(subscriptions)
        )
        return dict((await session.execute(statement)).mappings().one())

    async def delete_subscription(self, session: AsyncSession, subscription_id: uuid.UUID) -> bool:
        result = await session.execute(
            subscriptions.delete().where(subscriptions.c.id == subscription_id).returning(subscriptions.c.id)
        )
        return result.first() is not None

    async def subscribed_to(self, session: AsyncSession, event_types: Sequence[str]) -> list[Row]:
        """Active subscriptions wanting any of ``event_types`` (the GIN index answers the overlap)."""
        statement = select(subscriptions.c.id, subscriptions.c.event_types).where(
            subscriptions.c.active.is_(True), subscriptions.c.event_types.overlap(list(event_types))
        )
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    # --- allowed networks

    async def insert_network(self, session: AsyncSession, values: Row) -> Row | None:
        """None if that network is already allow-listed."""
        statement = (
            insert(networks).values(**values).on_conflict_do_nothing(index_elements=["network"]).returning(networks)
        )
        row = (await session.execute(statement)).mappings().one_or_none()
        return dict(row) if row else None

    async def list_networks(self, session: AsyncSession) -> list[Row]:
        return [dict(row) for row in (await session.execute(select(networks).order_by(networks.c.network))).mappings()]

    async def allowed_networks(self, session: AsyncSession) -> list[IPNetwork]:
        values = (await session.scalars(select(networks.c.network))).all()
        return [ipaddress.ip_network(str(value)) for value in values]

    async def delete_network(self, session: AsyncSession, network_id: uuid.UUID) -> bool:
        result = await session.execute(networks.delete().where(networks.c.id == network_id).returning(networks.c.id))
        return result.first() is not None

    # --- deliveries

    async def insert_deliveries(self, session: AsyncSession, rows: list[Row]) -> None:
        if rows:
            await session.execute(
                insert(deliveries).on_conflict_do_nothing(index_elements=["subscription_id", "event_id", "event_type"]),
                rows,
            )

    async def claim_due(self, session: AsyncSession, *, now: datetime, lease_until: datetime, limit: int) -> list[Row]:
        """Due pending deliveries of active subscriptions, leased until ``lease_until``.

        SKIP LOCKED lets several replicas share the work; the lease (not a held lock)
        covers the HTTP call, so a replica that dies mid-call only delays the delivery.
        """
        due = (
            select(deliveries.c.id)
            .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
            .where(
                deliveries.c.status == "pending",
                deliveries.c.next_attempt_at <= now,
                subscriptions.c.active.is_(True),
            )
            .order_by(deliveries.c.next_attempt_at)
            .limit(limit)
            .with_for_update(of=deliveries, skip_locked=True)
        )
        ids = (await session.scalars(due)).all()
        if not ids:
            return []
        await session.execute(deliveries.update().where(deliveries.c.id.in_(ids)).values(next_attempt_at=lease_until))
        statement = (
            select(
                deliveries,
                subscriptions.c.url,
                subscriptions.c.secret,
                subscriptions.c.previous_secret,
                subscriptions.c.previous_secret_expires_at,
            )
            .join(subscriptions, subscriptions.c.id == deliveries.c.subscription_id)
            .where(deliveries.c.id.in_(ids))
            .order_by(deliveries.c.created_at)
        )
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    async def get_delivery(
        self, session: AsyncSession, subscription_id: uuid.UUID, delivery_id: uuid.UUID
    ) -> Row | None:
        statement = select(deliveries).where(
            deliveries.c.id == delivery_id, deliveries.c.subscription_id == subscription_id
        )
        row = (await session.execute(statement)).mappings().one_or_none()
        return dict(row) if row else None

    async def list_deliveries(
        self,
        session: AsyncSession,
        subscription_id: uuid.UUID,
        *,
        status: str | None,
        before: uuid.UUID | None,
        limit: int,
    ) -> list[Row]:
        """Newest first (ids are UUIDv7, so id order is creation order)."""
        statement = (
            select(deliveries).where(deliveries.c.subscription_id == subscription_id).order_by(deliveries.c.id.desc())
        ).limit(limit)
        if status is not None:
            statement = statement.where(deliveries.c.status == status)
        if before is not None:
            statement = statement.where(deliveries.c.id < before)
        return [dict(row) for row in (await session.execute(statement)).mappings()]

    async def update_delivery(self, session: AsyncSession, delivery_id: uuid.UUID, values: Row) -> Row:
        statement = deliveries.update().where(deliveries.c.id == delivery_id).values(**values).returning(deliveries)
        return dict((await session.execute(statement)).mappings().one())

    async def prune(self, session: AsyncSession, before: datetime, limit: int = 5000) -> int:
        """Forget settled deliveries (and their attempts) last touched before ``before``; a bounded batch."""
        old = (
            select(deliveries.c.id)
            .where(deliveries.c.status != "pending", deliveries.c.updated_at < before)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await session.execute(deliveries.delete().where(deliveries.c.id.in_(old)).returning(deliveries.c.id))
        return len(result.all())

    async def insert_attempt(self, session: AsyncSession, values: Row) -> None:
        await session.execute(insert(attempts).values(**values))

    async def attempts_of(self, session: AsyncSession, delivery_id: uuid.UUID) -> list[Row]:
        statement = (
            select(attempts)
            .where(attempts.c.delivery_id == delivery_id)
            .order_by(attempts.c.attempted_at, attempts.c.id)
        )
        return [dict(row) for row in (await session.execute(statement)).mappings()]
