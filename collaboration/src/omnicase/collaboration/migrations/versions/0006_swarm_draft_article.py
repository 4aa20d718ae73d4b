"""collaboration: the draft article knowledge captured when a swarm was resolved.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = "collaboration"


def upgrade() -> None:
    op.add_column("swarms", sa.Column("draft_article_id", sa.Uuid, nullable=True), schema=S)


def downgrade() -> None:
    op.drop_column("swarms", "draft_article_id", schema=S)
