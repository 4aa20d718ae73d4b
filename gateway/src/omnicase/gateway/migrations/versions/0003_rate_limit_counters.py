"""gateway: rate-limit counters shared by every replica (UNLOGGED).

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "gateway"


def upgrade() -> None:
    op.create_table(
        "rate_limit_counters",
        sa.Column("key", sa.Text(), nullable=False),
        sa.Column("window_start", sa.BigInteger(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key", "window_start", name="pk_rate_limit_counters"),
        prefixes=["UNLOGGED"],
        schema=SCHEMA,
    )
    # Room on each page so the per-request increment is a HOT update (no index write).
    op.execute(f"ALTER TABLE {SCHEMA}.rate_limit_counters SET (fillfactor = 70)")


def downgrade() -> None:
    op.drop_table("rate_limit_counters", schema=SCHEMA)
