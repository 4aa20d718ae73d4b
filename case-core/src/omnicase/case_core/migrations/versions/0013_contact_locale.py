"""case-core: a contact's locale (the language to write to it in; issue 22).

Revision ID: 0013
Revises: 0012

Frozen DDL (not generated from the live models at run time), so this revision
means the same thing forever.
"""

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable without a default: adding it rewrites no row.
    op.execute("ALTER TABLE case_core.contacts ADD COLUMN locale VARCHAR(20)")


def downgrade() -> None:
    op.execute("ALTER TABLE case_core.contacts DROP COLUMN locale")
