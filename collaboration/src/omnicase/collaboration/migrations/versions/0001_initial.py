"""collaboration: schema with the kit's outbox and inbox.

Revision ID: 0001
Revises:
"""

from alembic import op

from omnicase.ops.migrations import create_kit_tables, drop_kit_tables

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    create_kit_tables(op.get_bind(), "collaboration")


def downgrade() -> None:
    drop_kit_tables(op.get_bind(), "collaboration")
