"""routing: skills, groups, agents, rules, case projection, offers, decisions, timers.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "routing"


def _ts() -> sa.DateTime:
    return sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "skills",
        sa.Column("id", sa.Uuid),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_skills"),
        sa.UniqueConstraint("name", name="uq_skills_name"),
        schema=S,
    )
    op.create_table(
        "groups",
        sa.Column("id", sa.Uuid),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("routing_model", sa.String(20), nullable=False),
        sa.Column("offer_timeout_seconds", sa.Integer),
        sa.Column("overflow_after_seconds", sa.Integer),
        sa.Column("overflow_group_id", sa.Uuid),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
        sa.UniqueConstraint("name", name="uq_groups_name"),
        sa.ForeignKeyConstraint(
            ["overflow_group_id"], [f"{S}.groups.id"], name="fk_groups_overflow_group_id_groups", ondelete="RESTRICT"
        ),
        sa.CheckConstraint(
            "routing_model IN ('best_available', 'round_robin', 'least_active')", name="ck_groups_routing_model"
        ),
        schema=S,
    )
    op.create_table(
        "agents",
        sa.Column("user_id", sa.Uuid),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("email", sa.String(320)),
        sa.Column("languages", postgresql.ARRAY(sa.String(35)), nullable=False, server_default="{}"),
        sa.Column("capacity", sa.Integer, nullable=False),
        sa.Column("used_capacity", sa.Integer, nullable=False, server_default="0"),
        sa.Column("active_cases", sa.Integer, nullable=False, server_default="0"),
        sa.Column("presence", sa.String(10), nullable=False, server_default="offline"),
        sa.Column("presence_reason", sa.String(200)),
        sa.Column("presence_changed_at", _ts(), nullable=False),
        sa.Column("last_assigned_at", _ts()),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("user_id", name="pk_agents"),
        sa.CheckConstraint("presence IN ('online', 'away', 'offline')", name="ck_agents_presence"),
        sa.CheckConstraint("capacity >= 0", name="ck_agents_capacity"),
        sa.CheckConstraint("used_capacity >= 0", name="ck_agents_used_capacity"),
        schema=S,
    )
    op.create_table(
        "agent_skills",
        sa.Column("agent_id", sa.Uuid, nullable=False),
        sa.Column("skill_id", sa.Uuid, nullable=False),
        sa.Column("level", sa.SmallInteger, nullable=False),
        sa.PrimaryKeyConstraint("agent_id", "skill_id", name="pk_agent_skills"),
        sa.ForeignKeyConstraint(
            ["agent_id"], [f"{S}.agents.user_id"], name="fk_agent_skills_agent_id_agents", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"], [f"{S}.skills.id"], name="fk_agent_skills_skill_id_skills", ondelete="CASCADE"
        ),
        sa.CheckConstraint("level BETWEEN 1 AND 10", name="ck_agent_skills_level"),
        schema=S,
    )
    op.create_index("ix_agent_skills_skill_id", "agent_skills", ["skill_id"], schema=S)
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.Uuid, nullable=False),
        sa.Column("agent_id", sa.Uuid, nullable=False),
        sa.Column("last_offered_at", _ts()),
        sa.PrimaryKeyConstraint("group_id", "agent_id", name="pk_group_members"),
        sa.ForeignKeyConstraint(
            ["group_id"], [f"{S}.groups.id"], name="fk_group_members_group_id_groups", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], [f"{S}.agents.user_id"], name="fk_group_members_agent_id_agents", ondelete="CASCADE"
        ),
        schema=S,
    )
    op.create_index("ix_group_members_agent_id", "group_members", ["agent_id"], schema=S)
    op.create_table(
        "rules",
        sa.Column("id", sa.Uuid),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False, server_default="true"),
        sa.Column("conditions", postgresql.JSONB, nullable=False),
        sa.Column("target_group_id", sa.Uuid, nullable=False),
        sa.Column("require_language", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_rules"),
        sa.ForeignKeyConstraint(
            ["target_group_id"], [f"{S}.groups.id"], name="fk_rules_target_group_id_groups", ondelete="RESTRICT"
        ),
        schema=S,
    )
    op.create_index("ix_rules_target_group_id", "rules", ["target_group_id"], schema=S)
    op.create_index("ix_rules_position", "rules", ["position", "id"], schema=S)
    op.create_table(
        "rule_skills",
        sa.Column("rule_id", sa.Uuid, nullable=False),
        sa.Column("skill_id", sa.Uuid, nullable=False),
        sa.Column("min_level", sa.SmallInteger, nullable=False),
        sa.PrimaryKeyConstraint("rule_id", "skill_id", name="pk_rule_skills"),
        sa.ForeignKeyConstraint(
            ["rule_id"], [f"{S}.rules.id"], name="fk_rule_skills_rule_id_rules", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["skill_id"], [f"{S}.skills.id"], name="fk_rule_skills_skill_id_skills", ondelete="RESTRICT"
        ),
        sa.CheckConstraint("min_level BETWEEN 1 AND 10", name="ck_rule_skills_min_level"),
        schema=S,
    )
    op.create_index("ix_rule_skills_skill_id", "rule_skills", ["skill_id"], schema=S)
    op.create_table(
        "cases",
        sa.Column("case_id", sa.Uuid),
        sa.Column("number", sa.BigInteger, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("subject", sa.Text, nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("priority", sa.String(10), nullable=False),
        sa.Column("priority_rank", sa.SmallInteger, nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("type", sa.String(100)),
        sa.Column("brand", sa.String(200)),
        sa.Column("tags", postgresql.ARRAY(sa.String(200)), nullable=False, server_default="{}"),
        sa.Column("custom_fields", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("organization_id", sa.Uuid),
        sa.Column("language", sa.String(35)),
        sa.Column("assignee_id", sa.Uuid),
        sa.Column("group_id", sa.Uuid),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("rule_id", sa.Uuid),
        sa.Column("required_skills", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.Column("require_language", sa.Boolean, nullable=False, server_default="false"),
        sa.Column("cost", sa.SmallInteger, nullable=False),
        sa.Column("queued_at", _ts()),
        sa.Column("group_entered_at", _ts()),
        sa.Column("holder_id", sa.Uuid),
        sa.Column("holder_cost", sa.SmallInteger, nullable=False, server_default="0"),
        sa.Column("holder_since", _ts()),
        sa.Column("updated_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_cases"),
        schema=S,
    )
    op.create_index(
        "ix_cases_waiting",
        "cases",
        ["group_id", sa.text("priority_rank DESC"), "queued_at"],
        schema=S,
        postgresql_where=sa.text("state IN ('waiting', 'offered')"),
    )
    op.create_index(
        "ix_cases_holder_id", "cases", ["holder_id"], schema=S, postgresql_where=sa.text("holder_id IS NOT NULL")
    )
    op.create_table(
        "offers",
        sa.Column("id", sa.Uuid),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("agent_id", sa.Uuid, nullable=False),
        sa.Column("group_id", sa.Uuid, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("cost", sa.SmallInteger, nullable=False),
        sa.Column("created_at", _ts(), nullable=False),
        sa.Column("expires_at", _ts()),
        sa.Column("decided_at", _ts()),
        sa.Column("decline_reason", sa.String(500)),
        sa.PrimaryKeyConstraint("id", name="pk_offers"),
        sa.ForeignKeyConstraint(
            ["case_id"], [f"{S}.cases.case_id"], name="fk_offers_case_id_cases", ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["agent_id"], [f"{S}.agents.user_id"], name="fk_offers_agent_id_agents", ondelete="CASCADE"
        ),
        schema=S,
    )
    op.create_index("ix_offers_case_id", "offers", ["case_id"], schema=S)
    op.create_index("ix_offers_agent_id_status", "offers", ["agent_id", "status"], schema=S)
    op.create_index(
        "uq_offers_live_case",
        "offers",
        ["case_id"],
        unique=True,
        schema=S,
        postgresql_where=sa.text("status IN ('pending', 'accepted')"),
    )
    op.create_table(
        "decisions",
        sa.Column("seq", sa.BigInteger, sa.Identity()),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("at", _ts(), nullable=False),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("summary", sa.Text, nullable=False),
        sa.Column("rule_id", sa.Uuid),
        sa.Column("group_id", sa.Uuid),
        sa.Column("agent_id", sa.Uuid),
        sa.Column("details", postgresql.JSONB, nullable=False, server_default="{}"),
        sa.PrimaryKeyConstraint("seq", name="pk_decisions"),
        schema=S,
    )
    op.create_index("ix_decisions_case_id_seq", "decisions", ["case_id", "seq"], schema=S)
    op.create_table(
        "timers",
        sa.Column("id", sa.Uuid),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("offer_id", sa.Uuid),
        sa.Column("due_at", _ts(), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_timers"),
        schema=S,
    )
    op.create_index("ix_timers_case_id", "timers", ["case_id"], schema=S)
    op.create_index("ix_timers_due_at", "timers", ["due_at"], schema=S)


def downgrade() -> None:
    for table in (
        "timers",
        "decisions",
        "offers",
        "cases",
        "rule_skills",
        "rules",
        "group_members",
        "agent_skills",
        "agents",
        "groups",
        "skills",
    ):
        op.drop_table(table, schema=S)
