"""sla-engine: schedules, policies, automations, case projection, milestones, timers.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "sla_engine"


def _stamps() -> list[sa.Column[sa.DateTime]]:
    return [
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    ]


def upgrade() -> None:
    op.create_table(
        "schedules",
        sa.Column("id", sa.Uuid, primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("time_zone", sa.String(64), nullable=False),
        sa.Column("intervals", JSONB, nullable=False),
        sa.Column("holidays", JSONB, nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_schedules"),
        schema=S,
    )
    op.create_table(
        "policies",
        sa.Column("id", sa.Uuid),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("conditions", JSONB, nullable=False),
        sa.Column("targets", JSONB, nullable=False),
        sa.Column("schedule_id", sa.Uuid, nullable=True),
        sa.Column("warning_percent", sa.Integer, nullable=False),
        sa.Column("escalations", JSONB, nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_policies"),
        sa.ForeignKeyConstraint(["schedule_id"], [f"{S}.schedules.id"], name="fk_policies_schedule_id_schedules"),
        schema=S,
    )
    op.create_index("ix_policies_position", "policies", ["position", "id"], schema=S)
    op.create_table(
        "automations",
        sa.Column("id", sa.Uuid),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("position", sa.Integer, nullable=False),
        sa.Column("active", sa.Boolean, nullable=False),
        sa.Column("conditions", JSONB, nullable=False),
        sa.Column("time_condition", JSONB, nullable=False),
        sa.Column("schedule_id", sa.Uuid, nullable=True),
        sa.Column("actions", JSONB, nullable=False),
        *_stamps(),
        sa.PrimaryKeyConstraint("id", name="pk_automations"),
        sa.ForeignKeyConstraint(["schedule_id"], [f"{S}.schedules.id"], name="fk_automations_schedule_id_schedules"),
        schema=S,
    )
    op.create_index("ix_automations_position", "automations", ["position", "id"], schema=S)
    op.create_table(
        "cases",
        sa.Column("case_id", sa.Uuid),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("snapshot", JSONB, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("status_since", sa.DateTime(timezone=True), nullable=False),
        sa.Column("policy_id", sa.Uuid, nullable=True),
        sa.Column("last_agent_reply_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_customer_message_at", sa.DateTime(timezone=True), nullable=True),
        *_stamps(),
        sa.PrimaryKeyConstraint("case_id", name="pk_cases"),
        schema=S,
    )
    op.create_table(
        "milestones",
        sa.Column("id", sa.Uuid),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("segments", JSONB, nullable=False),
        sa.Column("running_since", sa.DateTime(timezone=True), nullable=True),
        sa.Column("policy_id", sa.Uuid, nullable=True),
        sa.Column("target_seconds", sa.Float, nullable=True),
        sa.Column("business_hours", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("schedule_id", sa.Uuid, nullable=True),
        sa.Column("warning_percent", sa.Integer, nullable=True),
        sa.Column("warn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("achieved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("achieved_seconds", sa.Float, nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("stopped_by_solve", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("warned_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("breached_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_milestones"),
        sa.ForeignKeyConstraint(
            ["case_id"], [f"{S}.cases.case_id"], name="fk_milestones_case_id_cases", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("case_id", "kind", "cycle", name="uq_milestones_case_id_kind_cycle"),
        schema=S,
    )
    op.create_index("ix_milestones_policy_achieved", "milestones", ["policy_id", "achieved_at"], schema=S)
    op.create_index("ix_milestones_policy_breached", "milestones", ["policy_id", "breached_at"], schema=S)
    op.create_table(
        "timers",
        sa.Column("id", sa.BigInteger, autoincrement=True),
        sa.Column("key", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=True),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("payload", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.PrimaryKeyConstraint("id", name="pk_timers"),
        sa.UniqueConstraint("key", name="uq_timers_key"),
        sa.CheckConstraint("attempts >= 0", name="ck_timers_attempts_not_negative"),
        schema=S,
    )
    op.create_index("ix_timers_due_at", "timers", ["due_at", "id"], schema=S)
    op.create_index("ix_timers_case_id", "timers", ["case_id"], schema=S)
    op.create_table(
        "automation_runs",
        sa.Column("case_id", sa.Uuid),
        sa.Column("automation_id", sa.Uuid),
        sa.Column("fired_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "automation_id", name="pk_automation_runs"),
        schema=S,
    )


def downgrade() -> None:
    for table in ("automation_runs", "timers", "milestones", "cases", "automations", "policies", "schedules"):
        op.drop_table(table, schema=S)
