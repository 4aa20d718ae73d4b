"""collaboration: the next SLA due time of each case (from sla.events), for Slack summaries.

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

S = "collaboration"


def upgrade() -> None:
    op.create_table(
        "case_sla",
        sa.Column("case_id", sa.Uuid),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_sla"),
        schema=S,
    )


def downgrade() -> None:
    op.drop_table("case_sla", schema=S)
