"""knowledge: each translation's meaning vector for search's semantic half (pgvector, HNSW on cosine
distance), and the model that made it; null until a model is configured.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

S = "knowledge"


def upgrade() -> None:
    # pgvector is a trusted extension (0.8): the schema's owner may create it; the embedded
    # PostgreSQL and CloudNativePG's images ship it.
    op.execute("CREATE EXTENSION IF NOT EXISTS vector WITH SCHEMA public")
    op.execute(f"ALTER TABLE {S}.translations ADD COLUMN embedding public.vector(384)")
    op.add_column("translations", sa.Column("embedding_model", sa.String(64), nullable=True), schema=S)
    op.execute(
        f"CREATE INDEX ix_translations_embedding ON {S}.translations USING hnsw (embedding public.vector_cosine_ops)"
    )
    # What the backfill (search/backfill.py) has left to embed, found without reading the rest.
    op.create_index(
        "ix_translations_unembedded",
        "translations",
        ["article_id"],
        schema=S,
        postgresql_where=sa.text("embedding IS NULL AND status <> 'archived'"),
    )


def downgrade() -> None:
    op.drop_index("ix_translations_unembedded", "translations", schema=S)
    op.execute(f"DROP INDEX {S}.ix_translations_embedding")
    op.drop_column("translations", "embedding_model", schema=S)
    op.drop_column("translations", "embedding", schema=S)
