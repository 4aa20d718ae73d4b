"""knowledge: an article's files (their bytes in the suite's blob store, by sha256).

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

S = "knowledge"


def upgrade() -> None:
    op.create_table(
        "article_attachments",
        sa.Column("article_id", sa.Uuid),
        sa.Column("sha256", sa.String(64)),
        sa.Column("filename", sa.String(255), nullable=False),
        sa.Column("content_type", sa.String(255), nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("uploaded_by", sa.String(200), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("article_id", "sha256", name="pk_article_attachments"),
        sa.ForeignKeyConstraint(
            ["article_id"],
            [f"{S}.articles.id"],
            name="fk_article_attachments_article_id_articles",
            ondelete="CASCADE",
        ),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("article_attachments", schema=S)
