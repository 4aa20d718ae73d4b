"""collaboration: Slack users mapped to Omnicase agents (found by the email routing has for an agent).

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

S = "collaboration"


def upgrade() -> None:
    op.create_table(
        "slack_users",
        sa.Column("slack_user_id", sa.String(50)),
        sa.Column("user_id", sa.Uuid, nullable=False),
        sa.Column("name", sa.String(200), nullable=True),
        sa.Column("mapped_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("slack_user_id", name="pk_slack_users"),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("slack_users", schema=S)
