"""intake-web: SMS deliveries record their encoding, segments and the parts already sent.

Revision ID: 0003
Revises: 0002
"""

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SCHEMA = "intake_web"


def upgrade() -> None:
    op.add_column("deliveries", sa.Column("sms_encoding", sa.String(8)), schema=SCHEMA)
    op.add_column("deliveries", sa.Column("sms_segments", sa.Integer()), schema=SCHEMA)
    op.add_column(
        "deliveries", sa.Column("parts_sent", sa.Integer(), nullable=False, server_default=sa.text("0")), schema=SCHEMA
    )


def downgrade() -> None:
    for column in ("parts_sent", "sms_segments", "sms_encoding"):
        op.drop_column("deliveries", column, schema=SCHEMA)
