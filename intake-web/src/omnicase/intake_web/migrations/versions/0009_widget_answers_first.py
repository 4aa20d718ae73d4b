"""intake-web: the chat widget's answers first (the conversation's case, its suggested articles).

Revision ID: 0009
Revises: 0008
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("widget_conversations", sa.Column("case_id", sa.Uuid), schema="intake_web")
    op.add_column(
        "widget_conversations",
        sa.Column("answers_first", sa.Boolean, nullable=False, server_default=sa.text("false")),
        schema="intake_web",
    )
    op.add_column("widget_conversations", sa.Column("answers", sa.String(16)), schema="intake_web")
    op.create_index(
        "ix_widget_conversations_answers_wanted",
        "widget_conversations",
        ["updated_at"],
        schema="intake_web",
        postgresql_where=sa.text("answers = 'wanted'"),
    )
    op.add_column(
        "widget_entries",
        sa.Column("data", JSONB, comment="An articles entry's suggested articles."),
        schema="intake_web",
    )
    op.create_index("ix_widget_entries_intake_id", "widget_entries", ["intake_id"], schema="intake_web")


def downgrade() -> None:
    op.drop_index("ix_widget_entries_intake_id", table_name="widget_entries", schema="intake_web")
    op.drop_column("widget_entries", "data", schema="intake_web")
    op.drop_index("ix_widget_conversations_answers_wanted", table_name="widget_conversations", schema="intake_web")
    for column in ("answers", "answers_first", "case_id"):
        op.drop_column("widget_conversations", column, schema="intake_web")
