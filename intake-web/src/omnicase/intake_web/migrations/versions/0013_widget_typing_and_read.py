"""intake-web: the chat widget's typing indicators and read receipts, both ways (issue 23).

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

COLUMNS = (
    ("visitor_read_seq", sa.Integer, "The last entry the visitor has read."),
    ("agent_read_seq", sa.Integer, "The last entry the desk has read."),
)
TYPING = (
    ("visitor_typing_at", "When the visitor last said they were typing."),
    ("agent_typing_at", "When an agent last said they were typing."),
)


def upgrade() -> None:
    for name, kind, comment in COLUMNS:
        op.add_column(
            "widget_conversations",
            sa.Column(name, kind, nullable=False, server_default=sa.text("0"), comment=comment),
            schema="intake_web",
        )
    for name, comment in TYPING:
        op.add_column(
            "widget_conversations",
            sa.Column(name, sa.DateTime(timezone=True), comment=comment),
            schema="intake_web",
        )


def downgrade() -> None:
    for name in ("agent_typing_at", "visitor_typing_at", "agent_read_seq", "visitor_read_seq"):
        op.drop_column("widget_conversations", name, schema="intake_web")
