"""case-core: a case's satisfaction rating (the requester's latest answer to its survey).

Revision ID: 0011
Revises: 0010

Frozen DDL (not generated from the live models at run time), so this revision
means the same thing forever.
"""

from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable without a default: adding it rewrites no row.
    op.execute("ALTER TABLE case_core.cases ADD COLUMN satisfaction JSONB")


def downgrade() -> None:
    op.execute("ALTER TABLE case_core.cases DROP COLUMN satisfaction")
