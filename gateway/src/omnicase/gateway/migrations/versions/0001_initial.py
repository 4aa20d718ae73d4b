"""gateway: its own schema (tables arrive with identity and tokens).

Revision ID: 0001
Revises:
"""

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass  # env.py creates the schema and the version table


def downgrade() -> None:
    pass
