"""intake-web: answers first hold a chat's question back (issue 23): until when a conversation holds its
visitor's messages from the desk, and what each held message's intake message is made of when handed over.

Revision ID: 0017
Revises: 0016
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

SCHEMA = "intake_web"


def upgrade() -> None:
    op.add_column(
        "widget_conversations",
        sa.Column(
            "held_until",
            sa.DateTime(timezone=True),
            comment="Answers first: the visitor's messages are held from the desk until they ask for a person, "
            "or until then.",
        ),
        schema=SCHEMA,
    )
    op.create_index(
        "ix_widget_conversations_held_until",
        "widget_conversations",
        ["held_until"],
        schema=SCHEMA,
        postgresql_where=sa.text("held_until IS NOT NULL"),
    )
    op.add_column(
        "widget_entries",
        sa.Column("held", JSONB, comment="A visitor message held back (answers first): its intake message's parts."),
        schema=SCHEMA,
    )


def downgrade() -> None:
    op.drop_column("widget_entries", "held", schema=SCHEMA)
    op.drop_index("ix_widget_conversations_held_until", table_name="widget_conversations", schema=SCHEMA)
    op.drop_column("widget_conversations", "held_until", schema=SCHEMA)
