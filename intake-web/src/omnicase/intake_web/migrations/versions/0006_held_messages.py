"""intake-web: submissions held as spam, handed to case-core's suspended-messages queue.

Revision ID: 0006
Revises: 0005
"""

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

S = "intake_web"


def upgrade() -> None:
    op.add_column("inbound_messages", sa.Column("hold_reason", sa.String(20), nullable=True), schema=S)
    op.add_column("inbound_messages", sa.Column("hold_detail", sa.Text(), nullable=True), schema=S)
    op.create_index(
        "ix_inbound_messages_held_unacknowledged",
        "inbound_messages",
        ["last_published_at"],
        schema=S,
        postgresql_where=sa.text("status = 'held' AND acknowledged_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_inbound_messages_held_unacknowledged", table_name="inbound_messages", schema=S)
    op.drop_column("inbound_messages", "hold_detail", schema=S)
    op.drop_column("inbound_messages", "hold_reason", schema=S)
