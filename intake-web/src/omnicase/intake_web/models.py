"""Tables of the ``intake_web`` schema (owned by intake-web alone)."""

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

from omnicase.kit.columns import id_column, timestamps, version_column
from omnicase.kit.config_version import config_version_table
from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table

metadata = service_metadata("intake_web")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

forms = Table(
    "forms",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False),
    # The whole definition (fields, defaults, spam, limits) as validated by FormDefinition.
    Column("definition", JSONB, nullable=False),
    version_column(),
    *timestamps(),
)

channels = Table(
    "channels",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("config", JSONB, nullable=False),
    version_column(),
    *timestamps(),
)

# Voice channels (a Twilio-compatible telephony provider): numbers, greeting, voicemail; the
# provider's auth token sealed in ``config.settings`` as the messaging channels' secrets are.
voice_channels = Table(
    "voice_channels",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("enabled", Boolean, nullable=False),
    Column("config", JSONB, nullable=False),
    version_column(),
    *timestamps(),
)

# One row per provider call (CallSid), brought up to date by each of its signed callbacks.
voice_calls = Table(
    "voice_calls",
    metadata,
    id_column(),
    Column("channel_id", Uuid, nullable=False),
    Column("call_sid", String(64), nullable=False),
    Column("direction", String(16), nullable=False),
    Column("from_number", String(32), nullable=False),
    Column("to_number", String(32), nullable=False),
    Column("status", String(20), nullable=False),
    Column("duration_seconds", Integer),
    Column("recording_url", Text),
    Column("transcription", Text),
    Column("intake_id", Uuid, comment="The inbound message that opened or joined its case."),
    Column("case_id", Uuid),  # the case an outbound call was placed from
    Column("placed_by", Uuid),  # the agent user id who placed an outbound call
    Column("answered_by", Uuid),  # the agent user id the call was connected to
    Column("answered_at", DateTime(timezone=True)),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # A callback (issue 25): the caller left a voicemail or pressed 1 on hold; its case tagged once
    # known; completed by an answered click-to-call from that case (the outbound call's id).
    Column("callback_requested_at", DateTime(timezone=True)),
    Column("callback_tagged", Boolean, nullable=False, server_default=text("false")),
    Column("callback_completed_at", DateTime(timezone=True)),
    Column("callback_completed_by", Uuid),
    UniqueConstraint("channel_id", "call_sid"),
    Index("ix_voice_calls_channel_id_id", "channel_id", "id"),
    Index("ix_voice_calls_intake_id", "intake_id"),
    Index(
        "ix_voice_calls_open_callbacks",
        "intake_id",
        postgresql_where=text("callback_requested_at IS NOT NULL AND callback_completed_at IS NULL"),
    ),
)

# Every inbound message this service accepted (form submissions and channel webhooks),
# kept until case-core acknowledges it (end-to-end acknowledgement).
inbound_messages = Table(
    "inbound_messages",
    metadata,
    id_column(),
    Column("source", String(80), nullable=False, comment="form:<id>, channel:<id> or voice:<id>"),
    Column("form_id", Uuid),
    Column("channel_id", Uuid),
    Column("dedupe_key", String(200)),
    Column("request_digest", String(64)),
    Column("event", JSONB, nullable=False, comment="The MessageReceived data, republished as is."),
    Column("fields", JSONB, nullable=False),
    Column("remote_ip", String(64)),
    Column("received_at", DateTime(timezone=True), nullable=False),
    # pending -> acknowledged (case_id); or held (spam) until staff recover it from case-core's
    # suspended-messages queue; case-core keeping it sets acknowledged_at alone.
    Column("status", String(16), nullable=False),
    Column("hold_reason", String(20)),
    Column("hold_detail", Text),
    Column("case_id", Uuid),
    Column("acknowledged_at", DateTime(timezone=True)),
    Column("last_published_at", DateTime(timezone=True), nullable=False),
    Column("publish_count", Integer, nullable=False, server_default=text("1")),
    Column("auto_response_at", DateTime(timezone=True)),
    UniqueConstraint("source", "dedupe_key"),
    Index("ix_inbound_messages_form_id_received_at", "form_id", "received_at"),
    Index("ix_inbound_messages_channel_id_id", "channel_id", "id"),
    Index(
        "ix_inbound_messages_pending",
        "last_published_at",
        postgresql_where=text("status = 'pending'"),
    ),
    Index(
        "ix_inbound_messages_held_unacknowledged",
        "last_published_at",
        postgresql_where=text("status = 'held' AND acknowledged_at IS NULL"),
    ),
)

# Refused submissions per form, day (UTC) and reason: what the form's admin sees blocked.
form_rejections = Table(
    "form_rejections",
    metadata,
    Column("form_id", Uuid, ForeignKey("intake_web.forms.id", ondelete="CASCADE"), nullable=False),
    Column("day", Date, nullable=False),
    Column("reason", String(40), nullable=False),
    Column("count", Integer, nullable=False),
    PrimaryKeyConstraint("form_id", "day", "reason"),
)

