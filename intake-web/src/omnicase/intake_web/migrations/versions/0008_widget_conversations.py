"""intake-web: chat widget conversations and their transcripts; the two column comments of
``inbound_messages`` its models always declared (so the migrated schema matches them).

Revision ID: 0008
Revises: 0007
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

_COMMENTS = [
    ("source", sa.String(80), "form:<id> or channel:<id>"),
    ("event", JSONB(), "The MessageReceived data, republished as is."),
]


def upgrade() -> None:
    for column, type_, comment in _COMMENTS:
        op.alter_column("inbound_messages", column, existing_type=type_, comment=comment, schema="intake_web")
    op.create_table(
        "widget_conversations",
        sa.Column("id", sa.Uuid, nullable=False),
        sa.Column("channel_id", sa.Uuid, nullable=False),
        sa.Column("last_seq", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_widget_conversations"),
        schema="intake_web",
    )
    op.create_table(
        "widget_entries",
        sa.Column("conversation_id", sa.Uuid, nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("direction", sa.String(16), nullable=False, comment="visitor or agent"),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("author", sa.String(200)),
        sa.Column("client_id", sa.String(100), comment="The widget's idempotency key of a visitor message."),
        sa.Column("intake_id", sa.Uuid, comment="The inbound message a visitor's entry became."),
        sa.Column("outbound_id", sa.Uuid, comment="The reply an agent's entry is."),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["conversation_id"],
            ["intake_web.widget_conversations.id"],
            name="fk_widget_entries_conversation_id_widget_conversations",
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("conversation_id", "seq", name="pk_widget_entries"),
        sa.UniqueConstraint("conversation_id", "client_id", name="uq_widget_entries_conversation_id_client_id"),
        sa.UniqueConstraint("outbound_id", name="uq_widget_entries_outbound_id"),
        schema="intake_web",
    )


def downgrade() -> None:
    for column, type_, _ in _COMMENTS:
        op.alter_column("inbound_messages", column, existing_type=type_, comment=None, schema="intake_web")
    op.drop_table("widget_entries", schema="intake_web")
    op.drop_table("widget_conversations", schema="intake_web")
