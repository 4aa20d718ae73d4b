"""intake-web: outbound calls (click-to-call): the case a call is placed from and the agent who placed it.

Revision ID: 0012
Revises: 0011
"""

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

SCHEMA = "intake_web"


def upgrade() -> None:
    op.alter_column("voice_calls", "intake_id", nullable=True, schema=SCHEMA)
    op.add_column("voice_calls", sa.Column("case_id", sa.Uuid), schema=SCHEMA)
    op.add_column("voice_calls", sa.Column("placed_by", sa.Uuid), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("voice_calls", "placed_by", schema=SCHEMA)
    op.drop_column("voice_calls", "case_id", schema=SCHEMA)
    op.execute(f"DELETE FROM {SCHEMA}.voice_calls WHERE intake_id IS NULL")
    op.alter_column("voice_calls", "intake_id", nullable=False, schema=SCHEMA)
