"""intake-email: a mailbox's auto-response may list suggested articles (issue 19).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "mailboxes",
        sa.Column("suggest_articles", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        schema="intake_email",
    )


def downgrade() -> None:
    op.drop_column("mailboxes", "suggest_articles", schema="intake_email")
