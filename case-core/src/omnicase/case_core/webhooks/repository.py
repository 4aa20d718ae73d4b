"""Every query about webhooks, answering typed records."""

from __future__ import annotations

import ipaddress
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypedDict

from sqlalchemy import RowMapping, select
from sqlalchemy.dialects.postgresql import insert

from omnicase.case_core.records import column_values
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
from omnicase.kit.repository import Repository
from omnicase.kit.ssrf import IPNetwork


@dataclass(frozen=True)
class SubscriptionRow:
    id: uuid.UUID
    url: str
    description: str
    event_types: tuple[str, ...]
    secret: str  # sealed (webhooks.secrets); the plain one only in the answer that made it
    previous_secret: str | None  # sealed; signs beside the current one until it expires
    previous_secret_expires_at: datetime | None
    active: bool
    disabled_reason: str | None
    disabled_at: datetime | None
    consecutive_failures: int
    failing_since: datetime | None
    notify_email: str | None
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class AllowedNetworkRow:
    id: uuid.UUID
    network: IPNetwork
    note: str
    created_by: str
    created_at: datetime


@dataclass(frozen=True)
class DeliveryRow:
    id: uuid.UUID  # also the webhook-id header
    subscription_id: uuid.UUID
    event_id: uuid.UUID
    event_type: str
    payload: Mapping[str, Any]  # the body sent: {"type", "timestamp", "data"}
    status: str
    next_attempt_at: datetime | None
    created_at: datetime
    updated_at: datetime
    attempts: int = 0
    round_attempts: int = 0  # since the last (re)delivery request; the retry budget counts these
    last_status_code: int | None = None
    last_error: str | None = None
    delivered_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class DueDeliveryRow(DeliveryRow):
    """A claimed delivery with what sending it takes from its subscription (secrets as stored, sealed,
    until :meth:`SecretVault.signing` opens them)."""

    url: str
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None


@dataclass(frozen=True)
class AttemptRow:
    id: uuid.UUID
    delivery_id: uuid.UUID
    attempted_at: datetime
    status_code: int | None
    error: str | None
    response_body: str | None  # the first KiB of the receiver's answer
    duration_ms: int


class SubscriptionValues(TypedDict, total=False):
    """Columns of a subscription to set, by name, and their values (an admin's change, a new secret, its health)."""

    # An admin's change ...
    url: str
    description: str
    event_types: Sequence[str]
    notify_email: str | None
    active: bool
    # ... a new secret ...
    secret: str
    previous_secret: str | None
    previous_secret_expires_at: datetime | None
    # ... and its health: failing, or turned off for it.
    consecutive_failures: int
    failing_since: datetime | None
    disabled_at: datetime | None
    disabled_reason: str | None
    updated_at: datetime


class DeliveryValues(TypedDict, total=False):
    """Columns of a delivery to set, by name, and their values (an attempt's outcome, a redelivery)."""

    status: str
    attempts: int
    round_attempts: int
    last_status_code: int | None
    last_error: str | None
    next_attempt_at: datetime | None
    delivered_at: datetime | None
    updated_at: datetime


def _subscription(row: RowMapping) -> SubscriptionRow:
    return SubscriptionRow(**{**row, "event_types": tuple(row["event_types"])})


def _delivery_values(delivery: DeliveryRow) -> dict[str, Any]:
    return {
        "id": delivery.id,
        "subscription_id": delivery.subscription_id,
        "event_id": delivery.event_id,
        "event_type": delivery.event_type,
        "payload": delivery.payload,
        "status": delivery.status,
        "attempts": delivery.attempts,
        "round_attempts": delivery.round_attempts,
        "next_attempt_at": delivery.next_attempt_at,
        "last_status_code": delivery.last_status_code,
        "last_error": delivery.last_error,
        "created_at": delivery.created_at,
        "updated_at": delivery.updated_at,
        "delivered_at": delivery.delivered_at,
    }


