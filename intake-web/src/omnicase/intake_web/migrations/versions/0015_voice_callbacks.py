"""intake-web: callbacks (issue 25): a call whose caller left a voicemail or pressed 1 on hold asks to be
called back; its case is tagged once case-core confirmed it, and an answered click-to-call from that case
completes it.

Revision ID: 0015
Revises: 0014
"""

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

SCHEMA = "intake_web"


def upgrade() -> None:
    op.add_column("voice_calls", sa.Column("callback_requested_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    op.add_column(
        "voice_calls",
        sa.Column("callback_tagged", sa.Boolean, nullable=False, server_default=sa.false()),
        schema=SCHEMA,
    )
    op.add_column("voice_calls", sa.Column("callback_completed_at", sa.DateTime(timezone=True)), schema=SCHEMA)
    op.add_column("voice_calls", sa.Column("callback_completed_by", sa.Uuid), schema=SCHEMA)
    op.create_index("ix_voice_calls_intake_id", "voice_calls", ["intake_id"], schema=SCHEMA)
    op.create_index(
        "ix_voice_calls_open_callbacks",
        "voice_calls",
        ["intake_id"],
        schema=SCHEMA,
        postgresql_where=sa.text("callback_requested_at IS NOT NULL AND callback_completed_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index("ix_voice_calls_open_callbacks", "voice_calls", schema=SCHEMA)
    op.drop_index("ix_voice_calls_intake_id", "voice_calls", schema=SCHEMA)
    for column in ("callback_completed_by", "callback_completed_at", "callback_tagged", "callback_requested_at"):
        op.drop_column("voice_calls", column, schema=SCHEMA)
