"""intake-email: mailboxes, raw messages, blobs, IMAP cursors, sender suspensions, outbound messages.

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

SCHEMA = "intake_email"


def upgrade() -> None:
    op.create_table(
        "mailboxes",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("address", sa.String(320), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=True),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("priority", sa.String(20), nullable=True),
        sa.Column("group_id", sa.Uuid(), nullable=True),
        sa.Column("case_type", sa.String(100), nullable=True),
        sa.Column("tags", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("auto_response", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("signature", sa.Text(), nullable=True),
        sa.Column("webhook_secret", sa.String(200), nullable=True),
        sa.Column("logo_url", sa.String(2000), nullable=True),
        sa.Column("verification_token", sa.String(64), nullable=True),
        sa.Column("verification_requested_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("verified_route", sa.String(20), nullable=True),
        sa.Column("verified_from", sa.String(320), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_mailboxes"),
        sa.UniqueConstraint("address", name="uq_mailboxes_address"),
        schema=SCHEMA,
    )
    op.create_table(
        "blobs",
        sa.Column("sha256", sa.String(64), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_blobs"),
        schema=SCHEMA,
    )
    op.create_table(
        "raw_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("mailbox_id", sa.Uuid(), nullable=False),
        sa.Column("route", sa.String(20), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("envelope_from", sa.String(320), nullable=True),
        sa.Column("envelope_to", postgresql.JSONB(), nullable=False),
        sa.Column("peer", sa.String(200), nullable=True),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("raw_sha256", sa.String(64), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=True),
        sa.Column("dedupe_key", sa.String(998), nullable=False),
        sa.Column("thread_key", sa.String(320), nullable=False),
        sa.Column("subject", sa.Text(), nullable=True),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("noise", sa.String(30), nullable=True),
        sa.Column("parse_errors", postgresql.JSONB(), server_default=sa.text("'[]'::jsonb"), nullable=False),
        sa.Column("event_data", postgresql.JSONB(), nullable=True),
        sa.Column("published_count", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("last_published_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("case_number", sa.Integer(), nullable=True),
        sa.Column("acknowledged_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("auto_responded_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            [f"{SCHEMA}.mailboxes.id"],
            name="fk_raw_messages_mailbox_id_mailboxes",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_raw_messages"),
        sa.UniqueConstraint("mailbox_id", "dedupe_key", name="uq_raw_messages_mailbox_id_dedupe_key"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_raw_messages_pending",
        "raw_messages",
        ["last_published_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index(
        "ix_raw_messages_thread_key_received_at", "raw_messages", ["thread_key", "received_at"], schema=SCHEMA
    )
    op.create_index("ix_raw_messages_case_id", "raw_messages", ["case_id"], schema=SCHEMA)
    op.create_index("ix_raw_messages_message_id", "raw_messages", ["message_id"], schema=SCHEMA)
    op.create_table(
        "imap_cursors",
        sa.Column("account", sa.String(700), nullable=False),
        sa.Column("uidvalidity", sa.BigInteger(), nullable=True),
        sa.Column("last_uid", sa.BigInteger(), server_default=sa.text("0"), nullable=False),
        sa.Column("lease_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("account", name="pk_imap_cursors"),
        schema=SCHEMA,
    )
    op.create_table(
        "sender_suspensions",
        sa.Column("sender", sa.String(320), nullable=False),
        sa.Column("suspended_until", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sender", name="pk_sender_suspensions"),
        schema=SCHEMA,
    )
    op.create_table(
        "outbound_messages",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("case_id", sa.Uuid(), nullable=True),
        sa.Column("mailbox_id", sa.Uuid(), nullable=True),
        sa.Column("intake_id", sa.Uuid(), nullable=True),
        sa.Column("kind", sa.String(20), nullable=False),
        sa.Column("mail_from", sa.String(320), nullable=False),
        sa.Column("primary_recipient", sa.String(320), nullable=False),
        sa.Column("recipients", postgresql.JSONB(), nullable=False),
        sa.Column("subject", sa.Text(), nullable=False),
        sa.Column("message_id", sa.String(998), nullable=False),
        sa.Column("raw", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(20), nullable=False),
        sa.Column("attempts", sa.Integer(), server_default=sa.text("0"), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["mailbox_id"],
            [f"{SCHEMA}.mailboxes.id"],
            name="fk_outbound_messages_mailbox_id_mailboxes",
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name="pk_outbound_messages"),
        sa.UniqueConstraint("message_id", name="uq_outbound_messages_message_id"),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_outbound_messages_due",
        "outbound_messages",
        ["next_attempt_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("status = 'pending'"),
    )
    op.create_index("ix_outbound_messages_case_id", "outbound_messages", ["case_id"], schema=SCHEMA)
    op.create_index(
        "ix_outbound_messages_kind_primary_recipient_created_at",
        "outbound_messages",
        ["kind", "primary_recipient", "created_at"],
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_table("outbound_messages", schema=SCHEMA)
    op.drop_table("sender_suspensions", schema=SCHEMA)
    op.drop_table("imap_cursors", schema=SCHEMA)
    op.drop_table("raw_messages", schema=SCHEMA)
    op.drop_table("blobs", schema=SCHEMA)
    op.drop_table("mailboxes", schema=SCHEMA)
