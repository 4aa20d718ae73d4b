"""reporting: swarms (collaboration's swarm.events) and each case's first swarm.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "reporting"
DIMENSIONS = ["channel", "brand", "group_id", "assignee_id", "priority"]
CREATED = [*DIMENSIONS]
SOLVED = [*DIMENSIONS, "resolution_seconds", "resolution_business_seconds", "public_replies", "reopen_count"]


def _indexes(created: list[str], solved: list[str]) -> None:
    op.drop_index("ix_cases_created_at", table_name="cases", schema=S)
    op.create_index("ix_cases_created_at", "cases", ["created_at"], schema=S, postgresql_include=created)
    op.drop_index("ix_cases_solved_at", table_name="cases", schema=S)
    op.create_index(
        "ix_cases_solved_at",
        "cases",
        ["solved_at"],
        schema=S,
        postgresql_include=solved,
        postgresql_where=sa.text("solved_at IS NOT NULL"),
    )


def upgrade() -> None:
    op.add_column("cases", sa.Column("swarmed_at", sa.DateTime(timezone=True), nullable=True), schema=S)
    op.create_table(
        "swarms",
        sa.Column("swarm_id", sa.Uuid),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("status", sa.String(10), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("members", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("posters", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("messages", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("channel", sa.String(20), nullable=True),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("group_id", sa.Uuid, nullable=True),
        sa.Column("assignee_id", sa.Uuid, nullable=True),
        sa.Column("priority", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("swarm_id", name="pk_swarms"),
        schema=S,
    )
    op.create_index("ix_swarms_case_id", "swarms", ["case_id"], schema=S)
    op.create_index(
        "ix_swarms_started_at",
        "swarms",
        ["started_at"],
        schema=S,
        postgresql_include=["members", "posters", *DIMENSIONS],
    )
    op.create_table(
        "swarm_members",
        sa.Column("swarm_id", sa.Uuid),
        sa.Column("member", sa.String(120)),
        sa.Column("posted", sa.Boolean, nullable=False, server_default=sa.text("false")),
        sa.PrimaryKeyConstraint("swarm_id", "member", name="pk_swarm_members"),
        schema=S,
    )
    _indexes([*CREATED, "solved_at", "swarmed_at"], [*SOLVED, "swarmed_at"])


def downgrade() -> None:
    _indexes(CREATED, SOLVED)
    op.drop_table("swarm_members", schema=S)
    op.drop_table("swarms", schema=S)
    op.drop_column("cases", "swarmed_at", schema=S)
