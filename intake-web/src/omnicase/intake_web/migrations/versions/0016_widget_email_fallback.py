"""intake-web: the chat widget's email fallback (issue 23): the visitor's address and the widget's delay on the
conversation, how far its open sockets and streams have carried it, and each agent reply's mail, when due and
when asked for.

Revision ID: 0016
Revises: 0015
"""

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

SCHEMA = "intake_web"


def upgrade() -> None:
    op.add_column(
        "widget_conversations",
        sa.Column("visitor_email", sa.String(320), comment="The address the visitor gave (pre-chat form, away)."),
        schema=SCHEMA,
    )
    op.add_column("widget_conversations", sa.Column("visitor_name", sa.String(200)), schema=SCHEMA)
    op.add_column(
        "widget_conversations",
        sa.Column(
            "email_after_seconds",
            sa.Integer,
            comment="The widget's delay before an unread reply goes by email (none: never), as of the last message.",
        ),
        schema=SCHEMA,
    )
    op.add_column(
        "widget_conversations",
        sa.Column(
            "visitor_seen_seq",
            sa.Integer,
            nullable=False,
            server_default=sa.text("0"),
            comment="The last entry an open socket or event stream of the visitor's carried.",
        ),
        schema=SCHEMA,
    )
    op.add_column(
        "widget_entries",
        sa.Column("email_due_at", sa.DateTime(timezone=True), comment="An agent reply's mail, if still unread then."),
        schema=SCHEMA,
    )
    op.add_column(
        "widget_entries",
        sa.Column("emailed_at", sa.DateTime(timezone=True), comment="When its mail was asked of case-core."),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_widget_entries_email_due",
        "widget_entries",
        ["email_due_at"],
        schema=SCHEMA,
        postgresql_where=sa.text("email_due_at IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_widget_entries_email_due", "widget_entries", schema=SCHEMA)
    for table, column in (
        ("widget_entries", "emailed_at"),
        ("widget_entries", "email_due_at"),
        ("widget_conversations", "visitor_seen_seq"),
        ("widget_conversations", "email_after_seconds"),
        ("widget_conversations", "visitor_name"),
        ("widget_conversations", "visitor_email"),
    ):
        op.drop_column(table, column, schema=SCHEMA)
