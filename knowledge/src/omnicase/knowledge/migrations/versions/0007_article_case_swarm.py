"""knowledge: an article captured with a swarm's outcome (collaboration) names the swarm on its link to the case.

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

S = "knowledge"


def upgrade() -> None:
    op.add_column("article_cases", sa.Column("swarm_id", sa.Uuid, nullable=True), schema=S)


def downgrade() -> None:
    op.drop_column("article_cases", "swarm_id", schema=S)
