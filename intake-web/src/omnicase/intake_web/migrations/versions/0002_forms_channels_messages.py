"""intake-web: forms, channels, inbound messages, blobs, form rejections, rate windows, deliveries.

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

SCHEMA = "intake_web"


def upgrade() -> None:
    op.create_table(
        "forms",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("definition", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_forms"),
        schema=SCHEMA,
    )
    op.create_table(
        "channels",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean, nullable=False),
        sa.Column("config", JSONB, nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_channels"),
        schema=SCHEMA,
    )
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("source", sa.String(80), nullable=False),
        sa.Column("form_id", sa.Uuid),
        sa.Column("channel_id", sa.Uuid),
        sa.Column("dedupe_key", sa.String(200)),
        sa.Column("request_digest", sa.String(64)),
        sa.Column("event", JSONB, nullable=False),
        sa.Column("fields", JSONB, nullable=False),
        sa.Column("remote_ip", sa.String(64)),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("case_id", sa.Uuid),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True)),
        sa.Column("last_published_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("publish_count", sa.Integer, nullable=False, server_default=sa.text("1")),
        sa.Column("auto_response_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("id", name="pk_inbound_messages"),
        sa.UniqueConstraint("source", "dedupe_key", name="uq_inbound_messages_source_dedupe_key"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_inbound_messages_form_id_received_at",
        "inbound_messages",
        ["form_id", "received_at"],
        schema=SCHEMA,
    )
    op.create_index("ix_inbound_messages_channel_id_id", "inbound_messages", ["channel_id", "id"], schema=SCHEMA)
    op.create_index(
        "ix_inbound_messages_pending",
        "inbound_messages",
        ["last_published_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.BigInteger, nullable=False),
        sa.Column("data", sa.LargeBinary, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.PrimaryKeyConstraint("sha256", name="pk_blobs"),
        schema=SCHEMA,
    )
    op.create_table(
        "form_rejections",
        sa.Column("form_id", sa.Uuid, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("reason", sa.String(40), nullable=False),
        sa.Column("count", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("form_id", "day", "reason", name="pk_form_rejections"),
        sa.ForeignKeyConstraint(
            ["form_id"], [f"{SCHEMA}.forms.id"], name="fk_form_rejections_form_id_forms", ondelete="CASCADE"
        ),
        schema=SCHEMA,
    )
    op.create_table(
        "rate_windows",
        sa.Column("scope", sa.String(200), nullable=False),
        sa.Column("window_start", sa.DateTime(timezone=True), nullable=False),
        sa.Column("hits", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("scope", "window_start", name="pk_rate_windows"),
        schema=SCHEMA,
    )
    op.create_index("ix_rate_windows_window_start", "rate_windows", ["window_start"], schema=SCHEMA)
    op.create_table(
        "deliveries",
        sa.Column("outbound_id", sa.Uuid, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("channel_id", sa.Uuid),
        sa.Column("request", JSONB, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("attempts", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text),
        sa.Column("provider_message_id", sa.String(200)),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.PrimaryKeyConstraint("outbound_id", name="pk_deliveries"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_deliveries_due",
        "deliveries",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_deliveries_channel_id_outbound_id", "deliveries", ["channel_id", "outbound_id"], schema=SCHEMA)


def downgrade() -> None:
    op.drop_index("ix_deliveries_channel_id_outbound_id", table_name="deliveries", schema=SCHEMA)
    op.drop_index("ix_deliveries_due", table_name="deliveries", schema=SCHEMA)
    op.drop_table("deliveries", schema=SCHEMA)
    op.drop_index("ix_rate_windows_window_start", table_name="rate_windows", schema=SCHEMA)
    op.drop_table("rate_windows", schema=SCHEMA)
    op.drop_table("form_rejections", schema=SCHEMA)
    op.drop_table("blobs", schema=SCHEMA)
    op.drop_index("ix_inbound_messages_pending", table_name="inbound_messages", schema=SCHEMA)
    op.drop_index("ix_inbound_messages_channel_id_id", table_name="inbound_messages", schema=SCHEMA)
    op.drop_index("ix_inbound_messages_form_id_received_at", table_name="inbound_messages", schema=SCHEMA)
    op.drop_table("inbound_messages", schema=SCHEMA)
    op.drop_table("channels", schema=SCHEMA)
    op.drop_table("forms", schema=SCHEMA)
