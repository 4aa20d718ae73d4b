"""routing: each agent's voice status, apart from presence and queues (issue 25).

``voice_status``: ``available`` (offered calls), ``busy`` (on a call, ``voice_call_id``, or in the
wrap-up after one until ``voice_wrap_up_until``) or ``offline`` for calls; ``voice_chosen`` is what
the agent last said (available or offline), the status a call's end returns them to. Every agent starts
offline for calls, as they start offline: nobody is rung who did not say they take calls.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "routing"


def upgrade() -> None:
    op.add_column(
        "agents", sa.Column("voice_status", sa.String(10), nullable=False, server_default="offline"), schema=S
    )
    op.add_column(
        "agents", sa.Column("voice_chosen", sa.String(10), nullable=False, server_default="offline"), schema=S
    )
    op.add_column("agents", sa.Column("voice_call_id", sa.Uuid), schema=S)
    op.add_column(
        "agents", sa.Column("voice_wrap_up_seconds", sa.Integer, nullable=False, server_default="0"), schema=S
    )
    op.add_column("agents", sa.Column("voice_wrap_up_until", sa.DateTime(timezone=True)), schema=S)
    op.add_column(
        "agents",
        sa.Column("voice_status_changed_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        schema=S,
    )
    # op.f: the names are final (the naming convention would prefix them again).
    op.create_check_constraint(
        op.f("ck_agents_voice_status"), "agents", "voice_status IN ('available', 'busy', 'offline')", schema=S
    )
    op.create_check_constraint(
        op.f("ck_agents_voice_chosen"), "agents", "voice_chosen IN ('available', 'offline')", schema=S
    )
    op.create_check_constraint(
        op.f("ck_agents_voice_wrap_up_seconds"), "agents", "voice_wrap_up_seconds BETWEEN 0 AND 3600", schema=S
    )
    # The timer worker's due wrap-ups; the agents on a call, by call (voice.events name the call).
    op.create_index(
        "ix_agents_voice_wrap_up_until",
        "agents",
        ["voice_wrap_up_until"],
        schema=S,
        postgresql_where=sa.text("voice_wrap_up_until IS NOT NULL"),
    )
    op.create_index(
        "ix_agents_voice_call_id",
        "agents",
        ["voice_call_id"],
        schema=S,
        postgresql_where=sa.text("voice_call_id IS NOT NULL"),
    )


def downgrade() -> None:
    # The checks and indexes go with their columns.
    for column in (
        "voice_status_changed_at",
        "voice_wrap_up_until",
        "voice_wrap_up_seconds",
        "voice_call_id",
        "voice_status",
    ):
        op.drop_column("agents", column, schema=S)
