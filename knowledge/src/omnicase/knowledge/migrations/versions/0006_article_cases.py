"""knowledge: articles linked to the cases they were captured from or helped solve.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = "knowledge"


def upgrade() -> None:
    op.create_table(
        "article_cases",
        sa.Column("article_id", sa.Uuid, nullable=False),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("relation", sa.String(16), nullable=False),
        sa.Column("linked_by", sa.String(200), nullable=False),
        sa.Column("linked_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "case_id", "relation", name="pk_article_cases"),
        sa.ForeignKeyConstraint(
            ["article_id"], [f"{S}.articles.id"], name="fk_article_cases_article_id_articles", ondelete="CASCADE"
        ),
        sa.CheckConstraint("relation IN ('captured', 'solved')", name="ck_article_cases_relation"),
        schema=S,
    )
    op.create_index("ix_article_cases_case", "article_cases", ["case_id"], schema=S)


def downgrade() -> None:
    op.drop_table("article_cases", schema=S)
