"""Tables of the ``collaboration`` schema (owned by collaboration alone)."""

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    Uuid,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table

metadata = service_metadata("collaboration")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

swarms = Table(
    "swarms",
    metadata,
    Column("id", Uuid, primary_key=True),
    # case-core's case (read through its API; no table of cases here).
    Column("case_id", Uuid, nullable=False),
    Column("started_by", String(200), nullable=False),
    Column("question", Text, nullable=False),
    Column("urgency", String(16), nullable=False),
    Column("status", String(16), nullable=False),
    Column("outcome", Text, nullable=True),
    Column("started_at", DateTime(timezone=True), nullable=False),
    Column("ended_at", DateTime(timezone=True), nullable=True),
    Column("ended_by", String(200), nullable=True),
    # The Slack thread the swarm talks in (slack/): its channel and the ts of its first message.
    Column("slack_channel", String(50), nullable=True),
    Column("slack_thread_ts", String(50), nullable=True),
    # The draft article knowledge captured from the case and the outcome when the swarm was resolved.
    Column("draft_article_id", Uuid, nullable=True),
    CheckConstraint("status IN ('open', 'resolved', 'abandoned')", name="status"),
    CheckConstraint("urgency IN ('low', 'normal', 'high', 'urgent')", name="urgency"),
    Index("ix_swarms_case", "case_id", "id"),
    Index("ix_swarms_slack_thread", "slack_channel", "slack_thread_ts"),
)

# ``member`` is user:<id> (an agent) or group:<id>.
swarm_members = Table(
    "swarm_members",
    metadata,
    Column("swarm_id", Uuid, ForeignKey("collaboration.swarms.id", ondelete="CASCADE"), primary_key=True),
    Column("member", String(50), primary_key=True),
    Column("added_by", String(200), nullable=False),
    Column("joined_at", DateTime(timezone=True), nullable=False),
)

swarm_messages = Table(
    "swarm_messages",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("swarm_id", Uuid, ForeignKey("collaboration.swarms.id", ondelete="CASCADE"), nullable=False),
    Column("author", String(200), nullable=False),
    Column("author_name", String(200), nullable=True),
    Column("text", Text, nullable=False),
    Column("mentions", ARRAY(String(50)), nullable=False, server_default="{}"),
    Column("source", String(16), nullable=False),
    Column("posted_at", DateTime(timezone=True), nullable=False),
    Column("promoted_at", DateTime(timezone=True), nullable=True),
    Column("promoted_by", String(200), nullable=True),
    CheckConstraint("source IN ('omnicase', 'slack')", name="source"),
    Index("ix_swarm_messages_swarm", "swarm_id", "id"),
)

# Files attached to a swarm message, in order; the bytes are in the kit's blob store (by sha256).
swarm_message_attachments = Table(
    "swarm_message_attachments",
    metadata,
    Column("message_id", Uuid, ForeignKey("collaboration.swarm_messages.id", ondelete="CASCADE"), primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("swarm_id", Uuid, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", BigInteger, nullable=False),
    Index("ix_swarm_message_attachments_swarm_sha256", "swarm_id", "sha256"),
)

# The suite's Slack workspace (one): where swarm threads open, the Web API's base URL, and the bot
# token and signing secret sealed by the kit's master keys (slack/secrets.py), never shown again.
slack_connections = Table(
    "slack_connections",
    metadata,
    Column("id", String(16), primary_key=True),
    Column("team_id", String(50), nullable=False),
    Column("channel_id", String(50), nullable=False),
    Column("api_url", String(2000), nullable=False),
    Column("bot_token", Text, nullable=False),
    Column("signing_secret", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Calls to Slack's Web API still to make, tried again with the kit's backoff until they succeed
# or run out of attempts (a worker claims due ones with SKIP LOCKED).
slack_calls = Table(
    "slack_calls",
    metadata,
    Column("id", Uuid, primary_key=True),
    Column("swarm_id", Uuid, ForeignKey("collaboration.swarms.id", ondelete="CASCADE"), nullable=False),
    Column("method", String(50), nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("last_error", Text, nullable=True),
    Column("done_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Index("ix_slack_calls_due", "due_at", postgresql_where="due_at IS NOT NULL"),
)

# What the Events API endpoint has seen within Slack's five-minute window: ``event:<event id>``
# (a retry is answered without acting twice) and ``signature:<v0=…>`` (a replayed request is refused).
slack_seen = Table(
    "slack_seen",
    metadata,
    Column("key", String(200), primary_key=True),
    Column("seen_at", DateTime(timezone=True), nullable=False),
    Index("ix_slack_seen_seen_at", "seen_at"),
)

# Slack users as the agents they are: users.lookupByEmail with the address routing has for an agent
# (when the agent is invited into a swarm's channel) tells which Slack user they are, so what they
# write in Slack is theirs in Omnicase.
slack_users = Table(
    "slack_users",
    metadata,
    Column("slack_user_id", String(50), primary_key=True),
    Column("user_id", Uuid, nullable=False),
    Column("name", String(200), nullable=True),
    Column("mapped_at", DateTime(timezone=True), nullable=False),
)
