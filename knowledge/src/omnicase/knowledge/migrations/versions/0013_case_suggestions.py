"""knowledge: articles suggested for a case on case.created, for its agents; whether a brand
publishes anything (in a language) answered by an index, as it is asked for every new case.

Revision ID: 0013
Revises: 0012
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

S = "knowledge"


def upgrade() -> None:
    op.create_table(
        "case_suggestions",
        sa.Column("case_id", sa.Uuid),
        sa.Column("article_id", sa.Uuid),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("read_locale", sa.String(35), nullable=False),
        sa.Column("rank", sa.Integer, nullable=False),
        sa.Column("score", sa.Float, nullable=False),
        sa.Column("matched", ARRAY(sa.String(200)), nullable=False, server_default="{}"),
        sa.Column("suggested_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", "article_id", name="pk_case_suggestions"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            [f"{S}.articles.id"],
            name="fk_case_suggestions_article_id_articles",
            ondelete="CASCADE",
        ),
        schema=S,
    )
    op.create_index("ix_case_suggestions_article", "case_suggestions", ["article_id"], schema=S)
    op.create_index(
        "ix_translations_published",
        "translations",
        ["brand", "language"],
        schema=S,
        postgresql_where=sa.text("status = 'published'"),
    )


def downgrade() -> None:
    op.drop_index("ix_translations_published", table_name="translations", schema=S)
    op.drop_table("case_suggestions", schema=S)
