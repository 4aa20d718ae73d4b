"""Tables of the ``routing`` schema (owned by routing alone).

``cases`` is routing's own projection of each case, rebuilt from the snapshots
case-core puts on every ``case.events`` event; routing never reads case-core's tables.
"""

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    ForeignKey,
    Identity,
    Index,
    Integer,
    SmallInteger,
    String,
    Table,
    Text,
    Uuid,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from omnicase.kit.columns import TIMESTAMP, id_column, timestamps, version_column
from omnicase.kit.config_version import config_version_table
from omnicase.kit.db import service_metadata
from omnicase.kit.inbox import inbox_table
from omnicase.kit.outbox import outbox_table

metadata = service_metadata("routing")
outbox = outbox_table(metadata)
inbox = inbox_table(metadata)

skills = Table(
    "skills",
    metadata,
    id_column(),
    Column("name", String(100), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=""),
    *timestamps(),
)

groups = Table(
    "groups",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False, server_default=""),
    Column("routing_model", String(20), nullable=False),
    # NULL: offers are accepted at once (auto-accept).
    Column("offer_timeout_seconds", Integer),
    Column("overflow_after_seconds", Integer),
    Column("overflow_group_id", Uuid, ForeignKey("routing.groups.id", ondelete="RESTRICT")),
    *timestamps(),
    CheckConstraint("routing_model IN ('best_available', 'round_robin', 'least_active')", name="routing_model"),
)

agents = Table(
    "agents",
    metadata,
    Column("user_id", Uuid, primary_key=True),
    Column("name", String(200), nullable=False),
    Column("email", String(320)),
    Column("languages", ARRAY(String(35)), nullable=False, server_default="{}"),
    Column("capacity", Integer, nullable=False),
    Column("used_capacity", Integer, nullable=False, server_default="0"),
    Column("active_cases", Integer, nullable=False, server_default="0"),
    Column("presence", String(10), nullable=False, server_default="offline"),
    Column("presence_reason", String(200)),
    Column("presence_changed_at", TIMESTAMP, nullable=False),
    Column("last_assigned_at", TIMESTAMP),
    *timestamps(),
    # Calls apart from presence and queues: available | busy (on voice_call_id, or wrapping up until
    # voice_wrap_up_until) | offline for calls. Only an agent available is offered a call's case.
    Column("voice_status", String(10), nullable=False, server_default="offline"),
    # What the agent last said (available | offline): where a call's end returns them.
    Column("voice_chosen", String(10), nullable=False, server_default="offline"),
    Column("voice_call_id", Uuid),
    Column("voice_wrap_up_seconds", Integer, nullable=False, server_default="0"),
    Column("voice_wrap_up_until", TIMESTAMP),
    Column("voice_status_changed_at", TIMESTAMP, nullable=False, server_default=text("now()")),
    CheckConstraint("presence IN ('online', 'away', 'offline')", name="presence"),
    CheckConstraint("capacity >= 0", name="capacity"),
    CheckConstraint("used_capacity >= 0", name="used_capacity"),
    CheckConstraint("voice_status IN ('available', 'busy', 'offline')", name="voice_status"),
    CheckConstraint("voice_chosen IN ('available', 'offline')", name="voice_chosen"),
    CheckConstraint("voice_wrap_up_seconds BETWEEN 0 AND 3600", name="voice_wrap_up_seconds"),
    Index(
        "ix_agents_voice_wrap_up_until", "voice_wrap_up_until", postgresql_where=text("voice_wrap_up_until IS NOT NULL")
    ),
    Index("ix_agents_voice_call_id", "voice_call_id", postgresql_where=text("voice_call_id IS NOT NULL")),
)

