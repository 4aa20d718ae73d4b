"""collaboration: cases are read through case-core's API and SLA due times through sla-engine's,
so the projection of case.events and sla.events (cases, case_sla) goes, with swarms' foreign key to it.

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

S = "collaboration"


def upgrade() -> None:
    op.drop_constraint("fk_swarms_case_id_cases", "swarms", schema=S, type_="foreignkey")
    op.drop_table("case_sla", schema=S)
    op.drop_index("ix_cases_solved_by", table_name="cases", schema=S)
    op.drop_table("cases", schema=S)


def downgrade() -> None:
    # The tables come back empty (the projection's consumer rebuilds them from the topics) and
    # without swarms' foreign key, which their swarms' cases would break until it has.
    op.create_table(
        "cases",
        sa.Column("id", sa.Uuid),
        sa.Column("number", sa.Integer, nullable=False),
        sa.Column("subject", sa.String(1000), nullable=False),
        sa.Column("description", sa.Text, nullable=False, server_default=""),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("priority", sa.String(16), nullable=False),
        sa.Column("assignee_id", sa.Uuid, nullable=True),
        sa.Column("group_id", sa.Uuid, nullable=True),
        sa.Column("requester_id", sa.Uuid, nullable=True),
        sa.Column("brand", sa.String(100), nullable=True),
        sa.Column("language", sa.String(35), nullable=True),
        sa.Column("version", sa.Integer, nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("solved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("solved_by", sa.Uuid, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cases"),
        schema=S,
    )
    op.create_index("ix_cases_solved_by", "cases", ["solved_by"], schema=S)
    op.create_table(
        "case_sla",
        sa.Column("case_id", sa.Uuid),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name="pk_case_sla"),
        schema=S,
    )
