"""Webhook subscriptions, fan-out of case events into deliveries, and the outcome of each attempt."""

from __future__ import annotations

import dataclasses
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, Literal

from prometheus_client import Counter
from sqlalchemy.ext.asyncio import AsyncSession

from omnicase.case_core.models import config_version, outbox
from omnicase.case_core.notifications.service import Draft, NotificationService
from omnicase.case_core.settings import CaseCoreSettings
from omnicase.case_core.webhooks.repository import (
    AllowedNetworkRow,
    AttemptRow,
    DeliveryRow,
    DeliveryValues,
    SubscriptionRow,
    SubscriptionValues,
    WebhookRepository,
)
from omnicase.case_core.webhooks.schemas import AllowedNetworkCreate, WebhookCreate, WebhookEventType, WebhookUpdate
from omnicase.case_core.webhooks.secrets import SecretVault
from omnicase.case_core.webhooks.signing import new_secret
from omnicase.kit import ssrf
from omnicase.kit.backoff import backoff_seconds
from omnicase.kit.clock import utcnow
from omnicase.kit.config_version import VersionedCache
from omnicase.kit.errors import NOT_FOUND_CODE, Conflict, FieldError, NotFound, UnknownReference, ValidationFailed
from omnicase.kit.events import Envelope
from omnicase.kit.ids import uuid7
from omnicase.kit.outbox import Outbox

logger = logging.getLogger(__name__)

DELIVERY_ATTEMPTS = Counter("omnicase_webhook_attempts_total", "Webhook delivery attempts", ["outcome"])
SUBSCRIPTIONS_DISABLED = Counter("omnicase_webhook_subscriptions_disabled_total", "Webhook subscriptions disabled")


class WebhookNotFound(NotFound):
    slug = "webhook-not-found"


class DeliveryNotFound(NotFound):
    slug = "webhook-delivery-not-found"


class AllowedNetworkNotFound(NotFound):
    slug = "allowed-network-not-found"


class NetworkAlreadyAllowed(Conflict):
    slug = "network-already-allowed"


class WebhookDisabled(Conflict):
    slug = "webhook-disabled"


class DeliveryPending(Conflict):
    slug = "webhook-delivery-pending"


class AddressNotAllowed(Conflict):
    """The URL's host resolves to an internal address no allowed network covers: refused as the
    allow-list stands now (an admin may add the network), so a 409, not a 422 for a well-formed URL."""

    slug = "webhook-address-not-allowed"


def webhook_types_of(envelope: Envelope) -> list[str]:
    """The webhook event types a case or SLA event stands for (none for the others)."""
    data = envelope.data
    if envelope.type == "case.created":
        return ["case.created"]
    if envelope.type == "case.updated":
        status = (data.get("changes") or {}).get("status")
        return ["case.updated", "case.solved"] if status and status.get("new") == "solved" else ["case.updated"]
    if envelope.type in {"case.message_added", "case.satisfaction_rated"}:
        return [envelope.type]
    if envelope.type == "sla.threshold_reached" and data.get("level") == "breach":
        return ["sla.breached"]
    return []


Outcome = Literal["succeeded", "retry", "gone", "blocked", "failed"]


@dataclass(frozen=True)
class AttemptResult:
    """What one HTTP attempt came to; ``retry_after`` is the receiver's wish in seconds."""

    outcome: Outcome
    status_code: int | None = None
    error: str | None = None
    response_body: str | None = None
    duration_ms: int = 0
    retry_after: float | None = None


