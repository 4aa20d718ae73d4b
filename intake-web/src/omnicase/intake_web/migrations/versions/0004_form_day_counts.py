"""intake-web: per-form daily counters of accepted submissions (the daily cap without a COUNT).

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

SCHEMA = "intake_web"


def upgrade() -> None:
    op.create_table(
        "form_day_counts",
        sa.Column("form_id", sa.Uuid, nullable=False),
        sa.Column("day", sa.Date, nullable=False),
        sa.Column("accepted", sa.Integer, nullable=False),
        sa.PrimaryKeyConstraint("form_id", "day", name="pk_form_day_counts"),
        schema=SCHEMA,
    )
    # Today's (and yesterday's) submissions so far, so the cap holds across the upgrade.
    op.execute(
        f"""
        INSERT INTO {SCHEMA}.form_day_counts (form_id, day, accepted)
        SELECT form_id, (received_at AT TIME ZONE 'UTC')::date, count(*)
        FROM {SCHEMA}.inbound_messages
        WHERE form_id IS NOT NULL AND received_at >= date_trunc('day', now() AT TIME ZONE 'UTC') - interval '1 day'
        GROUP BY 1, 2
        """
    )


def downgrade() -> None:
    op.drop_table("form_day_counts", schema=SCHEMA)
