"""reporting: phone calls (voice.events) for the call metrics (issue 25).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

S = "reporting"
DIMENSIONS = ["channel", "brand", "group_id", "assignee_id", "priority"]


def upgrade() -> None:
    op.create_table(
        "calls",
        sa.Column("call_id", sa.Uuid),
        sa.Column("channel_id", sa.Uuid, nullable=False),
        sa.Column("direction", sa.String(10), nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("wait_seconds", sa.Double, nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("end_status", sa.String(20), nullable=True),
        sa.Column("voicemail_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("callback_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("channel", sa.String(20), nullable=True),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("group_id", sa.Uuid, nullable=True),
        sa.Column("assignee_id", sa.Uuid, nullable=True),
        sa.Column("priority", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("call_id", name="pk_calls"),
        schema=S,
    )
    op.create_index(
        "ix_calls_started_at",
        "calls",
        ["started_at"],
        schema=S,
        postgresql_include=[
            "direction",
            "answered_at",
            "wait_seconds",
            "ended_at",
            "voicemail_at",
            "callback_at",
            *DIMENSIONS,
        ],
    )


def downgrade() -> None:
    op.drop_table("calls", schema=S)
