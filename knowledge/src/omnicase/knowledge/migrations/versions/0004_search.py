"""knowledge: search terms of each translation (tsvector) and trigram indexes (pg_trgm).

Revision ID: 0004
Revises: 0003

pg_trgm is a trusted extension (PostgreSQL 13+), so the database owner creates it; it goes
to ``public``, where other schemas may use it too, and stays on downgrade. Translations
written before this revision get empty terms: this revision shipped with the first articles.
"""

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import TSVECTOR

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "knowledge"


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm WITH SCHEMA public")
    op.add_column("translations", sa.Column("language", sa.String(8), nullable=False, server_default="en"), schema=S)
    op.add_column("translations", sa.Column("body_text", sa.Text, nullable=False, server_default=""), schema=S)
    op.add_column(
        "translations",
        sa.Column("search_vector", TSVECTOR, nullable=False, server_default=sa.text("''::tsvector")),
        schema=S,
    )
    for column in ("language", "body_text", "search_vector"):
        op.alter_column("translations", column, server_default=None, schema=S)
    op.create_index(
        "ix_translations_search_vector", "translations", ["search_vector"], postgresql_using="gin", schema=S
    )
    for name, column in (("ix_translations_title_trigrams", "title"), ("ix_translations_body_trigrams", "body_text")):
        op.create_index(
            name, "translations", [column], postgresql_using="gin", postgresql_ops={column: "gin_trgm_ops"}, schema=S
        )


def downgrade() -> None:
    for name in ("ix_translations_body_trigrams", "ix_translations_title_trigrams", "ix_translations_search_vector"):
        op.drop_index(name, table_name="translations", schema=S)
    for column in ("search_vector", "body_text", "language"):
        op.drop_column("translations", column, schema=S)
