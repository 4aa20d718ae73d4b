"""Webhook tables: subscriptions, the admin's allow-list of private networks, deliveries and their attempts."""

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, CIDR, JSONB

from omnicase.case_core.models import metadata
from omnicase.kit.columns import TIMESTAMP, id_column, timestamps

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    id_column(),
    Column("url", String(2000), nullable=False),
    Column("description", String(500), nullable=False, server_default=""),
    Column("event_types", ARRAY(String(64)), nullable=False),
    # Sealed (webhooks.secrets): opened only to sign each delivery (Standard Webhooks, HMAC-SHA256).
    Column("secret", Text, nullable=False),
    # After a rotation the old secret signs too, until it expires: receivers switch without a gap.
    Column("previous_secret", Text),
    Column("previous_secret_expires_at", TIMESTAMP),
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("disabled_reason", Text),
    Column("disabled_at", TIMESTAMP),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("failing_since", TIMESTAMP),
    # Who hears of it when the subscription is disabled automatically.
    Column("notify_email", String(320)),
    *timestamps(),
)

# Fan-out looks subscriptions up by event type on every case event.
Index("ix_webhook_subscriptions_event_types", webhook_subscriptions.c.event_types, postgresql_using="gin")

webhook_allowed_networks = Table(
    "webhook_allowed_networks",
    metadata,
    id_column(),
    Column("network", CIDR, nullable=False, unique=True),
    Column("note", String(500), nullable=False, server_default=""),
    Column("created_by", String(200), nullable=False),
    Column("created_at", TIMESTAMP, nullable=False),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    id_column(),
    Column("subscription_id", Uuid, ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"), nullable=False),
    Column("event_id", Uuid, nullable=False),
    Column("event_type", String(64), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    # Attempts since the last (re)delivery request; the retry budget counts these.
    Column("round_attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TIMESTAMP),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    *timestamps(),
    Column("delivered_at", TIMESTAMP),
    CheckConstraint("status IN ('pending', 'succeeded', 'failed')", name="status"),
)

Index(
    "ix_webhook_deliveries_due",
    webhook_deliveries.c.next_attempt_at,
    postgresql_where=webhook_deliveries.c.status == "pending",
)
# The log's pruning finds settled deliveries by age.
Index(
    "ix_webhook_deliveries_settled",
    webhook_deliveries.c.updated_at,
    postgresql_where=webhook_deliveries.c.status != "pending",
)
Index("ix_webhook_deliveries_subscription_id_id", webhook_deliveries.c.subscription_id, webhook_deliveries.c.id)
Index(
    "ix_webhook_deliveries_subscription_id_event_id_event_type",
    webhook_deliveries.c.subscription_id,
    webhook_deliveries.c.event_id,
    webhook_deliveries.c.event_type,
    unique=True,
)

webhook_attempts = Table(
    "webhook_attempts",
    metadata,
    id_column(),
    Column("delivery_id", Uuid, ForeignKey("webhook_deliveries.id", ondelete="CASCADE"), nullable=False, index=True),
    Column("attempted_at", TIMESTAMP, nullable=False),
    Column("status_code", Integer),
    Column("error", Text),
    Column("response_body", Text),
    Column("duration_ms", Integer, nullable=False),
)
