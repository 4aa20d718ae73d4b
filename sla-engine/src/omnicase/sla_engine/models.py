"""Tables of the ``sla_engine`` schema (owned by sla-engine alone).

Configuration (schedules, policies, automations) keeps its nested parts as JSONB
validated by the API's pydantic models; the hot tables (``cases``, ``milestones``,
``timers``) are plain columns with the indexes the consumer and scheduler use.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
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

metadata = service_metadata("sla_engine")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

schedules = Table(
    "schedules",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("time_zone", String(64), nullable=False),
    Column("intervals", JSONB, nullable=False),
    Column("holidays", JSONB, nullable=False),
    *timestamps(),
)

policies = Table(
    "policies",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("conditions", JSONB, nullable=False),
    Column("targets", JSONB, nullable=False),
    Column("schedule_id", Uuid, ForeignKey("sla_engine.schedules.id"), nullable=True),
    Column("warning_percent", Integer, nullable=False),
    Column("escalations", JSONB, nullable=False),
    *timestamps(),
    Index("ix_policies_position", "position", "id"),
)

automations = Table(
    "automations",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("position", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("conditions", JSONB, nullable=False),
    Column("time_condition", JSONB, nullable=False),
    Column("schedule_id", Uuid, ForeignKey("sla_engine.schedules.id"), nullable=True),
    Column("actions", JSONB, nullable=False),
    *timestamps(),
    Index("ix_automations_position", "position", "id"),
)

# The projection of each case from case.events (never case-core's tables).
cases = Table(
    "cases",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    version_column(),
    Column("snapshot", JSONB, nullable=False),
    Column("status", String(20), nullable=False),
    Column("status_since", DateTime(timezone=True), nullable=False),
    Column("policy_id", Uuid, nullable=True),
    Column("last_agent_reply_at", DateTime(timezone=True), nullable=True),
    Column("last_customer_message_at", DateTime(timezone=True), nullable=True),
    *timestamps(),
)

milestones = Table(
    "milestones",
    metadata,
    id_column(),
    Column("case_id", Uuid, ForeignKey("sla_engine.cases.case_id", ondelete="CASCADE"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("cycle", Integer, nullable=False),
    Column("started_at", DateTime(timezone=True), nullable=False),
    # Closed running periods [[start, end], …] so elapsed time can be re-measured when
    # the policy switches between calendar and business hours.
    Column("segments", JSONB, nullable=False),
    Column("running_since", DateTime(timezone=True), nullable=True),
    Column("policy_id", Uuid, nullable=True),
    Column("target_seconds", Float, nullable=True),
    Column("business_hours", Boolean, nullable=False, server_default=text("false")),
    Column("schedule_id", Uuid, nullable=True),
    Column("warning_percent", Integer, nullable=True),
    Column("warn_at", DateTime(timezone=True), nullable=True),
    Column("due_at", DateTime(timezone=True), nullable=True),
    Column("achieved_at", DateTime(timezone=True), nullable=True),
    Column("achieved_seconds", Float, nullable=True),
    Column("cancelled_at", DateTime(timezone=True), nullable=True),
    Column("stopped_by_solve", Boolean, nullable=False, server_default=text("false")),
    Column("warned_at", DateTime(timezone=True), nullable=True),
    Column("breached_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("case_id", "kind", "cycle"),
    Index("ix_milestones_policy_achieved", "policy_id", "achieved_at"),
    Index("ix_milestones_policy_breached", "policy_id", "breached_at"),
)

timers = Table(
    "timers",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    # One timer per purpose (e.g. ``ms:<milestone>:breach``): rescheduling replaces it.
    Column("key", String(200), nullable=False, unique=True),
    Column("kind", String(32), nullable=False),
    Column("case_id", Uuid, nullable=True),
    Column("due_at", DateTime(timezone=True), nullable=False),
    Column("locked_until", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, server_default=text("0")),
    Column("payload", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    CheckConstraint("attempts >= 0", name="attempts_not_negative"),
    Index("ix_timers_due_at", "due_at", "id"),
    Index("ix_timers_case_id", "case_id"),
)

# Moves with every write to policies, automations or schedules (kit.config_version triggers).
config_version = config_version_table(metadata)

# Each automation fires at most once per case: the primary key is the guarantee.
automation_runs = Table(
    "automation_runs",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("automation_id", Uuid, primary_key=True),
    Column("fired_at", DateTime(timezone=True), nullable=False),
)
