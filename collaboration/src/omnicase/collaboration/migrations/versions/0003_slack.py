"""collaboration: the Slack connection, Web API calls to make, events and signatures seen, swarms' threads.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "collaboration"


def upgrade() -> None:
    op.add_column("swarms", sa.Column("slack_channel", sa.String(50), nullable=True), schema=S)
    op.add_column("swarms", sa.Column("slack_thread_ts", sa.String(50), nullable=True), schema=S)
    op.create_index("ix_swarms_slack_thread", "swarms", ["slack_channel", "slack_thread_ts"], schema=S)
    op.create_table(
        "slack_connections",
        sa.Column("id", sa.String(16)),
        sa.Column("team_id", sa.String(50), nullable=False),
        sa.Column("channel_id", sa.String(50), nullable=False),
        sa.Column("api_url", sa.String(2000), nullable=False),
        sa.Column("bot_token", sa.Text, nullable=False),
        sa.Column("signing_secret", sa.Text, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slack_connections"),
        schema=S,
    )
    op.create_table(
        "slack_calls",
        sa.Column("id", sa.Uuid),
        sa.Column("swarm_id", sa.Uuid, nullable=False),
        sa.Column("method", sa.String(50), nullable=False),
        sa.Column("payload", JSONB, nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text, nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_slack_calls"),
        sa.ForeignKeyConstraint(
            ["swarm_id"], [f"{S}.swarms.id"], name="fk_slack_calls_swarm_id_swarms", ondelete="CASCADE"
        ),
        schema=S,
    )
    op.create_index(
        "ix_slack_calls_due", "slack_calls", ["due_at"], schema=S, postgresql_where=sa.text("due_at IS NOT NULL")
    )
    op.create_table(
        "slack_seen",
        sa.Column("key", sa.String(200)),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_slack_seen"),
        schema=S,
    )
    op.create_index("ix_slack_seen_seen_at", "slack_seen", ["seen_at"], schema=S)


def downgrade() -> None:
    op.drop_table("slack_seen", schema=S)
    op.drop_table("slack_calls", schema=S)
    op.drop_table("slack_connections", schema=S)
    op.drop_index("ix_swarms_slack_thread", "swarms", schema=S)
    op.drop_column("swarms", "slack_thread_ts", schema=S)
    op.drop_column("swarms", "slack_channel", schema=S)
