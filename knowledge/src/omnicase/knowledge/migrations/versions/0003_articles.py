"""knowledge: articles, their translations per locale and the published versions of each.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import ARRAY

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "knowledge"


def upgrade() -> None:
    op.create_table(
        "articles",
        sa.Column("id", sa.Uuid),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("section_id", sa.Uuid, nullable=True),
        sa.Column("labels", ARRAY(sa.String(100)), nullable=False, server_default="{}"),
        sa.Column("created_by", sa.String(200), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("archived_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_articles"),
        sa.ForeignKeyConstraint(
            ["section_id"], [f"{S}.sections.id"], name="fk_articles_section_id_sections", ondelete="SET NULL"
        ),
        schema=S,
    )
    op.create_index("ix_articles_section", "articles", ["section_id"], schema=S)
    op.create_table(
        "translations",
        sa.Column("article_id", sa.Uuid, nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("body_html", sa.Text, nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(200), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("article_id", "locale", name="pk_translations"),
        sa.ForeignKeyConstraint(
            ["article_id"], [f"{S}.articles.id"], name="fk_translations_article_id_articles", ondelete="CASCADE"
        ),
        sa.CheckConstraint("status IN ('draft', 'published', 'archived')", name="ck_translations_status"),
        schema=S,
    )
    op.create_table(
        "versions",
        sa.Column("id", sa.Uuid),
        sa.Column("article_id", sa.Uuid, nullable=False),
        sa.Column("locale", sa.String(35), nullable=False),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("title", sa.String(300), nullable=False),
        sa.Column("body", sa.Text, nullable=False),
        sa.Column("author_id", sa.String(200), nullable=False),
        sa.Column("author_name", sa.String(200), nullable=True),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_versions"),
        sa.ForeignKeyConstraint(
            ["article_id"], [f"{S}.articles.id"], name="fk_versions_article_id_articles", ondelete="CASCADE"
        ),
        sa.UniqueConstraint("article_id", "locale", "version", name="uq_versions_article_id_locale_version"),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("versions", schema=S)
    op.drop_table("translations", schema=S)
    op.drop_table("articles", schema=S)
