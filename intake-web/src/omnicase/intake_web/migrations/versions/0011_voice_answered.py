"""intake-web: who answered a call and when (an agent dialled from the queue).

Revision ID: 0011
Revises: 0010
"""

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

SCHEMA = "intake_web"


def upgrade() -> None:
    op.add_column("voice_calls", sa.Column("answered_by", sa.Uuid), schema=SCHEMA)
    op.add_column("voice_calls", sa.Column("answered_at", sa.DateTime(timezone=True)), schema=SCHEMA)


def downgrade() -> None:
    op.drop_column("voice_calls", "answered_at", schema=SCHEMA)
    op.drop_column("voice_calls", "answered_by", schema=SCHEMA)
