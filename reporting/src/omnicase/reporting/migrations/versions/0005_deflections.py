"""reporting: knowledge's deflections (``article.deflected`` on knowledge.events).

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "reporting"
DIMENSIONS = ["channel", "brand", "group_id", "assignee_id", "priority"]


def upgrade() -> None:
    op.create_table(
        "deflections",
        sa.Column("suggestion_id", sa.Uuid),
        sa.Column("article_id", sa.Uuid, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=True),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("deflected_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("channel", sa.String(20), nullable=True),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("group_id", sa.Uuid, nullable=True),
        sa.Column("assignee_id", sa.Uuid, nullable=True),
        sa.Column("priority", sa.String(20), nullable=True),
        sa.PrimaryKeyConstraint("suggestion_id", name="pk_deflections"),
        schema=S,
    )
    op.create_index("ix_deflections_case_id", "deflections", ["case_id"], schema=S)
    op.create_index(
        "ix_deflections_deflected_at",
        "deflections",
        ["deflected_at"],
        schema=S,
        postgresql_include=["case_id", *DIMENSIONS],
    )


def downgrade() -> None:
    op.drop_table("deflections", schema=S)
