"""intake-email: held messages (dropped as noise or loops, suspended senders) go to case-core's queue.

Messages held before this revision get their reason from the words they were stored
with, and are handed to case-core by the republisher like any unacknowledged one.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "intake_email"


def upgrade() -> None:
    op.add_column("raw_messages", sa.Column("hold_reason", sa.String(20), nullable=True), schema=S)
    op.execute(
        f"""
UPDATE {S}.raw_messages SET hold_reason = CASE
    WHEN status = 'suspended' THEN 'sender_suspended'
    WHEN reason LIKE 'sent from this system''s own address%' THEN 'mail_loop'
    ELSE 'noise' END
WHERE status = 'suspended' OR (status = 'dropped' AND reason NOT LIKE 'mailbox verification message%')"""
    )
    op.create_index(
        "ix_raw_messages_held_unacknowledged",
        "raw_messages",
        ["last_published_at"],
        schema=S,
        postgresql_where=sa.text("hold_reason IS NOT NULL AND acknowledged_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_raw_messages_held_unacknowledged", table_name="raw_messages", schema=S)
    op.drop_column("raw_messages", "hold_reason", schema=S)
