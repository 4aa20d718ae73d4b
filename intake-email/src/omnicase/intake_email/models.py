"""Tables of the ``intake_email`` schema (owned by intake-email alone)."""

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from omnicase.kit.columns import id_column, timestamps
from omnicase.kit.config_version import config_version_table
from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table

metadata = service_metadata("intake_email")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

mailboxes = Table(
    "mailboxes",
    metadata,
    id_column(),
    # Stored lowercased: addresses are matched case-insensitively (RCPT, webhook, own-address check).
    Column("address", String(320), nullable=False),
    Column("display_name", String(200), nullable=True),
    Column("brand", String(100), nullable=True),
    Column("priority", String(20), nullable=True),
    Column("group_id", Uuid, nullable=True),
    Column("case_type", String(100), nullable=True),
    Column("tags", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("auto_response", Boolean, nullable=False, server_default=text("false")),
    # The auto-response lists suggested articles from knowledge (case-core asks it).
    Column("suggest_articles", Boolean, nullable=False, server_default=text("false")),
    Column("signature", Text, nullable=True),
    # Sealed (mailboxes.secrets): opened only to verify an inbound-parse signature.
    Column("webhook_secret", Text, nullable=True),
    Column("logo_url", String(2000), nullable=True),
    # Verification: a test message sent through the configured route must come back in.
    Column("verification_token", String(64), nullable=True),
    Column("verification_requested_at", DateTime(timezone=True), nullable=True),
    Column("verified_at", DateTime(timezone=True), nullable=True),
    Column("verified_route", String(20), nullable=True),
    Column("verified_from", String(320), nullable=True),
    *timestamps(),
    UniqueConstraint("address"),
)

raw_messages = Table(
    "raw_messages",
    metadata,
    id_column(),  # the intake id case-core acknowledges
    Column("mailbox_id", Uuid, ForeignKey("mailboxes.id", ondelete="RESTRICT"), nullable=False),
    Column("route", String(20), nullable=False),  # smtp | webhook | imap
    Column("received_at", DateTime(timezone=True), nullable=False),
    Column("envelope_from", String(320), nullable=True),  # "" for the null sender <>
    Column("envelope_to", JSONB, nullable=False),
    Column("peer", String(200), nullable=True),
    Column("raw", LargeBinary, nullable=False),
    Column("raw_sha256", String(64), nullable=False),
    Column("message_id", String(998), nullable=True),
    # Message-ID, or the source's hash when there is none: one intake record per message and mailbox.
    Column("dedupe_key", String(998), nullable=False),
    Column("thread_key", String(320), nullable=False),
    Column("subject", Text, nullable=True),
    # pending -> acknowledged; or dropped / suspended with a reason (never silently).
    Column("status", String(20), nullable=False),
    Column("reason", Text, nullable=True),
    Column("noise", String(30), nullable=True),  # auto_reply | bounce | bulk | None
    # Why a dropped or suspended message was held back (kit HoldReason); case-core keeps it in its
    # suspended-messages queue and acknowledges it (acknowledged_at) without a case.
    Column("hold_reason", String(20), nullable=True),
    Column("parse_errors", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("event_data", JSONB, nullable=True),  # MessageReceived data, for republication
    Column("published_count", Integer, nullable=False, server_default=text("0")),
    Column("last_published_at", DateTime(timezone=True), nullable=True),
    Column("case_id", Uuid, nullable=True),
    Column("case_number", Integer, nullable=True),
    Column("acknowledged_at", DateTime(timezone=True), nullable=True),
    Column("auto_responded_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("mailbox_id", "dedupe_key"),
    Index("ix_raw_messages_pending", "last_published_at", postgresql_where=text("status = 'pending'")),
    Index(
        "ix_raw_messages_held_unacknowledged",
        "last_published_at",
        postgresql_where=text("hold_reason IS NOT NULL AND acknowledged_at IS NULL"),
    ),
    Index("ix_raw_messages_thread_key_received_at", "thread_key", "received_at"),
    Index("ix_raw_messages_case_id", "case_id"),
    Index("ix_raw_messages_message_id", "message_id"),
)

# Where IMAP polling of one account stands: nothing fetched twice, nothing skipped, across restarts.
imap_cursors = Table(
    "imap_cursors",
    metadata,
    Column("account", String(700), primary_key=True),  # username@host:port/folder
    Column("uidvalidity", BigInteger, nullable=True),
    Column("last_uid", BigInteger, nullable=False, server_default=text("0")),
    Column("lease_until", DateTime(timezone=True), nullable=True),  # one poller per account at a time
    Column("last_polled_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
)

sender_suspensions = Table(
    "sender_suspensions",
    metadata,
    Column("sender", String(320), primary_key=True),
    Column("suspended_until", DateTime(timezone=True), nullable=False),
    Column("reason", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
)

outbound_messages = Table(
    "outbound_messages",
    metadata,
    id_column(),  # outbound_id from case-core, or ours for auto-responses
    Column("case_id", Uuid, nullable=True),  # None for mailbox verification messages
    Column("mailbox_id", Uuid, ForeignKey("mailboxes.id", ondelete="RESTRICT"), nullable=True),
    Column("intake_id", Uuid, nullable=True),  # the inbound message an auto-response answers
    Column("kind", String(20), nullable=False),  # reply | auto_response | verification | notification
    Column("mail_from", String(320), nullable=False),
    Column("primary_recipient", String(320), nullable=False),
    Column("recipients", JSONB, nullable=False),
    Column("subject", Text, nullable=False),
    Column("message_id", String(998), nullable=False),
    Column("raw", LargeBinary, nullable=False),
    Column("status", String(20), nullable=False),  # pending | sent | failed
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text, nullable=True),
    Column("sent_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    UniqueConstraint("message_id"),
    Index("ix_outbound_messages_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    Index("ix_outbound_messages_case_id", "case_id"),
    Index("ix_outbound_messages_kind_primary_recipient_created_at", "kind", "primary_recipient", "created_at"),
)

# Moves with every change of mailboxes (kit.config_version triggers), so each process's cache
# checks it cheaply.
config_version = config_version_table(metadata)