agent_skills = Table(
    "agent_skills",
    metadata,
    Column("agent_id", Uuid, ForeignKey("routing.agents.user_id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", Uuid, ForeignKey("routing.skills.id", ondelete="CASCADE"), primary_key=True, index=True),
    Column("level", SmallInteger, nullable=False),
    CheckConstraint("level BETWEEN 1 AND 10", name="level"),
)

group_members = Table(
    "group_members",
    metadata,
    Column("group_id", Uuid, ForeignKey("routing.groups.id", ondelete="CASCADE"), primary_key=True),
    Column("agent_id", Uuid, ForeignKey("routing.agents.user_id", ondelete="CASCADE"), primary_key=True, index=True),
    # Round-robin rotates on this, per queue.
    Column("last_offered_at", TIMESTAMP),
)

rules = Table(
    "rules",
    metadata,
    id_column(),
    Column("name", String(200), nullable=False),
    Column("position", Integer, nullable=False),
    Column("enabled", Boolean, nullable=False, server_default="true"),
    Column("conditions", JSONB, nullable=False),
    Column("target_group_id", Uuid, ForeignKey("routing.groups.id", ondelete="RESTRICT"), nullable=False, index=True),
    Column("require_language", Boolean, nullable=False, server_default="false"),
    *timestamps(),
    Index("ix_rules_position", "position", "id"),
)

rule_skills = Table(
    "rule_skills",
    metadata,
    Column("rule_id", Uuid, ForeignKey("routing.rules.id", ondelete="CASCADE"), primary_key=True),
    Column("skill_id", Uuid, ForeignKey("routing.skills.id", ondelete="RESTRICT"), primary_key=True, index=True),
    Column("min_level", SmallInteger, nullable=False),
    CheckConstraint("min_level BETWEEN 1 AND 10", name="min_level"),
)

cases = Table(
    "cases",
    metadata,
    Column("case_id", Uuid, primary_key=True),
    Column("number", BigInteger, nullable=False),
    version_column(),
    Column("subject", Text, nullable=False),
    Column("description", Text, nullable=False, server_default=""),
    Column("status", String(20), nullable=False),
    Column("priority", String(10), nullable=False),
    Column("priority_rank", SmallInteger, nullable=False),
    Column("channel", String(20), nullable=False),
    Column("type", String(100)),
    Column("brand", String(200)),
    Column("tags", ARRAY(String(200)), nullable=False, server_default="{}"),
    Column("custom_fields", JSONB, nullable=False, server_default="{}"),
    Column("organization_id", Uuid),
    Column("language", String(35)),
    Column("assignee_id", Uuid),
    Column("group_id", Uuid),
    # unrouted | waiting | offered | assigned | manual | closed
    Column("state", String(10), nullable=False),
    Column("rule_id", Uuid),
    Column("required_skills", JSONB, nullable=False, server_default="{}"),
    Column("require_language", Boolean, nullable=False, server_default="false"),
    Column("cost", SmallInteger, nullable=False),
    Column("queued_at", TIMESTAMP),
    Column("group_entered_at", TIMESTAMP),
    # The agent whose capacity this case holds (offered, assigned or manually assigned).
    Column("holder_id", Uuid),
    Column("holder_cost", SmallInteger, nullable=False, server_default="0"),
    Column("holder_since", TIMESTAMP),
    Column("updated_at", TIMESTAMP, nullable=False),
    Index(
        "ix_cases_waiting",
        "group_id",
        text("priority_rank DESC"),
        "queued_at",
        postgresql_where=text("state IN ('waiting', 'offered')"),
    ),
    Index("ix_cases_holder_id", "holder_id", postgresql_where=text("holder_id IS NOT NULL")),
)

offers = Table(
    "offers",
    metadata,
    id_column(),
    Column("case_id", Uuid, ForeignKey("routing.cases.case_id", ondelete="CASCADE"), nullable=False),
    Column("agent_id", Uuid, ForeignKey("routing.agents.user_id", ondelete="CASCADE"), nullable=False),
    Column("group_id", Uuid, nullable=False),
    # pending | accepted | declined | expired | revoked | completed
    Column("status", String(10), nullable=False),
    Column("cost", SmallInteger, nullable=False),
    Column("created_at", TIMESTAMP, nullable=False),
    Column("expires_at", TIMESTAMP),
    Column("decided_at", TIMESTAMP),
    Column("decline_reason", String(500)),
    Index("ix_offers_case_id", "case_id"),
    Index("ix_offers_agent_id_status", "agent_id", "status"),
    # The database itself refuses a second live offer for one case.
    Index(
        "uq_offers_live_case",
        "case_id",
        unique=True,
        postgresql_where=text("status IN ('pending', 'accepted')"),
    ),
)

decisions = Table(
    "decisions",
    metadata,
    Column("seq", BigInteger, Identity(), primary_key=True),
    Column("case_id", Uuid, nullable=False),
    Column("at", TIMESTAMP, nullable=False),
    Column("kind", String(20), nullable=False),
    Column("summary", Text, nullable=False),
    Column("rule_id", Uuid),
    Column("group_id", Uuid),
    Column("agent_id", Uuid),
    Column("details", JSONB, nullable=False, server_default="{}"),
    Index("ix_decisions_case_id_seq", "case_id", "seq"),
)

# Moves with every write to rules, rule_skills, groups or skills (kit.config_version triggers).
config_version = config_version_table(metadata)

timers = Table(
    "timers",
    metadata,
    id_column(),
    Column("kind", String(20), nullable=False),
    Column("case_id", Uuid, nullable=False, index=True),
    Column("offer_id", Uuid),
    Column("due_at", TIMESTAMP, nullable=False, index=True),
)