class WebhookService:
    def __init__(
        self,
        settings: CaseCoreSettings,
        notifications: NotificationService | None = None,
    ) -> None:
        self.settings = settings
        self.secrets = SecretVault(settings.sealer())
        self.notifications = notifications or NotificationService(settings, Outbox(outbox))
        # How host names are looked up for the SSRF guard (tests swap in their own DNS).
        self.resolver: ssrf.Resolver = ssrf.resolve
        # Read for every case and SLA event: kept per process until a subscription changes anywhere.
        self.active_subscriptions: VersionedCache[list[tuple[uuid.UUID, frozenset[str]]]] = VersionedCache(
            config_version, self._load_active_subscriptions, once_per_transaction=True
        )

    # --- reading (the API)

    async def subscriptions(
        self, session: AsyncSession, *, after: uuid.UUID | None, limit: int
    ) -> list[SubscriptionRow]:
        return await WebhookRepository(session).list_subscriptions(after=after, limit=limit)

    async def networks(self, session: AsyncSession) -> list[AllowedNetworkRow]:
        return await WebhookRepository(session).list_networks()

    async def deliveries(
        self,
        session: AsyncSession,
        subscription_id: uuid.UUID,
        *,
        status: str | None,
        before: uuid.UUID | None,
        limit: int,
    ) -> list[DeliveryRow]:
        """Newest first."""
        return await WebhookRepository(session).list_deliveries(
            subscription_id, status=status, before=before, limit=limit
        )

    async def attempts(self, session: AsyncSession, delivery_id: uuid.UUID) -> list[AttemptRow]:
        return await WebhookRepository(session).attempts_of(delivery_id)

    # --- subscriptions

    async def _check_url(self, session: AsyncSession, url: str) -> None:
        try:
            await ssrf.guard(url, await WebhookRepository(session).allowed_networks(), self.resolver)
        except ssrf.Unresolvable as error:
            # A host nobody has names nothing, like an unknown id: a 404 naming the field.
            raise UnknownReference(
                f"Webhooks cannot be sent to {url}: {error}.",
                errors=[FieldError(field="body.url", message=str(error), code=NOT_FOUND_CODE)],
            ) from None
        except ssrf.BlockedAddress as error:
            raise AddressNotAllowed(
                f"Webhooks cannot be sent to {url}: {error}.",
                errors=[FieldError(field="body.url", message=str(error), code="blocked_address")],
            ) from None

    async def create(self, session: AsyncSession, data: WebhookCreate) -> SubscriptionRow:
        url = str(data.url)
        notify_email = data.notify_email or self.settings.webhook_notify_email
        if notify_email is None:
            raise ValidationFailed(
                "Name who is emailed if this webhook is disabled for failing (notify_email).",
                errors=[
                    FieldError(
                        field="body.notify_email",
                        message="required: nobody would hear of the webhook being disabled",
                        code="missing",
                    )
                ],
            )
        await self._check_url(session, url)
        now = utcnow()
        subscription_id, secret = uuid7(), new_secret()
        subscription = SubscriptionRow(
            id=subscription_id,
            url=url,
            description=data.description,
            event_types=tuple(str(t) for t in data.event_types),
            secret=self.secrets.seal(secret, subscription_id),
            previous_secret=None,
            previous_secret_expires_at=None,
            active=True,
            disabled_reason=None,
            disabled_at=None,
            consecutive_failures=0,
            failing_since=None,
            notify_email=notify_email,
            created_at=now,
            updated_at=now,
        )
        # The plain secret goes back to the admin this once; the row keeps only its sealed token.
        return dataclasses.replace(await WebhookRepository(session).insert_subscription(subscription), secret=secret)

    async def get(self, session: AsyncSession, subscription_id: uuid.UUID, *, lock: bool = False) -> SubscriptionRow:
        row = await WebhookRepository(session).get_subscription(subscription_id, lock=lock)
        if row is None:
            raise WebhookNotFound(f"No webhook {subscription_id}.")
        return row

    async def update(self, session: AsyncSession, subscription_id: uuid.UUID, data: WebhookUpdate) -> SubscriptionRow:
        current = await self.get(session, subscription_id, lock=True)
        values: SubscriptionValues = {}
        if data.url is not None and str(data.url) != current.url:
            await self._check_url(session, str(data.url))
            values["url"] = str(data.url)
        if data.event_types is not None:
            values["event_types"] = [str(t) for t in data.event_types]
        if data.description is not None:
            values["description"] = data.description
        if data.notify_email is not None:
            values["notify_email"] = data.notify_email
        if data.active is not None and data.active != current.active:
            values["active"] = data.active
            if data.active:
                values |= {
                    "disabled_reason": None,
                    "disabled_at": None,
                    "consecutive_failures": 0,
                    "failing_since": None,
                }
            else:
                values |= {"disabled_reason": "disabled by an admin", "disabled_at": utcnow()}
        if not values:
            return current
        values["updated_at"] = utcnow()
        return await WebhookRepository(session).update_subscription(subscription_id, values)

    async def rotate_secret(self, session: AsyncSession, subscription_id: uuid.UUID) -> SubscriptionRow:
        """A new secret (in this answer only); the current one keeps signing beside it for the grace period."""
        current = await self.get(session, subscription_id, lock=True)
        now = utcnow()
        secret, previous = new_secret(), self.secrets.open(current.secret, subscription_id)
        values: SubscriptionValues = {
            "secret": self.secrets.seal(secret, subscription_id),
            "previous_secret": self.secrets.seal(previous, subscription_id, "previous_secret"),
            "previous_secret_expires_at": now + timedelta(seconds=self.settings.webhook_secret_grace_seconds),
            "updated_at": now,
        }
        return dataclasses.replace(
            await WebhookRepository(session).update_subscription(subscription_id, values), secret=secret
        )

    async def delete(self, session: AsyncSession, subscription_id: uuid.UUID) -> None:
        if not await WebhookRepository(session).delete_subscription(subscription_id):
            raise WebhookNotFound(f"No webhook {subscription_id}.")

    # --- allowed networks

    async def allow_network(self, session: AsyncSession, data: AllowedNetworkCreate, actor: str) -> AllowedNetworkRow:
        row = await WebhookRepository(session).insert_network(
            id=uuid7(), network=data.network, note=data.note, created_by=actor, created_at=utcnow()
        )
        if row is None:
            raise NetworkAlreadyAllowed(f"{data.network} is already allow-listed.")
        return row

    async def remove_network(self, session: AsyncSession, network_id: uuid.UUID) -> None:
        if not await WebhookRepository(session).delete_network(network_id):
            raise AllowedNetworkNotFound(f"No allowed network {network_id}.")

    # --- deliveries

    async def fan_out(self, session: AsyncSession, envelopes: Sequence[Envelope]) -> int:
        """One pending delivery per subscription wanting each event; returns how many (one insert per batch)."""
        wanted = [(envelope, types) for envelope in envelopes if (types := webhook_types_of(envelope))]
        if not wanted:
            return 0
        subscriptions = await self.active_subscriptions.current(session)
        if not subscriptions:
            return 0  # the common case: one version read per batch
        now = utcnow()
        rows = [
            DeliveryRow(
                id=uuid7(),
                subscription_id=subscription_id,
                event_id=envelope.id,
                event_type=event_type,
                payload={"type": event_type, "timestamp": envelope.time.isoformat(), "data": envelope.data},
                status="pending",
                next_attempt_at=now,
                created_at=now,
                updated_at=now,
            )
            for envelope, types in wanted
            for subscription_id, subscribed in subscriptions
            for event_type in types
            if event_type in subscribed
        ]
        await WebhookRepository(session).insert_deliveries(rows)
        return len(rows)

    async def _load_active_subscriptions(
        self, session: AsyncSession, _version: int
    ) -> list[tuple[uuid.UUID, frozenset[str]]]:
        rows = await WebhookRepository(session).subscribed_to([event.value for event in WebhookEventType])
        return [(subscription_id, frozenset(event_types)) for subscription_id, event_types in rows]

    async def exists(self, session: AsyncSession, subscription_id: uuid.UUID) -> bool:
        return await WebhookRepository(session).get_subscription(subscription_id) is not None

    async def notify(
        self, session: AsyncSession, subscription_id: uuid.UUID, event_type: str, data: dict[str, Any]
    ) -> bool:
        """Queue one event for one subscription (a trigger's action); False if it is disabled."""
        subscription = await self.get(session, subscription_id)
        if not subscription.active:
            return False
        await self._queue(session, subscription_id, event_type, data)
        return True

    async def ping(self, session: AsyncSession, subscription_id: uuid.UUID, actor: str) -> DeliveryRow:
        """Queue a ``webhook.test`` event, so an integrator can check their endpoint."""
        subscription = await self.get(session, subscription_id)
        if not subscription.active:
            raise WebhookDisabled("The webhook is disabled; enable it first (PATCH active: true).")
        return await self._queue(
            session, subscription_id, "webhook.test", {"webhook_id": str(subscription_id), "by": actor}
        )

    async def _queue(
        self, session: AsyncSession, subscription_id: uuid.UUID, event_type: str, data: dict[str, Any]
    ) -> DeliveryRow:
        now = utcnow()
        row = DeliveryRow(
            id=uuid7(),
            subscription_id=subscription_id,
            event_id=uuid7(),
            event_type=event_type,
            payload={"type": event_type, "timestamp": now.isoformat(), "data": data},
            status="pending",
            next_attempt_at=now,
            created_at=now,
            updated_at=now,
        )
        await WebhookRepository(session).insert_deliveries([row])
        return row

    async def delivery(self, session: AsyncSession, subscription_id: uuid.UUID, delivery_id: uuid.UUID) -> DeliveryRow:
        row = await WebhookRepository(session).get_delivery(subscription_id, delivery_id)
        if row is None:
            raise DeliveryNotFound(f"No delivery {delivery_id} of webhook {subscription_id}.")
        return row

    async def redeliver(self, session: AsyncSession, subscription_id: uuid.UUID, delivery_id: uuid.UUID) -> DeliveryRow:
        """Send again now, with a fresh retry budget (same ``webhook-id``, so receivers can deduplicate)."""
        await self.get(session, subscription_id)
        row = await self.delivery(session, subscription_id, delivery_id)
        if row.status == "pending" and row.round_attempts == 0:
            raise DeliveryPending("This delivery has not been attempted yet; it goes out shortly.")
        now = utcnow()
        values: DeliveryValues = {"status": "pending", "round_attempts": 0, "next_attempt_at": now, "updated_at": now}
        return await WebhookRepository(session).update_delivery(delivery_id, values)

    async def record(self, session: AsyncSession, delivery: DeliveryRow, result: AttemptResult) -> None:
        """Log the attempt, schedule a retry or settle the delivery, and keep the subscription's health."""
        # Subscription first, then its delivery: the order a subscription's delete (cascading
        # to its deliveries) locks them in, so the two never deadlock.
        subscription = await WebhookRepository(session).get_subscription(delivery.subscription_id, lock=True)
        if subscription is None:
            return  # deleted while the request was out; its log went with it
        now = utcnow()
        DELIVERY_ATTEMPTS.labels(result.outcome).inc()
        await WebhookRepository(session).insert_attempt(
            AttemptRow(
                id=uuid7(),
                delivery_id=delivery.id,
                attempted_at=now,
                status_code=result.status_code,
                error=result.error,
                response_body=result.response_body,
                duration_ms=result.duration_ms,
            ),
        )
        round_attempts = delivery.round_attempts + 1
        values: DeliveryValues = {
            "attempts": delivery.attempts + 1,
            "round_attempts": round_attempts,
            "last_status_code": result.status_code,
            "last_error": result.error,
            "updated_at": now,
        }
        if result.outcome == "succeeded":
            values |= {"status": "succeeded", "delivered_at": now, "next_attempt_at": None}
        elif result.outcome == "retry" and round_attempts < self.settings.webhook_max_attempts:
            values |= {
                "status": "pending",
                "next_attempt_at": now + timedelta(seconds=self._delay(round_attempts, result)),
            }
        else:
            values |= {"status": "failed", "next_attempt_at": None}
        await WebhookRepository(session).update_delivery(delivery.id, values)
        await self._track_health(session, subscription, result, now)

    def _delay(self, round_attempts: int, result: AttemptResult) -> float:
        settings = self.settings
        delay = backoff_seconds(
            round_attempts, base=settings.webhook_retry_base_seconds, cap=settings.webhook_retry_max_seconds
        )
        if result.retry_after is not None:
            delay = max(delay, min(result.retry_after, settings.webhook_retry_after_max_seconds))
        return delay

    async def _track_health(
        self, session: AsyncSession, subscription: SubscriptionRow, result: AttemptResult, now: datetime
    ) -> None:
        subscription_id = subscription.id
        if result.outcome == "succeeded":
            if subscription.consecutive_failures or subscription.failing_since:
                await WebhookRepository(session).update_subscription(
                    subscription_id, {"consecutive_failures": 0, "failing_since": None}
                )
            return
        failures = subscription.consecutive_failures + 1
        failing_since = subscription.failing_since or now
        values: SubscriptionValues = {"consecutive_failures": failures, "failing_since": failing_since}
        reason: str | None = None
        if result.outcome == "gone":
            reason = "the receiver answered 410 Gone"
        elif failures >= self.settings.webhook_disable_after_failures and (now - failing_since) >= timedelta(
            seconds=self.settings.webhook_disable_after_seconds
        ):
            reason = f"{failures} failed attempts in a row since {failing_since.isoformat()} (last: {result.error})"
        if reason is not None and subscription.active:
            values |= {"active": False, "disabled_reason": reason, "disabled_at": now, "updated_at": now}
            SUBSCRIPTIONS_DISABLED.inc()
            logger.warning(
                "webhook subscription disabled",
                extra={"subscription_id": str(subscription_id), "url": subscription.url, "reason": reason},
            )
        await WebhookRepository(session).update_subscription(subscription_id, values)
        if "disabled_reason" in values:
            await self._tell_about_disable(session, subscription, reason or "", now)

    async def _tell_about_disable(
        self, session: AsyncSession, subscription: SubscriptionRow, reason: str, now: datetime
    ) -> None:
        """Email whoever the subscription names, and tell subscribers of ``webhook.disabled``."""
        subscription_id = subscription.id
        address = subscription.notify_email or self.settings.webhook_notify_email
        text = (
            f"Omnicase stopped sending webhooks to {subscription.url} "
            f"({subscription.description or 'no description'}).\n\n"
            f"Why: {reason}.\n\n"
            "Nothing is sent to it until an admin enables it again (PATCH /api/v1/webhooks/"
            f"{subscription_id} with active: true); its pending deliveries resume then, and failed ones "
            "can be redelivered from its delivery log."
        )
        await self.notifications.queue(
            session,
            Draft(
                reason=f"webhook_disabled:{subscription_id}",
                recipient_kind="email",
                recipient_email=address,
                subject=f"Webhook disabled: {subscription.url}"[:500],
                text=text,
                subscription_id=subscription_id,
                failed=None if address else "the subscription names nobody to notify (notify_email)",
            ),
        )
        data = {
            "webhook_id": str(subscription_id),
            "url": subscription.url,
            "reason": reason,
            "disabled_at": now.isoformat(),
        }
        for other_id, _ in await WebhookRepository(session).subscribed_to([WebhookEventType.WEBHOOK_DISABLED.value]):
            if other_id != subscription_id:
                await self._queue(session, other_id, WebhookEventType.WEBHOOK_DISABLED.value, data)