class WebhookRepository(Repository):
    # --- subscriptions

    async def insert_subscription(self, subscription: SubscriptionRow) -> SubscriptionRow:
        statement = insert(subscriptions).values(**column_values(subscription))
        return _subscription((await self.session.execute(statement.returning(subscriptions))).mappings().one())

    async def get_subscription(self, subscription_id: uuid.UUID, *, lock: bool = False) -> SubscriptionRow | None:
        statement = select(subscriptions).where(subscriptions.c.id == subscription_id)
        if lock:
            statement = statement.with_for_update()
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return _subscription(row) if row else None

    async def list_subscriptions(self, *, after: uuid.UUID | None, limit: int) -> list[SubscriptionRow]:
        statement = select(subscriptions).order_by(subscriptions.c.id).limit(limit)
        if after is not None:
            statement = statement.where(subscriptions.c.id > after)
        return [_subscription(row) for row in (await self.session.execute(statement)).mappings()]

    async def update_subscription(self, subscription_id: uuid.UUID, changes: SubscriptionValues) -> SubscriptionRow:
        """Set the columns of ``changes``."""
        statement = (
            subscriptions.update()
            .where(subscriptions.c.id == subscription_id)
            .values(**changes)
            .returning(subscriptions)
        )
        return _subscription((await self.session.execute(statement)).mappings().one())

    async def delete_subscription(self, subscription_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            subscriptions.delete().where(subscriptions.c.id == subscription_id).returning(subscriptions.c.id)
        )
        return result.first() is not None

    async def subscribed_to(self, event_types: Sequence[str]) -> list[tuple[uuid.UUID, tuple[str, ...]]]:
        """(id, event types) of the active subscriptions wanting any of ``event_types`` (the GIN index answers
        the overlap)."""
        statement = select(subscriptions.c.id, subscriptions.c.event_types).where(
            subscriptions.c.active.is_(True), subscriptions.c.event_types.overlap(list(event_types))
        )
        return [(row.id, tuple(row.event_types)) for row in await self.session.execute(statement)]

    # --- allowed networks

    async def insert_network(
        self, *, id: uuid.UUID, network: str, note: str, created_by: str, created_at: datetime
    ) -> AllowedNetworkRow | None:
        """None if that network is already allow-listed."""
        statement = (
            insert(networks)
            .values(id=id, network=network, note=note, created_by=created_by, created_at=created_at)
            .on_conflict_do_nothing(index_elements=["network"])
            .returning(networks)
        )
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return AllowedNetworkRow(**row) if row else None

    async def list_networks(self) -> list[AllowedNetworkRow]:
        statement = select(networks).order_by(networks.c.network)
        return [AllowedNetworkRow(**row) for row in (await self.session.execute(statement)).mappings()]

    async def allowed_networks(self) -> list[IPNetwork]:
        values = (await self.session.scalars(select(networks.c.network))).all()
        return [ipaddress.ip_network(str(value)) for value in values]

    async def delete_network(self, network_id: uuid.UUID) -> bool:
        result = await self.session.execute(
            networks.delete().where(networks.c.id == network_id).returning(networks.c.id)
        )
        return result.first() is not None

    # --- deliveries

    async def insert_deliveries(self, rows: Sequence[DeliveryRow]) -> None:
        if rows:
            await self.session.execute(
                insert(deliveries).on_conflict_do_nothing(index_elements=["subscription_id", "event_id", "event_type"]),
                [_delivery_values(row) for row in rows],
            )

    async def claim_due(self, *, now: datetime, lease_until: datetime, limit: int) -> list[DueDeliveryRow]:
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
        ids = (await self.session.scalars(due)).all()
        if not ids:
            return []
        await self.session.execute(
            deliveries.update().where(deliveries.c.id.in_(ids)).values(next_attempt_at=lease_until)
        )
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
        return [DueDeliveryRow(**row) for row in (await self.session.execute(statement)).mappings()]

    async def get_delivery(self, subscription_id: uuid.UUID, delivery_id: uuid.UUID) -> DeliveryRow | None:
        statement = select(deliveries).where(
            deliveries.c.id == delivery_id, deliveries.c.subscription_id == subscription_id
        )
        row = (await self.session.execute(statement)).mappings().one_or_none()
        return DeliveryRow(**row) if row else None

    async def list_deliveries(
        self,
        subscription_id: uuid.UUID,
        *,
        status: str | None,
        before: uuid.UUID | None,
        limit: int,
    ) -> list[DeliveryRow]:
        """Newest first (ids are UUIDv7, so id order is creation order)."""
        statement = (
            select(deliveries).where(deliveries.c.subscription_id == subscription_id).order_by(deliveries.c.id.desc())
        ).limit(limit)
        if status is not None:
            statement = statement.where(deliveries.c.status == status)
        if before is not None:
            statement = statement.where(deliveries.c.id < before)
        return [DeliveryRow(**row) for row in (await self.session.execute(statement)).mappings()]

    async def update_delivery(self, delivery_id: uuid.UUID, changes: DeliveryValues) -> DeliveryRow:
        """Set the columns of ``changes``."""
        statement = deliveries.update().where(deliveries.c.id == delivery_id).values(**changes).returning(deliveries)
        return DeliveryRow(**(await self.session.execute(statement)).mappings().one())

    async def prune(self, before: datetime, limit: int = 5000) -> int:
        """Forget settled deliveries (and their attempts) last touched before ``before``; a bounded batch."""
        old = (
            select(deliveries.c.id)
            .where(deliveries.c.status != "pending", deliveries.c.updated_at < before)
            .limit(limit)
            .with_for_update(skip_locked=True)
        )
        result = await self.session.execute(
            deliveries.delete().where(deliveries.c.id.in_(old)).returning(deliveries.c.id)
        )
        return len(result.all())

    async def insert_attempt(self, attempt: AttemptRow) -> None:
        await self.session.execute(insert(attempts).values(**column_values(attempt)))

    async def attempts_of(self, delivery_id: uuid.UUID) -> list[AttemptRow]:
        statement = (
            select(attempts)
            .where(attempts.c.delivery_id == delivery_id)
            .order_by(attempts.c.attempted_at, attempts.c.id)
        )
        return [AttemptRow(**row) for row in (await self.session.execute(statement)).mappings()]
