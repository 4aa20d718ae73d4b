"""intake-web: voice channels and their calls (and the comments the models give inbound messages' columns).

Revision ID: 0010
Revises: 0009
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

SCHEMA = "intake_web"


def upgrade() -> None:
    op.create_table(
        "voice_channels",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("config", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voice_channels"),
        schema=SCHEMA,
    )
    op.create_table(
        "voice_calls",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("channel_id", sa.Uuid, nullable=False),
        sa.Column("call_sid", sa.String(64), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("from_number", sa.String(32), nullable=False),
        sa.Column("to_number", sa.String(32), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("duration_seconds", sa.Integer),
        sa.Column("recording_url", sa.Text),
        sa.Column("transcription", sa.Text),
        sa.Column(
            "intake_id",
            sa.Uuid,
            nullable=False,
            comment="The inbound message that opened or joined its case.",
        ),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_voice_calls"),
        sa.UniqueConstraint("channel_id", "call_sid", name="uq_voice_calls_channel_id_call_sid"),
        schema=SCHEMA,
    )
    op.create_index("ix_voice_calls_channel_id_id", "voice_calls", ["channel_id", "id"], schema=SCHEMA)
    for column, kind, comment in (
        ("source", sa.String(80), "form:<id>, channel:<id> or voice:<id>"),
        ("event", JSONB, "The MessageReceived data, republished as is."),
    ):
        op.alter_column(
            "inbound_messages", column, existing_type=kind, existing_nullable=False, comment=comment, schema=SCHEMA
        )


def downgrade() -> None:
    for column, kind in (("source", sa.String(80)), ("event", JSONB)):
        op.alter_column(
            "inbound_messages", column, existing_type=kind, existing_nullable=False, comment=None, schema=SCHEMA
        )
    op.drop_table("voice_calls", schema=SCHEMA)
    op.drop_table("voice_channels", schema=SCHEMA)
