"""sla-engine: one-row configuration version, bumped with every configuration change.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

S = "sla_engine"


def upgrade() -> None:
    op.create_table(
        "config_version",
        sa.Column("id", sa.Integer, nullable=False),
        sa.Column("version", sa.BigInteger, nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_config_version"),
        sa.CheckConstraint("id = 1", name="ck_config_version_single_row"),
        schema=S,
    )
    op.execute(f"INSERT INTO {S}.config_version (id, version) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("config_version", schema=S)
