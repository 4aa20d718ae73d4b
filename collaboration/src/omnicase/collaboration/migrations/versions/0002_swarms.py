"""collaboration: the case projection, swarms, their members and messages.

Revision ID: 0002
Revises: 0001
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

S = "collaboration"


def upgrade() -> None:
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("subject", sa.String(1000), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("assignee_id", sa.Uuid, nullable=True),
        sa.Column("group_id", sa.Uuid, nullable=True),
        sa.Column("requester_id", sa.Uuid, nullable=True),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("solved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("solved_by", sa.Uuid, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        schema=S,
    )
    op.create_index("ix_cases_solved_by", "cases", ["solved_by"], schema=S)
    op.create_table(
        "swarms",
        sa.Column("id", sa.Uuid),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("started_by", sa.String(200), nullable=False),
        sa.Column("question", sa.Text, nullable=False),
        sa.Column("urgency", sa.String(16), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("outcome", sa.Text, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_swarms"),
        sa.ForeignKeyConstraint(["case_id"], [f"{S}.cases.id"], name="fk_swarms_case_id_cases"),
        sa.CheckConstraint("status IN ('open', 'resolved', 'abandoned')", name="ck_swarms_status"),
        sa.CheckConstraint("urgency IN ('low', 'normal', 'high', 'urgent')", name="ck_swarms_urgency"),
        schema=S,
    )
    op.create_index("ix_swarms_case", "swarms", ["case_id", "id"], schema=S)
    op.create_table(
        "swarm_members",
        sa.Column("swarm_id", sa.Uuid),
        sa.Column("member", sa.String(50)),
        sa.Column("added_by", sa.String(200), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("swarm_id", "member", name="pk_swarm_members"),
        sa.ForeignKeyConstraint(
            ["swarm_id"], [f"{S}.swarms.id"], name="fk_swarm_members_swarm_id_swarms", ondelete="CASCADE"
        ),
        schema=S,
    )
    op.create_table(
        "swarm_messages",
        sa.Column("id", sa.Uuid),
        sa.Column("swarm_id", sa.Uuid, nullable=False),
        sa.Column("author", sa.String(200), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=True),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("mentions", ARRAY(sa.String(50)), nullable=False, server_default="{}"),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("posted_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("promoted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("promoted_by", sa.String(200), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_swarm_messages"),
        sa.ForeignKeyConstraint(
            ["swarm_id"], [f"{S}.swarms.id"], name="fk_swarm_messages_swarm_id_swarms", ondelete="CASCADE"
        ),
        sa.CheckConstraint("source IN ('omnicase', 'slack')", name="ck_swarm_messages_source"),
        schema=S,
    )
    op.create_index("ix_swarm_messages_swarm", "swarm_messages", ["swarm_id", "id"], schema=S)


def downgrade() -> None:
    op.drop_table("swarm_messages", schema=S)
    op.drop_table("swarm_members", schema=S)
    op.drop_table("swarms", schema=S)
    op.drop_table("cases", schema=S)
