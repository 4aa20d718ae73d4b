"""Held messages: what the intakes stored but held back (noise, loops, suspended senders, spam)."""

from sqlalchemy import CheckConstraint, Column, Index, Integer, String, Table, Text, Uuid
from sqlalchemy.dialects.postgresql import JSONB

from omnicase.case_core.models import metadata
from omnicase.kit.columns import TIMESTAMP, id_column

held_messages = Table(
    "held_messages",
    metadata,
    # The intake id: a republished copy of the same held message is the same row.
    id_column(),
    Column("source", String(80), nullable=False),  # the intake service that held it
    Column("channel", String(20), nullable=False),
    Column("reason", String(20), nullable=False),
    Column("detail", Text, nullable=False),
    Column("sender", JSONB, nullable=False),
    Column("subject", Text),
    # The MessageReceived data a recovery hands on as it is.
    Column("message", JSONB, nullable=False),
    Column("received_at", TIMESTAMP, nullable=False),
    Column("held_at", TIMESTAMP, nullable=False),
    Column("expires_at", TIMESTAMP, nullable=False),
    # held → recovered (became case_id) | deleted; settled rows are kept a while as tombstones.
    Column("status", String(16), nullable=False),
    Column("case_id", Uuid),
    Column("case_number", Integer),
    Column("settled_by", String(200)),
    Column("settled_at", TIMESTAMP),
    CheckConstraint("status IN ('held', 'recovered', 'deleted')", name="status"),
)

# The queue staff browse, newest first, and the expiry sweep.
Index(
    "ix_held_messages_held",
    held_messages.c.received_at.desc(),
    held_messages.c.id.desc(),
    postgresql_where=held_messages.c.status == "held",
)
Index("ix_held_messages_expires_at", held_messages.c.expires_at, postgresql_where=held_messages.c.status == "held")
Index("ix_held_messages_settled_at", held_messages.c.settled_at, postgresql_where=held_messages.c.status != "held")