# Submissions each form accepted per UTC day: the daily cap's counter, incremented in the
# transaction that stores a submission (so concurrent posts never both pass the cap).
# No foreign key: a key check would share-lock the form row on every submission.
form_day_counts = Table(
    "form_day_counts",
    metadata,
    Column("form_id", Uuid, nullable=False),
    Column("day", Date, nullable=False),
    Column("accepted", Integer, nullable=False),
    PrimaryKeyConstraint("form_id", "day"),
)

# Fixed-window counters shared by every replica (per-IP and per-form rate limits).
rate_windows = Table(
    "rate_windows",
    metadata,
    Column("scope", String(200), nullable=False),
    Column("window_start", DateTime(timezone=True), nullable=False),
    Column("hits", Integer, nullable=False),
    PrimaryKeyConstraint("scope", "window_start"),
    Index("ix_rate_windows_window_start", "window_start"),
)

# Outbound messages to deliver through a provider's HTTP API, and what became of them.
deliveries = Table(
    "deliveries",
    metadata,
    Column("outbound_id", Uuid, primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("channel_id", Uuid),
    Column("request", JSONB, nullable=False),
    Column("status", String(16), nullable=False),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_error", Text),
    Column("provider_message_id", String(200)),
    # SMS: the encoding and the SMS the reply costs; parts already sent when split into messages here.
    Column("sms_encoding", String(8)),
    Column("sms_segments", Integer),
    Column("parts_sent", Integer, nullable=False, server_default=text("0")),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True)),
    Index("ix_deliveries_due", "next_attempt_at", postgresql_where=text("status = 'pending'")),
    Index("ix_deliveries_channel_id_outbound_id", "channel_id", "outbound_id"),
)

# Chat widget conversations (a widget channel's visitors): created by the first message, their
# entries numbered in order under the conversation's row lock, so a stream reading "after N"
# never skips an entry committed late.
widget_conversations = Table(
    "widget_conversations",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("channel_id", Uuid, nullable=False),
    Column("last_seq", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    # The case its first message opened, once case-core said so.
    Column("case_id", Uuid),
    # Answers first: wanted (once the case exists) -> shown or none -> answered or handed_over.
    Column("answers_first", Boolean, nullable=False, server_default=text("false")),
    Column("answers", String(16)),
    # Read receipts and typing indicators, both ways: each side's last entry read and last "typing".
    Column(
        "visitor_read_seq",
        Integer,
        nullable=False,
        server_default=text("0"),
        comment="The last entry the visitor has read.",
    ),
    Column(
        "agent_read_seq", Integer, nullable=False, server_default=text("0"), comment="The last entry the desk has read."
    ),
    Column("visitor_typing_at", DateTime(timezone=True), comment="When the visitor last said they were typing."),
    Column("agent_typing_at", DateTime(timezone=True), comment="When an agent last said they were typing."),
    # The email fallback: a reply the visitor has neither been carried nor read within the delay is mailed.
    Column("visitor_email", String(320), comment="The address the visitor gave (pre-chat form, away)."),
    Column("visitor_name", String(200)),
    Column(
        "email_after_seconds",
        Integer,
        comment="The widget's delay before an unread reply goes by email (none: never), as of the last message.",
    ),
    Column(
        "visitor_seen_seq",
        Integer,
        nullable=False,
        server_default=text("0"),
        comment="The last entry an open socket or event stream of the visitor's carried.",
    ),
    Column(
        "held_until",
        DateTime(timezone=True),
        comment="Answers first: the visitor's messages are held from the desk until they ask for a person, "
        "or until then.",
    ),
    Index("ix_widget_conversations_answers_wanted", "updated_at", postgresql_where=text("answers = 'wanted'")),
    Index("ix_widget_conversations_held_until", "held_until", postgresql_where=text("held_until IS NOT NULL")),
)

# What the visitor and the desk said in a conversation, in order: the widget's transcript.
widget_entries = Table(
    "widget_entries",
    metadata,
    Column(
        "conversation_id", Uuid, ForeignKey("intake_web.widget_conversations.id", ondelete="CASCADE"), nullable=False
    ),
    Column("seq", Integer, nullable=False),
    Column("direction", String(16), nullable=False, comment="visitor or agent"),
    Column("text", Text, nullable=False),
    Column("author", String(200)),
    Column("client_id", String(100), comment="The widget's idempotency key of a visitor message."),
    Column("intake_id", Uuid, comment="The inbound message a visitor's entry became."),
    Column("outbound_id", Uuid, comment="The reply an agent's entry is."),
    Column("data", JSONB, comment="An articles entry's suggested articles."),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("email_due_at", DateTime(timezone=True), comment="An agent reply's mail, if still unread then."),
    Column("emailed_at", DateTime(timezone=True), comment="When its mail was asked of case-core."),
    Column("held", JSONB, comment="A visitor message held back (answers first): its intake message's parts."),
    PrimaryKeyConstraint("conversation_id", "seq"),
    UniqueConstraint("conversation_id", "client_id"),
    UniqueConstraint("outbound_id"),
    Index("ix_widget_entries_intake_id", "intake_id"),
    Index("ix_widget_entries_email_due", "email_due_at", postgresql_where=text("email_due_at IS NOT NULL")),
)

# Moves with every change of forms (kit.config_version triggers), so each process's cache
# checks it cheaply.
config_version = config_version_table(metadata)
