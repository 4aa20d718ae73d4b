"""knowledge: each translation's meaning vector for search's semantic half (pgvector), and the model
that made it; null until a model is configured. No vector index: search scans its scope's vectors
exactly (see the service's README).

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
    # Kept in the row (pgvector's type defaults to out of line, where a translation's vector often
    # ends up): search reads every vector of its scope, and fetching each from the TOAST table made
    # that scan 2.5 times slower (18 ms against 7 at 1,500 bench translations).
    op.execute(f"ALTER TABLE {S}.translations ALTER COLUMN embedding SET STORAGE MAIN")
    op.add_column("translations", sa.Column("embedding_model", sa.String(64), nullable=True), schema=S)
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
    op.drop_column("translations", "embedding_model", schema=S)
    op.drop_column("translations", "embedding", schema=S)
