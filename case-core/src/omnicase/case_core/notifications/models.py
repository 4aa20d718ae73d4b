"""Staff notifications: emails to an agent, a group's members or an admin, resolved off the request path."""

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Table, Text, Uuid, text
from sqlalchemy.dialects.postgresql import JSONB

from omnicase.case_core.models import metadata
from omnicase.kit.columns import TIMESTAMP, id_column, timestamps

notifications = Table(
    "notifications",
    metadata,
    id_column(),
    Column("reason", String(200), nullable=False),
    Column("case_id", Uuid),
    Column("trigger_id", Uuid),
    Column("subscription_id", Uuid),
    # agent (recipient_id: routing's agent), group (recipient_id: its members), email (recipient_email).
    Column("recipient_kind", String(16), nullable=False),
    Column("recipient_id", Uuid),
    Column("recipient_email", String(320)),
    # The addresses it was sent to, once resolved.
    Column("recipients", JSONB, nullable=False, server_default=text("'[]'")),
    Column("subject", String(500), nullable=False),
    Column("text", Text, nullable=False),
    Column("html", Text),
    Column("brand", String(100)),
    # pending (recipients not resolved yet) → requested (handed to the email intake) → sent | failed.
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", TIMESTAMP),
    Column("last_error", Text),
    *timestamps(),
    CheckConstraint("status IN ('pending', 'requested', 'sent', 'failed')", name="status"),
    CheckConstraint("recipient_kind IN ('agent', 'group', 'email')", name="recipient_kind"),
)

# The worker's poll: due pending notifications only.
Index("ix_notifications_due", notifications.c.next_attempt_at, postgresql_where=notifications.c.status == "pending")
Index("ix_notifications_case_id_created_at", notifications.c.case_id, notifications.c.created_at)
Index("ix_notifications_subscription_id", notifications.c.subscription_id)
