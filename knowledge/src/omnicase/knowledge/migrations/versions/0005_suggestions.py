"""knowledge: articles suggested for a case (auto-response links) and what became of each.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "knowledge"


def upgrade() -> None:
    op.create_table(
        "suggestions",
        sa.Column("id", sa.Uuid),
        sa.Column("case_id", sa.Uuid, nullable=False),
        sa.Column("article_id", sa.Uuid, nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("matched", ARRAY(sa.String(200)), nullable=False, server_default="{}"),
        sa.Column("suggested_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answer", sa.String(8), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_suggestions"),
        sa.ForeignKeyConstraint(
            ["article_id"], [f"{S}.articles.id"], name="fk_suggestions_article_id_articles", ondelete="CASCADE"
        ),
        sa.CheckConstraint("answer IN ('yes', 'no')", name="ck_suggestions_answer"),
        schema=S,
    )
    op.create_index("ix_suggestions_article", "suggestions", ["article_id"], schema=S)
    op.create_index("ix_suggestions_case", "suggestions", ["case_id"], schema=S)


def downgrade() -> None:
    op.drop_table("suggestions", schema=S)
