"""reporting: the read model (cases, status changes, open spans, SLA clocks, case policies, surveys).

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

S = "reporting"


def _at(name: str, nullable: bool = True) -> sa.Column:  # type: ignore[type-arg]
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("case_id", sa.Uuid),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("channel", sa.String(20), nullable=False),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("group_id", sa.Uuid, nullable=True),
        sa.Column("assignee_id", sa.Uuid, nullable=True),
        sa.Column("priority", sa.String(20), nullable=False),
        _at("created_at", nullable=False),
        _at("first_reply_at"),
        _at("solved_at"),
        sa.Column("reopen_count", sa.Integer, nullable=False, server_default=sa.text("0")),
        _at("last_reopened_at"),
        sa.Column("public_replies", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("first_reply_seconds", sa.Double, nullable=True),
        sa.Column("resolution_seconds", sa.Double, nullable=True),
        sa.Column("schedule_id", sa.Uuid, nullable=True),
        sa.Column("first_reply_business_seconds", sa.Double, nullable=True),
        sa.Column("resolution_business_seconds", sa.Double, nullable=True),
        sa.Column("business_stale", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.Column("rating", sa.String(10), nullable=True),
        sa.Column("rating_reason", sa.String(200), nullable=True),
        _at("rated_at"),
        sa.PrimaryKeyConstraint("case_id", name="pk_cases"),
        schema=S,
    )
    op.create_index("ix_cases_created_at", "cases", ["created_at"], schema=S)
    op.create_index("ix_cases_channel_created_at", "cases", ["channel", "created_at"], schema=S)
    op.create_index(
        "ix_cases_solved_at", "cases", ["solved_at"], schema=S, postgresql_where=sa.text("solved_at IS NOT NULL")
    )
    op.create_index(
        "ix_cases_first_reply_at",
        "cases",
        ["first_reply_at"],
        schema=S,
        postgresql_where=sa.text("first_reply_at IS NOT NULL"),
    )
    op.create_index(
        "ix_cases_business_stale", "cases", ["case_id"], schema=S, postgresql_where=sa.text("business_stale")
    )

    op.create_table(
        "status_changes",
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("kind", sa.String(10), nullable=False),
        _at("at", nullable=False),
        sa.PrimaryKeyConstraint("case_id", "version", name="pk_status_changes"),
        schema=S,
    )
    op.create_index("ix_status_changes_at", "status_changes", ["at", "kind"], schema=S)

    op.create_table(
        "open_spans",
        sa.Column("case_id", sa.Uuid, nullable=False),
        _at("opened_at", nullable=False),
        sa.Column("span", postgresql.TSTZRANGE, nullable=False),
        sa.PrimaryKeyConstraint("case_id", "opened_at", name="pk_open_spans"),
        schema=S,
    )
    op.create_index("ix_open_spans_span", "open_spans", ["span"], schema=S, postgresql_using="gist")

    op.create_table(
        "sla_clocks",
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("milestone", sa.String(30), nullable=False),
        sa.Column("cycle", sa.Integer, nullable=False),
        sa.Column("policy_id", sa.Uuid, nullable=True),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("breached", sa.Boolean, nullable=False),
        _at("due_at"),
        _at("achieved_at"),
        _at("decided_at"),
        sa.PrimaryKeyConstraint("case_id", "milestone", "cycle", name="pk_sla_clocks"),
        schema=S,
    )
    op.create_index(
        "ix_sla_clocks_decided_at",
        "sla_clocks",
        ["decided_at"],
        schema=S,
        postgresql_where=sa.text("decided_at IS NOT NULL"),
    )

    op.create_table(
        "case_policies",
        sa.Column("case_id", sa.Uuid),
        sa.Column("policy_id", sa.Uuid, nullable=True),
        sa.Column("schedule_id", sa.Uuid, nullable=True),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_policies"),
        schema=S,
    )

    op.create_table(
        "surveys",
        sa.Column("survey_id", sa.Uuid),
        sa.Column("case_id", sa.Uuid, nullable=False),
        _at("sent_at"),
        sa.Column("rating", sa.String(10), nullable=True),
        _at("rated_at"),
        sa.PrimaryKeyConstraint("survey_id", name="pk_surveys"),
        schema=S,
    )
    op.create_index("ix_surveys_sent_at", "surveys", ["sent_at"], schema=S)
    op.create_index("ix_surveys_rated_at", "surveys", ["rated_at"], schema=S)


def downgrade() -> None:
    for table in ("surveys", "case_policies", "sla_clocks", "open_spans", "status_changes", "cases"):
        op.drop_table(table, schema=S)
